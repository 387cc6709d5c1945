// npm run bench: every operation of the embedded backends at 1,000 / 10,000 / 100,000 keys of
// ~200-byte values, each against a floor measured in the same run; then the server backends
// (bench/postgres.mjs, bench/redis.mjs) when their servers are reachable.
// Prints a table and writes bench/results.json. Ratios matter, not absolute numbers.
import { mkdtempSync, rmSync, statSync, openSync, writeSync, fdatasyncSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { registry, require, root, SIZES, valueFor, keyFor, rate, rateConcurrent, once, pseudoRandom, Results } from './lib.mjs';

const results = new Results();
const { openRegistry } = registry;
const initSqlJs = require('sql.js');
const SQL = await initSqlJs({ locateFile: () => path.join(root, 'dist', 'sql-wasm.wasm') });
let Better;
try {
  Better = require('better-sqlite3');
  new Better(':memory:').close();
} catch (err) {
  results.note(`better-sqlite3 (the native reference) is missing: ${String(err.message).split('\n')[0]}. It is an optional dependency (version 12; 13 crashes on Node 20); install a compiler toolchain and run npm install to get those rows.`);
  Better = undefined;
}

const work = mkdtempSync(path.join(tmpdir(), 'nautilus-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function entries(n) {
  return Array.from({ length: n }, (_, i) => ({ key: keyFor(i), value: valueFor(i) }));
}

/** A raw sql.js database with the same rows, for the floors. */
function rawSqlJs(data) {
  const db = new SQL.Database();
  // The backend's own schema and page cache, so the floor is the same work without the registry around it.
  db.run('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -2000; CREATE TABLE registry(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER) WITHOUT ROWID');
  const ins = db.prepare('INSERT INTO registry(key, value) VALUES (?, ?)');
  db.run('BEGIN');
  for (const e of data) {ins.run([e.key, e.value]);}
  db.run('COMMIT');
  ins.free();
  return db;
}

/** The raw durability floor: append a record of the same size and fdatasync, one at a time. */
function rawAppendSync(bytes, minMs = 300) {
  const file = path.join(work, `append-${bytes}.log`);
  const fd = openSync(file, 'a');
  const buf = Buffer.alloc(bytes, 120);
  const t0 = performance.now();
  let n = 0;
  while (n < 20 || performance.now() - t0 < minMs) {
    writeSync(fd, buf);
    fdatasyncSync(fd);
    n++;
  }
  const r = (n * 1000) / (performance.now() - t0);
  closeSync(fd);
  return r;
}

async function benchSqlite(n) {
  const data = entries(n);
  const file = path.join(work, `registry-${n}.sqlite`);
  let reg = await openRegistry({ backend: 'sqlite', file });
  const raw = rawSqlJs([]);

  // storeMany (durable) vs raw sql.js inserts in one transaction (in memory, not durable)
  const tMany = await once(() => reg.storeMany(data));
  const rawIns = raw.prepare('INSERT INTO registry(key, value) VALUES (?, ?)');
  const tRaw = await once(() => {
    raw.run('BEGIN');
    for (const e of data) {rawIns.run([e.key, e.value]);}
    raw.run('COMMIT');
  });
  rawIns.free();
  results.add('sqlite', 'storeMany (durable)', n, (n * 1000) / tMany, (n * 1000) / tRaw, 'raw sql.js txn');

  // Open time: close (which compacts the bulk load into the database file) and open again, vs raw
  // sql.js loading the same file. Measuring the single stores below on the reopened registry keeps
  // them from racing the background compaction of the bulk load (steady-state cost).
  await reg.close();
  const tOpen = await once(async () => {
    reg = await openRegistry({ backend: 'sqlite', file });
    await reg.count();
  });
  const tRawOpen = await once(() => new SQL.Database(readFileSync(file)).close());
  results.add('sqlite', 'open', n, 1000 / tOpen, 1000 / tRawOpen, 'raw sql.js load', 'opens/s');
  const size = statSync(file).size;

  // durable single stores
  const recordBytes = Buffer.byteLength(keyFor(0) + valueFor(0)) + 32;
  const appendFloor = rawAppendSync(recordBytes);
  const seq = await rate((i) => reg.store(`bench/new/s${i}`, valueFor(i)), { minMs: 400, minOps: 30 });
  results.add('sqlite', 'store (durable, 1 at a time)', n, seq, appendFloor, 'append+fdatasync');
  const par = await rateConcurrent((i) => reg.store(`bench/new/p${i}`, valueFor(i)), 3000, 64);
  results.add('sqlite', 'store (durable, 64 in flight)', n, par, seq, 'sequential store');

  // point reads
  const rnd = pseudoRandom(n);
  const pick = () => keyFor(Math.floor(rnd() * n));
  const sel = raw.prepare('SELECT value, expires_at FROM registry WHERE key = ?');
  const rawGet = await rate(() => {
    sel.bind([pick()]);
    if (sel.step()) {sel.get();}
    sel.reset();
  }, { minMs: 300, minOps: 1000 });
  const get = await rate(() => reg.retrieve(pick()), { minMs: 300, minOps: 1000 });
  results.add('sqlite', 'retrieve', n, get, rawGet, 'raw sql.js stmt');
  const has = await rate(() => reg.contains(pick()), { minMs: 300, minOps: 1000 });
  results.add('sqlite', 'contains', n, has, rawGet, 'raw sql.js stmt');
  sel.free();

  // a list page of 100 at a random position
  const page = raw.prepare('SELECT key FROM registry WHERE key > ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT 101');
  const rawPage = await rate(() => {
    page.bind([pick(), Date.now()]);
    while (page.step()) {page.get();}
    page.reset();
  }, { minMs: 300, minOps: 200 });
  const listPage = await rate(() => reg.list({ after: pick(), limit: 100 }), { minMs: 300, minOps: 200 });
  results.add('sqlite', 'list page (100)', n, listPage, rawPage, 'raw sql.js stmt');
  page.free();

  // children of a folder holding n keys in 50 sub-folders: 50 seeks
  const seek = raw.prepare('SELECT key FROM registry WHERE key >= ? AND key < ? ORDER BY key LIMIT 1');
  const rawChildren = await rate(() => {
    let from = 'bench/';
    for (;;) {
      seek.bind([from, 'bench0']);
      if (!seek.step()) {break;}
      const k = seek.get()[0];
      seek.reset();
      const slash = k.indexOf('/', 6);
      from = k.slice(0, slash) + '0';
    }
    seek.reset();
  }, { minMs: 1000, minOps: 20 });
  const ch = await rate(() => reg.children('bench/', '/', { limit: 100 }), { minMs: 1000, minOps: 20 });
  results.add('sqlite', 'children (50 folders)', n, ch, rawChildren, 'raw sql.js seeks');
  seek.free();
  raw.close();

  await reg.close();

  if (Better) {
    const bfile = path.join(work, `better-${n}.sqlite`);
    const db = new Better(bfile);
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE registry(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)');
    const ins = db.prepare('INSERT INTO registry(key, value) VALUES (?, ?)');
    const tb = await once(() => db.transaction(() => data.forEach((e) => ins.run(e.key, e.value)))());
    results.add('better-sqlite3', 'storeMany (native ref.)', n, (n * 1000) / tb);
    const one = db.prepare('INSERT OR REPLACE INTO registry(key, value) VALUES (?, ?)');
    results.add('better-sqlite3', 'store (FULL sync, native)', n, await rate((i) => one.run(`bench/new/s${i}`, valueFor(i)), { minMs: 300 }));
    const bget = db.prepare('SELECT value FROM registry WHERE key = ?');
    results.add('better-sqlite3', 'retrieve (native ref.)', n, await rate(() => bget.get(pick()), { minMs: 300, minOps: 1000 }));
    db.close();
  }
  return { file, size };
}

async function benchMemory(n) {
  const data = entries(n);
  const reg = await openRegistry({ backend: 'memory' });
  const map = new Map();
  const tRaw = await once(() => data.forEach((e) => map.set(e.key, e.value)));
  const t = await once(() => reg.storeMany(data));
  results.add('memory', 'storeMany', n, (n * 1000) / t, (n * 1000) / tRaw, 'Map.set');
  const rnd = pseudoRandom(n);
  const pick = () => keyFor(Math.floor(rnd() * n));
  const floor = await rate(() => map.get(pick()), { minMs: 200, minOps: 10000 });
  results.add('memory', 'retrieve', n, await rate(() => reg.retrieve(pick()), { minMs: 200, minOps: 10000 }), floor, 'Map.get');
  results.add('memory', 'list page (100)', n, await rate(() => reg.list({ after: pick(), limit: 100 }), { minMs: 200, minOps: 200 }));
  results.add('memory', 'children (50 folders)', n, await rate(() => reg.children('bench/', '/', { limit: 100 }), { minMs: 200, minOps: 20 }));
  await reg.close();
}

/** Memory a 100,000-key sqlite registry holds once open, measured in a clean child process. */
function memoryHeld(file, size) {
  const script = `
    const { openRegistry } = require(${JSON.stringify(path.join(root, 'dist', 'registry.js'))});
    const use = () => { global.gc(); const m = process.memoryUsage(); return m.rss; };
    (async () => {
      const before = use();
      const reg = await openRegistry({ backend: 'sqlite', file: ${JSON.stringify(file)} });
      await reg.count();
      const after = use();
      console.log(JSON.stringify({ bytes: after - before }));
      await reg.close();
    })();`;
  const out = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  const m = /\{.*\}/.exec(out.stdout);
  if (!m) {
    results.note(`memory measurement failed: ${out.stderr.slice(0, 300)}`);
    return;
  }
  const { bytes } = JSON.parse(m[0]);
  results.add('sqlite', 'memory held when open', 100000, bytes / 2 ** 20, size / 2 ** 20, 'file size', 'MiB');
}

console.log(`Nautilus Registry benchmark — sizes ${SIZES.join(', ')}; ${new Date().toISOString()}\n`);
let last;
for (const n of SIZES) {
  last = await benchSqlite(n);
  await benchMemory(n);
}
if (last && SIZES.includes(100000)) {memoryHeld(last.file, last.size);}

// The sqlite engine in its worker thread at 100,000 and 1,000,000 keys (bench/worker.mjs); the
// browser build in Chromium against the Node build (bench/web.mjs).
for (const server of ['worker', 'postgres', 'redis', 'web']) {
  const script = path.join(root, 'bench', `${server}.mjs`);
  if (!existsSync(script)) {continue;}
  const mod = await import(script);
  if (typeof mod.run === 'function') {
    await mod.run(results, SIZES);
  }
}

// The extension: the .vsix size, and the time from the extension starting to open a 100,050-key
// sqlite registry to the first tree children in a real VS Code (code-server, installed into
// .vscode-test/ by the harness on first use; the extension-host test named "measurement"), against
// the floor of opening the same file with dist/registry.js and calling children() directly.
// BENCH_SKIP_VSCODE=1 leaves these rows out on purpose. Otherwise a row that cannot be measured fails
// the benchmark (exit 1, results.json left as it was): a benchmark never drops a row quietly.
const missingRows = [];
if (process.env.BENCH_SKIP_VSCODE !== '1') {
  console.log('\nextension rows: the extension-host measurement in code-server');
  try {
    // Visible here (runHostTests would install it too, with its output captured below).
    const { ensureRuntime } = await import('../test/harness/install.mjs');
    ensureRuntime();
  } catch (err) {
    missingRows.push(`extension "open → first tree children": installing code-server failed: ${err instanceof Error ? err.message : err}`);
  }
  // BENCH_SKIP_1M=1 leaves the 1,000,000-key size out on purpose (it says so in the notes).
  const fixture1m = process.env.BENCH_SKIP_1M === '1' ? undefined : await (await import('./worker.mjs')).fixture(1000000);
  const host = missingRows.length ? undefined : spawnSync(process.execPath, [path.join(root, 'test', 'harness', 'runHostTests.mjs'), '--grep', 'measurement'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 900_000,
    env: { ...process.env, ...(fixture1m ? { NAUTILUS_BENCH_FIXTURE_1M: fixture1m } : {}) },
  });
  const hostTail = () => `${host?.stdout ?? ''}${host?.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
  const hostWhy = () => (host?.error ? host.error.message : `exit ${host?.status ?? host?.signal}`);
  const m = host && /first children of ([\d,]+) keys: extension ([\d.]+) ms, floor ([\d.]+) ms, ratio [\d.]+ \(median of (\d+)\)/.exec(host.stdout ?? '');
  if (m && host.status === 0) {
    const n = Number(m[1].replace(/,/g, ''));
    results.add('extension', 'open → first tree children', n, Number(m[2]), Number(m[3]), 'dist/registry.js + children()', 'ms');
    results.note(`extension: first tree children of ${m[1]} keys in ${m[2]} ms (floor ${m[3]} ms), median of ${m[4]} in a real VS Code`);
    results.note(`target: first tree children in a real VS Code at ${m[1]} keys: ${(Number(m[2]) / Number(m[3])).toFixed(2)}x dist/registry.js opened and asked directly (target <= 1.5x)`);
  } else if (host) {
    missingRows.push(`extension "open → first tree children": runHostTests.mjs --grep measurement (${hostWhy()}):\n${hostTail()}`);
  }
  if (fixture1m && host) {
    const m1 = /first children of 1,000,000 keys from the extension starting to open: (\d+) ms, longest extension-host pause (\d+) ms/.exec(host.stdout ?? '');
    if (m1 && host.status === 0) {
      results.add('extension', 'open → first tree children', 1000000, Number(m1[1]), undefined, undefined, 'ms');
      results.add('extension', 'open: longest host pause', 1000000, Number(m1[2]), undefined, undefined, 'ms');
      results.note(`target: first tree children of 1,000,000 keys in a real VS Code, from the extension starting to open: ${m1[1]} ms (target <= 1 s); longest extension-host pause meanwhile ${m1[2]} ms`);
    } else {
      missingRows.push(`extension "open → first tree children" at 1,000,000 keys: runHostTests.mjs --grep measurement (${hostWhy()}):\n${hostTail()}`);
    }
  } else if (!fixture1m) {
    results.note('extension row at 1,000,000 keys left out: BENCH_SKIP_1M=1');
  }
  const vsixFile = path.join(work, 'nautilus-registry.vsix');
  const pack = spawnSync(process.execPath, [path.join(root, 'scripts', 'packageVsix.mjs'), '--out', vsixFile], { cwd: root, encoding: 'utf8' });
  if (pack.status === 0 && existsSync(vsixFile)) {
    results.add('extension', '.vsix size', 1, statSync(vsixFile).size / 1024, undefined, undefined, 'KiB');
  } else {
    missingRows.push(`extension ".vsix size": packaging failed:\n${(pack.stderr || pack.stdout || '').trim().split('\n').slice(-15).join('\n')}`);
  }
  // packageVsix leaves the production build in dist/: put the development build back.
  spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root });
} else {
  results.note('extension rows left out: BENCH_SKIP_VSCODE=1');
}

// The targets the issues set, computed from this run.
function rowOf(backend, operation, n) {
  return results.rows.find((r) => r.backend === backend && r.operation === operation && r.n === n);
}
const targets = [];
const lo = Math.min(...SIZES);
const hi = Math.max(...SIZES);
const pair = (backend, op) => [rowOf(backend, op, lo), rowOf(backend, op, hi)];
{
  const [a, b] = pair('sqlite', 'store (durable, 1 at a time)');
  if (a && b) {targets.push(`sqlite durable store at ${hi} keys costs ${(a.opsPerSec / b.opsPerSec).toFixed(2)}x its cost at ${lo} (target <= 1.5x)`);}
  const p = rowOf('sqlite', 'store (durable, 64 in flight)', hi);
  if (p) {targets.push(`sqlite 64-in-flight durable stores: ${p.ratioToFloor}x sequential throughput at ${hi} keys (target >= 10x)`);}
  const g = rowOf('sqlite', 'retrieve', hi);
  if (g) {targets.push(`sqlite retrieve: ${Math.round(g.ratioToFloor * 100)}% of raw sql.js statements at ${hi} keys (target >= 50%)`);}
  for (const backend of ['sqlite', 'postgres', 'redis']) {
    const [c1, c2] = pair(backend, 'children (50 folders)');
    if (c1 && c2) {targets.push(`${backend} children at ${hi} keys costs ${(c1.opsPerSec / c2.opsPerSec).toFixed(2)}x its cost at ${lo} (target <= 2x)`);}
  }
}
for (const t of targets) {results.note(`target: ${t}`);}
if (missingRows.length) {
  console.log('\n' + results.markdown());
  console.error(`\nbench FAILED: ${missingRows.length} row(s) could not be measured; bench/results.json is left as it was.\n\n${missingRows.join('\n\n')}\n\n(BENCH_SKIP_VSCODE=1 leaves the extension rows out on purpose.)`);
  process.exit(1);
}
results.write();
console.log('\n' + results.markdown());
