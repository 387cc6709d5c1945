// The sqlite engine in its worker thread (issue 9), at 100,000 and 1,000,000 keys:
// - the longest pause of the main thread's event loop while opening, and during 20 s of durable
//   single stores with compactions (perf_hooks.monitorEventLoopDelay and the longest gap between
//   10 ms ticks), against the same with the engine on the main thread (thread: 'inline');
// - a children page and a 200-key retrieveMany through the worker, against in-thread sql.js;
// - durable single stores through the worker, against the raw append+fdatasync floor;
// - memory held while open, against the file size.
// Each measurement runs in a fresh child process. The fixtures (generated directly with sql.js,
// in one transaction) are cached in bench/.cache/ (gitignored). BENCH_SKIP_1M=1 leaves out the
// 1,000,000-key size (CI); BENCH_STORM_MS sets the storm length (default 20000). During the storm a
// control process ticks every 10 ms: its longest pause is the machine's noise at the same moments.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, require, keyFor, valueFor } from './lib.mjs';

const cacheDir = path.join(root, 'bench', '.cache');
const STORM_MS = Number(process.env.BENCH_STORM_MS ?? 20000);

/** A registry file of n keys (the bench's keys and ~200-byte values), built once and cached. */
export async function fixture(n) {
  const file = path.join(cacheDir, `registry-${n}.sqlite`);
  if (existsSync(file)) {
    return file;
  }
  mkdirSync(cacheDir, { recursive: true });
  const t0 = performance.now();
  const initSqlJs = require('sql.js');
  const SQL = await initSqlJs({ locateFile: () => path.join(root, 'dist', 'sql-wasm.wasm') });
  const db = new SQL.Database();
  // The backend's schema (sqlite.ts); a database without a journal opens as a clean one.
  db.run(`PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
    CREATE TABLE registry(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER) WITHOUT ROWID;
    CREATE INDEX registry_expires ON registry(expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE nautilus_meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`);
  const id = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  db.run("INSERT INTO nautilus_meta VALUES ('db_id', ?), ('journal_seq', '0')", [id]);
  const keys = Array.from({ length: n }, (_, i) => i).sort((a, b) => (keyFor(a) < keyFor(b) ? -1 : 1));
  const ins = db.prepare('INSERT INTO registry(key, value) VALUES (?, ?)');
  db.run('BEGIN');
  for (const i of keys) {
    ins.run([keyFor(i), valueFor(i)]);
  }
  db.run('COMMIT');
  ins.free();
  const image = db.export();
  db.close();
  writeFileSync(file + '.tmp', image);
  renameSync(file + '.tmp', file);
  console.log(`built the ${n.toLocaleString('en-US')}-key fixture (${(image.length / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return file;
}

/** Runs `body` (an async function body using openRegistry, file, pause(), report()) in a fresh Node process. */
function child(body, file, { timeout = 300_000 } = {}) {
  const script = `
    const { openRegistry } = require(${JSON.stringify(path.join(root, 'dist', 'registry.js'))});
    const { monitorEventLoopDelay } = require('node:perf_hooks');
    const file = ${JSON.stringify(file)};
    /** Watches the main thread: the longest gap between 10 ms ticks and the event-loop delay histogram. */
    function pause() {
      const h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
      let last = performance.now();
      let gap = 0;
      const tick = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now; }, 10);
      return () => { clearInterval(tick); h.disable(); const now = performance.now(); gap = Math.max(gap, now - last);
        return { gapMs: gap - 10, delayMs: h.max / 1e6 }; };
    }
    const report = (x) => console.log('RESULT ' + JSON.stringify(x));
    (async () => { ${body} })().then(() => process.exit(0), (e) => { console.error(e && e.stack || String(e)); process.exit(1); });`;
  const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout, maxBuffer: 1 << 26 });
  const line = (res.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    throw new Error(`bench child failed: ${(res.stderr || res.stdout || String(res.error)).slice(-600)}`);
  }
  return JSON.parse(line.slice(7));
}

/** A private copy of the fixture (the runs write to it). */
function copyOf(file, work) {
  const to = path.join(work, path.basename(file));
  rmSync(to, { force: true });
  rmSync(to + '.nautilus-log', { force: true });
  copyFileSync(file, to);
  return to;
}

function copyOf2(file, work) {
  const dir = path.join(work, 'second');
  mkdirSync(dir, { recursive: true });
  return copyOf(file, dir);
}

/** Opens the registry and asks for the first children page; the main thread is watched meanwhile. */
function measureOpen(file, thread) {
  return child(
    `
    const idle = pause();
    await new Promise((res) => setTimeout(res, 1000));
    const idleGapMs = idle().gapMs;
    const stop = pause();
    const t0 = performance.now();
    const r = await openRegistry({ backend: 'sqlite', file, thread: '${thread}' });
    const page = await r.children('', '/', { limit: 200 });
    const firstMs = performance.now() - t0;
    // Long enough for the integrity check that follows the first reads (~1 s at 1,000,000 keys).
    await new Promise((res) => setTimeout(res, 2500));
    const p = stop();
    await r.close();
    report({ firstMs, items: page.items.length, idleGapMs, ...p });`,
    file,
  );
}

function measureStorm(file, thread) {
  return child(
    `
    let compactions = 0;
    const logger = { info: (m) => { if (m.startsWith('Compacted')) compactions++; }, warn: () => {}, error: () => {} };
    const r = await openRegistry({ backend: 'sqlite', file, thread: '${thread}', compactBytes: 1024 * 1024, logger });
    await r.count();
    await r.store('storm/first', 'waits for the integrity check');
    const idle = pause();
    await new Promise((res) => setTimeout(res, 3000));
    const idleGapMs = idle().gapMs;
    // A control process ticks every 10 ms during the storm: a pause it sees too is the machine's.
    const control = require('node:child_process').spawn(process.execPath, ['-e', \`let last = performance.now(), gap = 0;
      const t = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now; }, 10);
      process.on('message', () => { clearInterval(t); process.send(gap - 10); });\`], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((res) => setTimeout(res, 300));
    const stop = pause();
    const t0 = performance.now();
    let n = 0;
    const value = ${JSON.stringify(valueFor(7))};
    while (performance.now() - t0 < ${STORM_MS}) { await r.store('storm/k' + (n % 5000), value + n); n++; }
    const p = stop();
    const elapsed = performance.now() - t0;
    const controlGapMs = await new Promise((res) => { control.once('message', res); control.send('stop'); });
    control.kill();
    await r.close();
    report({ stores: n, perSec: n * 1000 / elapsed, compactions, idleGapMs, controlGapMs, ...p });`,
    file,
    { timeout: STORM_MS + 240_000 },
  );
}

/**
 * children of a 50-folder level, a 200-key retrieveMany and durable single stores, through the
 * worker and in-thread (two copies of the fixture, both open), plus the raw append+fdatasync floor:
 * measured in alternating 250 ms windows, so that the noise of a shared machine hits every side alike.
 */
function measureCalls(file, file2, n) {
  return child(
    `
    const keyFor = ${keyFor.toString()};
    const valueFor = ${valueFor.toString()};
    let s = 42; const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    const batch = () => Array.from({ length: 200 }, () => keyFor(Math.floor(rnd() * ${n})));
    const engines = { inline: await openRegistry({ backend: 'sqlite', file, thread: 'inline' }), worker: await openRegistry({ backend: 'sqlite', file: ${JSON.stringify(file2)} }) };
    for (const r of Object.values(engines)) await r.count();
    const fs = require('node:fs');
    const log = file + '.append-floor';
    const fd = fs.openSync(log, 'a');
    const buf = Buffer.alloc(Buffer.byteLength(keyFor(0) + valueFor(0)) + 32, 120);
    // The floor of any call through a worker: an empty message to a thread that only echoes it; and
    // of a durable store through a worker: a message to a thread that appends and fdatasyncs (as the
    // floor does, to a file of its own) before it echoes, with no database work at all.
    const { Worker } = require('node:worker_threads');
    const echo = new Worker(\`const { parentPort, workerData } = require('node:worker_threads'); const fs = require('node:fs');
      const fd = fs.openSync(workerData.log, 'a'); const buf = Buffer.alloc(workerData.bytes, 120);
      parentPort.on('message', (m) => { if (m.sync) { fs.writeSync(fd, buf); fs.fdatasyncSync(fd); } parentPort.postMessage(m); });\`,
      { eval: true, workerData: { log: log + '.thread', bytes: buf.length } });
    let echoId = 0;
    const roundTrip = (sync) => new Promise((resolve) => { echo.once('message', resolve); echo.postMessage({ t: 'call', id: echoId++, sync }); });
    const bareRoundTrip = () => roundTrip(false);
    await bareRoundTrip();
    const ops = {
      children: (r) => r.children('bench/', '/', { limit: 100 }),
      many: (r) => r.retrieveMany(batch()),
      store: (r, i) => r.store('bench/new/s' + i, valueFor(i)),
    };
    const count = {};
    const time = {};
    const window = async (name, op) => { const t0 = performance.now(); let k = 0;
      while (performance.now() - t0 < 250) { await op(k++); } count[name] = (count[name] ?? 0) + k; time[name] = (time[name] ?? 0) + performance.now() - t0; };
    for (let round = 0; round < 8; round++) {
      for (const [op, fn] of Object.entries(ops)) {
        for (const thread of round % 2 ? ['inline', 'worker'] : ['worker', 'inline']) {
          await window(op + '.' + thread, (i) => fn(engines[thread], round * 100000 + i));
        }
      }
      await window('floor', () => { fs.writeSync(fd, buf); fs.fdatasyncSync(fd); });
      await window('hop', bareRoundTrip);
      await window('hopSync', () => roundTrip(true));
    }
    await echo.terminate();
    fs.closeSync(fd); fs.rmSync(log); fs.rmSync(log + '.thread');
    for (const r of Object.values(engines)) await r.close();
    const rate = (k) => count[k] * 1000 / time[k];
    report({ inline: { children: rate('children.inline'), many: rate('many.inline'), store: rate('store.inline') },
      worker: { children: rate('children.worker'), many: rate('many.worker'), store: rate('store.worker') }, appendFloor: rate('floor'), hop: rate('hop'), hopSync: rate('hopSync') });`,
    file,
  );
}

function measureMemory(file) {
  return child(
    `
    const use = () => { global.gc(); return process.memoryUsage().rss; };
    const before = use();
    const r = await openRegistry({ backend: 'sqlite', file });
    await r.count();
    await new Promise((res) => setTimeout(res, 2000)); // the worker lets go of what the open read and no longer needs (the journal)
    const after = use();
    await r.close();
    report({ bytes: after - before });`,
    file,
  );
}

export async function run(results, sizes) {
  const wanted = [...new Set([...sizes.filter((n) => n >= 100000), 100000, ...(process.env.BENCH_SKIP_1M === '1' ? [] : [1000000])])].sort((a, b) => a - b);
  if (process.env.BENCH_SKIP_1M === '1') {
    results.note('worker: the 1,000,000-key rows were skipped (BENCH_SKIP_1M=1)');
  }
  const work = mkdtempSync(path.join(tmpdir(), 'nautilus-bench-worker-'));
  try {
    for (const n of wanted) {
      const cached = await fixture(n);
      const size = statSync(cached).size;
      const calls = measureCalls(copyOf(cached, work), copyOf2(cached, work), n);
      results.add('sqlite', 'children page via worker', n, calls.worker.children, calls.inline.children, 'in-thread sql.js');
      results.add('sqlite', 'retrieveMany(200) via worker', n, calls.worker.many, calls.inline.many, 'in-thread sql.js');
      results.add('sqlite', 'store (durable) via worker', n, calls.worker.store, calls.appendFloor, 'append+fdatasync');
      results.add('sqlite', 'store (durable) in-thread', n, calls.inline.store, calls.appendFloor, 'append+fdatasync');
      results.add('sqlite', 'bare thread round trip', n, calls.hop, undefined, undefined, 'round trips/s');
      results.add('sqlite', 'thread round trip + append+fdatasync', n, calls.hopSync, calls.appendFloor, 'append+fdatasync');
      const us = (perSec) => 1e6 / perSec;
      results.note(
        `worker: at ${n.toLocaleString('en-US')} keys a call through the worker costs more than in-thread by: children page ${(us(calls.worker.children) - us(calls.inline.children)).toFixed(0)} µs` +
          ` (in-thread ${us(calls.inline.children).toFixed(0)} µs), 200-key retrieveMany ${(us(calls.worker.many) - us(calls.inline.many)).toFixed(0)} µs (in-thread ${us(calls.inline.many).toFixed(0)} µs),` +
          ` durable store ${(us(calls.worker.store) - us(calls.inline.store)).toFixed(0)} µs; an empty message to a thread and back costs ${us(calls.hop).toFixed(0)} µs in the same windows.` +
          ` 1.5x needs an in-thread call of at least 2x that round trip; a durable store at 0.5x the floor (${us(calls.appendFloor).toFixed(0)} µs per append+fdatasync) leaves ${us(calls.appendFloor).toFixed(0)} µs for the round trip and the engine's work together.` +
          ` A message to a thread that appends, fdatasyncs and answers, with no database work, took ${us(calls.hopSync).toFixed(0)} µs (${(calls.hopSync / calls.appendFloor).toFixed(2)}x the floor): it leaves ${(2 * us(calls.appendFloor) - us(calls.hopSync)).toFixed(0)} µs for the engine's work on a store at 0.5x`,
      );

      const openInline = measureOpen(copyOf(cached, work), 'inline');
      const open = measureOpen(copyOf(cached, work), 'worker');
      results.add('sqlite', 'open: longest main pause', n, open.gapMs, openInline.gapMs, 'engine in-thread', 'ms');
      results.add('sqlite', 'open: event-loop delay max', n, open.delayMs, openInline.delayMs, 'engine in-thread', 'ms');
      results.add('sqlite', 'open → first children', n, open.firstMs, openInline.firstMs, 'engine in-thread', 'ms');
      results.note(`worker: machine noise at ${n.toLocaleString('en-US')} keys: the longest pause of the same idle event loop over 1 s before opening was ${open.idleGapMs.toFixed(0)} ms (worker run) and ${openInline.idleGapMs.toFixed(0)} ms (in-thread run)`);

      const stormInline = measureStorm(copyOf(cached, work), 'inline');
      const storm = measureStorm(copyOf(cached, work), 'worker');
      results.add('sqlite', `stores ${STORM_MS / 1000} s: longest pause`, n, storm.gapMs, stormInline.gapMs, 'engine in-thread', 'ms');
      results.add('sqlite', `stores ${STORM_MS / 1000} s: loop delay max`, n, storm.delayMs, stormInline.delayMs, 'engine in-thread', 'ms');
      results.note(
        `worker: ${n.toLocaleString('en-US')} keys, ${STORM_MS / 1000} s of durable stores: ${storm.stores} stores and ${storm.compactions} compactions through the worker` +
          ` (${stormInline.stores} stores, ${stormInline.compactions} compactions in-thread); machine noise: the same event loop idle for 3 s just before paused up to ${storm.idleGapMs.toFixed(0)} ms (worker run), ${stormInline.idleGapMs.toFixed(0)} ms (in-thread run);` +
          ` a control process ticking every 10 ms during the storm paused up to ${storm.controlGapMs.toFixed(0)} ms (worker run), ${stormInline.controlGapMs.toFixed(0)} ms (in-thread run)`,
      );

      const mem = measureMemory(copyOf(cached, work));
      results.add('sqlite', 'memory held when open', n, mem.bytes / 2 ** 20, size / 2 ** 20, 'file size', 'MiB');

      if (n === 1000000) {
        results.note(`target: longest main-thread pause opening ${n.toLocaleString('en-US')} keys: ${open.gapMs.toFixed(0)} ms (in-thread ${openInline.gapMs.toFixed(0)} ms; target <= 50 ms)`);
        results.note(`target: longest main-thread pause during ${STORM_MS / 1000} s of durable stores with compactions at ${n.toLocaleString('en-US')} keys: ${storm.gapMs.toFixed(0)} ms (in-thread ${stormInline.gapMs.toFixed(0)} ms; target <= 50 ms)`);
        results.note(`target: memory while open at ${n.toLocaleString('en-US')} keys: ${(mem.bytes / size).toFixed(2)}x the file size (target <= 2x)`);
      }
      results.note(`target: at ${n.toLocaleString('en-US')} keys through the worker: children page ${(calls.inline.children / calls.worker.children).toFixed(2)}x, 200-key retrieveMany ${(calls.inline.many / calls.worker.many).toFixed(2)}x the in-thread time (target <= 1.5x); durable single stores ${(calls.worker.store / calls.appendFloor).toFixed(2)}x the append+fdatasync floor (target >= 0.5x)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Run alone: node bench/worker.mjs (after npm run compile) prints the rows without touching results.json.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { Results, SIZES } = await import('./lib.mjs');
  const results = new Results();
  await run(results, SIZES);
  if (process.argv.includes('--write')) {
    results.write(path.join(root, 'bench', 'results-worker.json'));
  }
}
