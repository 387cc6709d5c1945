// Redis rows of `npm run bench` (bench/run.mjs imports run()); also runs alone: `node bench/redis.mjs`
// (after `npm run compile`). Server: NAUTILUS_BENCH_REDIS_URL, else NAUTILUS_TEST_REDIS_URL, else
// redis://127.0.0.1:6379; skipped with a note when unreachable. Every key lives under a fresh
// `nautilus-bench:<random>:` prefix that is deleted at the end.
//
// Each operation runs against a floor measured in the same run through a raw node-redis client:
// - the same work without the registry (SET / MGET / EXISTS, MULTI with the same commands);
// - for the design choice, the bare commands a registry without an index would send.
// Point operations alternate registry and floor in short bursts and report the median burst of
// each, so that load from other processes hits both sides alike; client CPU per call is reported
// too (it does not depend on the server's load). Ratios matter, not absolute numbers.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createClient } from 'redis';
import { registry, SIZES, valueFor, keyFor, rateConcurrent, once, Results } from './lib.mjs';

const url = process.env.NAUTILUS_BENCH_REDIS_URL || process.env.NAUTILUS_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const CHUNK = 1000;

function entries(n) {
  return Array.from({ length: n }, (_, i) => ({ key: keyFor(i), value: valueFor(i) }));
}

/** Client CPU (user + system, µs) per call of `op(i)`: what the registry adds in the caller's process, immune to server load. */
async function cpuPerOp(op, n = 3000) {
  for (let i = 0; i < 100; i++) {await op(i);}
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {await op(i);}
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/**
 * ops/s of `ours` and of `floor`, measured in alternating short bursts (`pairs` of each, `burst`
 * calls per burst, `inFlight` outstanding) and reported as the median burst of each side: on a
 * machine whose load changes from second to second both sides see the same conditions.
 */
async function paired(ours, floor, { pairs = 15, burst = 300, inFlight = 1 } = {}) {
  const a = [];
  const b = [];
  let base = 0;
  for (let p = 0; p < pairs; p++) {
    for (const [op, out] of [
      [ours, a],
      [floor, b],
    ]) {
      const start = base;
      out.push(await rateConcurrent((i) => op(start + i), burst, inFlight));
    }
    base += burst;
  }
  return [median(a), median(b)];
}

async function deleteUnder(raw, prefix) {
  const match = prefix.replace(/[*?[\]\\]/g, (c) => '\\' + c) + '*';
  let cursor = '0';
  do {
    const [next, keys] = await raw.sendCommand(['SCAN', cursor, 'MATCH', match, 'COUNT', '5000']);
    cursor = String(next);
    for (let i = 0; i < keys.length; i += CHUNK) {await raw.sendCommand(['UNLINK', ...keys.slice(i, i + CHUNK)]);}
  } while (cursor !== '0');
}

async function usedMemory(raw) {
  const info = String(await raw.sendCommand(['INFO', 'memory']));
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

/** Raw pipelined SET of every entry (the storeMany floor the issue names). */
async function rawPipelinedSet(raw, prefix, data) {
  const ps = [];
  for (const e of data) {ps.push(raw.sendCommand(['SET', prefix + e.key, e.value]));}
  await Promise.all(ps);
}

/** What storeMany sends, through the raw client: one MULTI with MSET and ZADD chunks. */
async function rawMultiIndexed(raw, prefix, data) {
  const m = raw.multi();
  for (let i = 0; i < data.length; i += CHUNK) {
    const part = data.slice(i, i + CHUNK);
    m.addCommand(['MSET', ...part.flatMap((e) => [prefix + e.key, e.value])]);
    m.addCommand(['ZADD', prefix + '\u0000index', ...part.flatMap((e) => ['0', e.key])]);
  }
  await m.exec();
}

async function benchSize(results, raw, rawBulk, base, n) {
  const { openRegistry } = registry;
  const data = entries(n);
  const kp = `${base}${n}:reg:`;
  const rawPrefix = `${base}${n}:raw:`;
  const reg = await openRegistry({ backend: 'redis', url, keyPrefix: kp });
  try {
    // storeMany: registry vs raw pipelined SET, and vs the same MULTI through the raw client.
    // Alternated twice, best of each, everything deleted in between (the registry's last, so it stays).
    let tMany = Infinity;
    let tSet = Infinity;
    let tMulti = Infinity;
    let memBytes = 0;
    for (let round = 0; round < 2; round++) {
      await deleteUnder(raw, `${base}${n}:`);
      tSet = Math.min(tSet, await once(() => rawPipelinedSet(rawBulk, rawPrefix, data)));
      await deleteUnder(raw, rawPrefix);
      tMulti = Math.min(tMulti, await once(() => rawMultiIndexed(rawBulk, rawPrefix, data)));
      await deleteUnder(raw, rawPrefix);
      const mem0 = await usedMemory(raw);
      tMany = Math.min(tMany, await once(() => reg.storeMany(data)));
      memBytes = (await usedMemory(raw)) - mem0;
    }
    results.add('redis', 'storeMany', n, (n * 1000) / tMany, (n * 1000) / tSet, 'raw pipelined SET');
    results.add('redis', 'storeMany (same MULTI raw)', n, (n * 1000) / tMany, (n * 1000) / tMulti, 'raw MULTI MSET+ZADD');
    const indexBytes = Number(await raw.sendCommand(['MEMORY', 'USAGE', kp + '\u0000index', 'SAMPLES', '0']));
    results.add('redis', 'index memory', n, indexBytes / 2 ** 20, memBytes / 2 ** 20, 'all memory the keys took', 'MiB');

    // point operations: paired bursts (ours, floor, ours, floor, …), median of each side
    const probe = (i) => keyFor((i * 7919) % n);
    const v = valueFor(1);
    const rawStore = (name) => (i) =>
      raw
        .multi()
        .addCommand(['SET', `${kp}new/${name}${i % 5000}`, v])
        .addCommand(['ZADD', kp + '\u0000index', '0', `new/${name}${i % 5000}`])
        .addCommand(['PUBLISH', 'nautilus-registry:changes:0', JSON.stringify({ w: 'x', p: kp, op: 'store', k: [`${kp}new/${name}${i % 5000}`] })])
        .exec();
    let [a, b] = await paired((i) => reg.store(`new/s${i % 5000}`, v), rawStore('r'));
    results.add('redis', 'store', n, a, b, 'raw MULTI SET+ZADD+PUBLISH');
    [a, b] = await paired((i) => reg.store(`new/s${i % 5000}`, v), (i) => raw.sendCommand(['SET', `${rawPrefix}new/r${i % 5000}`, v]));
    results.add('redis', 'store (vs bare SET)', n, a, b, 'raw SET, no index');
    [a, b] = await paired((i) => reg.store(`new/c${i % 5000}`, v), rawStore('d'), { inFlight: 64, burst: 2000 });
    results.add('redis', 'store (64 in flight)', n, a, b, 'raw MULTI, 64 in flight');
    [a, b] = await paired((i) => reg.retrieve(probe(i)), (i) => raw.sendCommand(['GET', kp + probe(i)]));
    results.add('redis', 'retrieve', n, a, b, 'raw GET');
    [a, b] = await paired((i) => reg.retrieve(probe(i)), (i) => raw.sendCommand(['GET', kp + probe(i)]), { inFlight: 64, burst: 2000 });
    results.add('redis', 'retrieve (64 in flight)', n, a, b, 'raw GET, 64 in flight');
    [a, b] = await paired((i) => reg.contains(probe(i)), (i) => raw.sendCommand(['EXISTS', kp + probe(i)]));
    results.add('redis', 'contains', n, a, b, 'raw EXISTS');

    // client CPU per call: the registry's own cost (validation, events, bookkeeping), immune to server load
    results.add('redis', 'store (client CPU)', n, await cpuPerOp((i) => reg.store(`new/q${i % 5000}`, v)), await cpuPerOp(rawStore('p')), 'raw MULTI SET+ZADD+PUBLISH', 'µs/op');
    results.add('redis', 'retrieve (client CPU)', n, await cpuPerOp((i) => reg.retrieve(probe(i))), await cpuPerOp((i) => raw.sendCommand(['GET', kp + probe(i)])), 'raw GET', 'µs/op');

    // list page of 100 from a point in the middle: the index walk with its liveness check vs a bare ZRANGE BYLEX
    const mid = keyFor(Math.floor(n / 2));
    [a, b] = await paired(
      () => reg.list({ prefix: 'bench/', after: mid, limit: 100 }),
      () => raw.sendCommand(['ZRANGE', kp + '\u0000index', '(' + mid, '+', 'BYLEX', 'LIMIT', '0', '100']),
      { burst: 50 },
    );
    results.add('redis', 'list page (100)', n, a, b, 'raw ZRANGE BYLEX, no liveness check');

    // children of a folder with 50 sub-folders (the tree view's call)
    const chRates = [];
    for (let r = 0; r < 9; r++) {chRates.push(await rateConcurrent(() => reg.children('bench/', '/'), 10, 1));}
    const ch = median(chRates);
    const got = (await reg.children('bench/', '/')).items.length;
    if (got !== 50) {results.note(`redis children at ${n}: expected 50 folders, got ${got}`);}
    results.add('redis', 'children (50 folders)', n, ch, undefined, undefined);

    // count (exact: skips keys that expired or were deleted behind the index's back) vs ZLEXCOUNT
    [a, b] = await paired(
      () => reg.count('bench/'),
      () => raw.sendCommand(['ZLEXCOUNT', kp + '\u0000index', '[bench/', '(bench0']),
      { burst: n >= 100000 ? 2 : 10, pairs: 5 },
    );
    results.add('redis', 'count', n, a, b, 'raw ZLEXCOUNT, no liveness check');

    // The design without an index (rejected): a list page would have to SCAN the whole keyspace and sort.
    const scanPage = async () => {
      const all = [];
      let cursor = '0';
      do {
        const [next, keys] = await raw.sendCommand(['SCAN', cursor, 'MATCH', `${kp.replace(/[*?[\]\\]/g, (c) => '\\' + c)}bench/*`, 'COUNT', '1000']);
        cursor = String(next);
        all.push(...keys);
      } while (cursor !== '0');
      all.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      return all.slice(0, 100);
    };
    const [scanRate, idxRate] = await paired(scanPage, () => reg.list({ prefix: 'bench/', limit: 100 }), { pairs: 3, burst: 2 });
    results.add('redis', 'list page: SCAN+sort design', n, scanRate, idxRate, 'registry list page (index)');
  } finally {
    await reg.close();
  }

  // open: connect, detect the change feed, and adopt keys other clients wrote (one SCAN pass over
  // the database, one ZMSCORE per batch for keys already indexed) vs a bare SCAN pass
  const opens = [];
  const scans = [];
  for (let r = 0; r < 3; r++) {
    opens.push(await once(async () => (await openRegistry({ backend: 'redis', url, keyPrefix: kp })).close()));
    scans.push(
      await once(async () => {
        let cursor = '0';
        do {
          cursor = String((await raw.sendCommand(['SCAN', cursor, 'MATCH', kp.replace(/[*?[\]\\]/g, (c) => '\\' + c) + '*', 'COUNT', '5000', 'TYPE', 'string']))[0]);
        } while (cursor !== '0');
      }),
    );
  }
  results.add('redis', 'open (ms)', n, median(opens), median(scans), 'bare SCAN pass (ms)', 'ms');
}

export async function run(results, sizes = SIZES) {
  // Point floors use node-redis as anyone gets it (its default 5 s command timeout included); the
  // 100,000-command pipeline floor needs the timeout off (commands queue longer than 5 s).
  const raw = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  const rawBulk = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false }, commandOptions: { timeout: 0 } });
  raw.on('error', () => undefined);
  rawBulk.on('error', () => undefined);
  try {
    await raw.connect();
    await rawBulk.connect();
  } catch (err) {
    results.note(`redis: skipped — no Redis server at ${registry.redactUrl(url)} (${err.message}); set NAUTILUS_BENCH_REDIS_URL`);
    return;
  }
  const base = `nautilus-bench:${randomBytes(4).toString('hex')}:`;
  try {
    const flags = await raw.configGet('notify-keyspace-events').catch(() => ({}));
    results.note(`redis: server notify-keyspace-events=${JSON.stringify(flags['notify-keyspace-events'] ?? 'unknown')}; the registry publishes change messages when it is not set`);
    for (const n of sizes) {
      await benchSize(results, raw, rawBulk, base, n);
      await deleteUnder(raw, base);
    }
  } finally {
    await deleteUnder(raw, base).catch(() => undefined);
    await raw.close();
    await rawBulk.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = new Results();
  await run(results);
  const [c1, c2] = [SIZES[0], SIZES[SIZES.length - 1]].map((n) => results.rows.find((r) => r.operation === 'children (50 folders)' && r.n === n));
  if (c1 && c2) {results.note(`target: redis children at ${c2.n} keys costs ${(c1.opsPerSec / c2.opsPerSec).toFixed(2)}x its cost at ${c1.n} (target <= 2x)`);}
  console.log('\n' + results.markdown());
}
