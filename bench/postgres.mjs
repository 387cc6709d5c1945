// PostgreSQL rows of `npm run bench` (bench/run.mjs imports run()); also runs alone:
// `npm run compile && node bench/postgres.mjs`. Server: NAUTILUS_BENCH_POSTGRES_URL, else
// NAUTILUS_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres; skipped with a note
// when unreachable. Each run works in a fresh database (nautilus_bench_<pid>_<random>) that it drops.
//
// Every operation runs against a floor measured in the same run: the same SQL statements (same
// text, prepared the same way) sent through a raw `pg` Pool on the same table, so the ratio is what
// the registry itself adds (validation, events, bookkeeping). Point operations alternate registry
// and floor in short bursts and report the median burst of each side (load from other processes
// hits both alike); client CPU per call is reported too. Ratios matter, not absolute numbers.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { registry, require, SIZES, valueFor, keyFor, rateConcurrent, once, Results } from './lib.mjs';

const pg = require('pg');
const baseUrl = process.env.NAUTILUS_BENCH_POSTGRES_URL || process.env.NAUTILUS_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const CHUNK = 5000;

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

function entries(n) {
  return Array.from({ length: n }, (_, i) => ({ key: keyFor(i), value: valueFor(i) }));
}

/** ops/s of `ours` and `floor` in alternating bursts; the median burst of each side. */
async function paired(ours, floor, { pairs = 15, burst = 300, inFlight = 1 } = {}) {
  const a = [];
  const b = [];
  let base = 0;
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? [[ours, a], [floor, b]] : [[floor, b], [ours, a]];
    for (const [op, out] of order) {
      const start = base;
      out.push(await rateConcurrent((i) => op(start + i), burst, inFlight));
    }
    base += burst;
  }
  return [median(a), median(b)];
}

/** Client CPU (µs) per call: what the registry adds in the caller's process, immune to server load. */
async function cpuPerOp(op, n = 2000) {
  for (let i = 0; i < 100; i++) {await op(i);}
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {await op(i);}
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

/**
 * The statements the backend sends for a table it created (key COLLATE "C", expires_at timestamptz),
 * copied from src/registry/backends/postgresSql.ts; `checkStatements` verifies they still match.
 */
function statements(table) {
  const T = `"public"."${table}"`;
  const live = '(expires_at IS NULL OR expires_at > statement_timestamp())';
  const pos = `strpos(substr(w.k, char_length($2::text) + 1), $3::text)`;
  const next = `CASE WHEN ${pos} > 0 THEN left(w.k, char_length($2::text) + ${pos} - 1 + char_length($3::text) - 1) || $4::text ELSE w.k || chr(1) END`;
  return {
    store: `INSERT INTO ${T} (key, value, expires_at) VALUES ($1, $2, NULL) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
    retrieve: `SELECT value FROM ${T} WHERE key = $1 AND ${live}`,
    contains: `SELECT 1 FROM ${T} WHERE key = $1 AND ${live}`,
    scan: `SELECT key FROM ${T} WHERE key > $1 AND key < $2 AND ${live} ORDER BY key LIMIT $3`,
    count: `SELECT count(*)::float8 AS n FROM ${T} WHERE key >= $1 AND key < $2 AND ${live}`,
    children:
      `WITH RECURSIVE w(k, n) AS ((SELECT key, 1 FROM ${T} WHERE key >= $1 AND key < $6 AND ${live} ORDER BY key LIMIT 1) UNION ALL ` +
      `(SELECT x.key, w.n + 1 FROM w CROSS JOIN LATERAL (SELECT key FROM ${T} WHERE key >= (${next}) AND key < $6 AND ${live} ORDER BY key LIMIT 1) x WHERE w.n < $5)) SELECT k FROM w`,
    storeMany:
      `INSERT INTO ${T} (key, value, expires_at) SELECT u.k, u.v, statement_timestamp() + u.t * interval '1 millisecond' ` +
      `FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(k, v, t) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
  };
}

/** The floor statements must still answer what the registry answers (else this file is stale). */
async function checkStatements(results, url, table) {
  const reg = await registry.openRegistry({ backend: 'postgres', url, table });
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    const S = statements(table);
    const k = keyFor(3);
    const ours = (await pool.query(S.retrieve, [k])).rows[0]?.value;
    const theirs = await reg.retrieve(k);
    const ch = (await pool.query(S.children, ['bench/', 'bench/', '/', '0', 1001, 'bench0'])).rows.map((r) => r.k);
    const chReg = (await reg.children('bench/', '/')).items;
    if (ours !== theirs || ch.length !== chReg.length) {
      results.note(`postgres: the floor statements no longer match the backend's (retrieve ${ours === theirs}, children ${ch.length} vs ${chReg.length}): update bench/postgres.mjs`);
    }
  } finally {
    await reg.close();
    await pool.end();
  }
}

async function benchSize(results, url, n) {
  const { openRegistry } = registry;
  const data = entries(n);
  const table = `bench_${n}`;
  const rawTable = `bench_${n}_raw`;
  // Both tables are created by the backend: same columns, indexes and change trigger.
  await (await openRegistry({ backend: 'postgres', url, table: rawTable })).close();
  const t0 = performance.now();
  const reg = await openRegistry({ backend: 'postgres', url, table });
  const tCreate = performance.now() - t0;
  const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'nautilus-bench-raw' });
  pool.on('error', () => undefined);
  const S = statements(table);
  const R = statements(rawTable);
  const q = (name, text, values) => pool.query({ name, text, values });
  try {
    // storeMany: the same unnest upserts in one transaction, chunked alike; alternated, best of 2.
    const rawMany = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        for (let i = 0; i < data.length; i += CHUNK) {
          const part = data.slice(i, i + CHUNK);
          await c.query({ name: 'raw_many', text: R.storeMany, values: [part.map((e) => e.key), part.map((e) => e.value), part.map(() => null)] });
        }
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    let tMany = Infinity;
    let tRaw = Infinity;
    for (let round = 0; round < 2; round++) {
      await reg.removePrefix('');
      await pool.query(`TRUNCATE "public"."${rawTable}"`);
      if (round === 0) {
        tRaw = Math.min(tRaw, await once(rawMany));
        tMany = Math.min(tMany, await once(() => reg.storeMany(data)));
      } else {
        tMany = Math.min(tMany, await once(() => reg.storeMany(data)));
        tRaw = Math.min(tRaw, await once(rawMany));
      }
    }
    results.add('postgres', 'storeMany', n, (n * 1000) / tMany, (n * 1000) / tRaw, 'raw pg, same upserts in 1 txn');
    await pool.query(`ANALYZE "public"."${table}"`);

    // open: an existing table (checks, trigger present, LISTEN) vs a raw connect + query
    let tOpen = Infinity;
    let tConnect = Infinity;
    for (let r = 0; r < 3; r++) {
      tOpen = Math.min(tOpen, await once(async () => (await openRegistry({ backend: 'postgres', url, table })).close()));
      tConnect = Math.min(tConnect, await once(async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query('SELECT 1');
        await c.end();
      }));
    }
    results.add('postgres', 'open', n, 1000 / tOpen, 1000 / tConnect, 'raw connect + SELECT 1', 'opens/s');
    if (n === SIZES[0]) {
      results.note(`postgres: opening with table creation took ${tCreate.toFixed(0)} ms`);
    }

    const probe = (i) => keyFor((i * 7919) % n);
    const v = valueFor(1);
    let [a, b] = await paired((i) => reg.store(`new/s${i % 5000}`, v), (i) => q('b_store', S.store, [`new/r${i % 5000}`, v]));
    results.add('postgres', 'store', n, a, b, 'raw pg, same upsert');
    [a, b] = await paired((i) => reg.store(`new/c${i % 5000}`, v), (i) => q('b_store', S.store, [`new/d${i % 5000}`, v]), { inFlight: 64, burst: 2000, pairs: 7 });
    results.add('postgres', 'store (64 in flight)', n, a, b, 'raw pg, same upsert, pool of 10');
    [a, b] = await paired((i) => reg.retrieve(probe(i)), (i) => q('b_retrieve', S.retrieve, [probe(i)]));
    results.add('postgres', 'retrieve', n, a, b, 'raw pg, same SELECT');
    [a, b] = await paired((i) => reg.retrieve(probe(i)), (i) => q('b_retrieve', S.retrieve, [probe(i)]), { inFlight: 64, burst: 2000, pairs: 7 });
    results.add('postgres', 'retrieve (64 in flight)', n, a, b, 'raw pg, same SELECT, pool of 10');
    [a, b] = await paired((i) => reg.contains(probe(i)), (i) => q('b_contains', S.contains, [probe(i)]));
    results.add('postgres', 'contains', n, a, b, 'raw pg, same SELECT');
    results.add('postgres', 'store (client CPU)', n, await cpuPerOp((i) => reg.store(`new/q${i % 5000}`, v)), await cpuPerOp((i) => q('b_store', S.store, [`new/p${i % 5000}`, v])), 'raw pg, same upsert', 'µs/op');
    results.add('postgres', 'retrieve (client CPU)', n, await cpuPerOp((i) => reg.retrieve(probe(i))), await cpuPerOp((i) => q('b_retrieve', S.retrieve, [probe(i)])), 'raw pg, same SELECT', 'µs/op');

    const mid = keyFor(Math.floor(n / 2));
    [a, b] = await paired(() => reg.list({ prefix: 'bench/', after: mid, limit: 100 }), () => q('b_scan', S.scan, [mid, 'bench0', 101]), { burst: 50 });
    results.add('postgres', 'list page (100)', n, a, b, 'raw pg, same keyset SELECT');

    // children of a folder with 50 sub-folders: one recursive skip-scan query
    [a, b] = await paired(() => reg.children('bench/', '/'), () => q('b_children', S.children, ['bench/', 'bench/', '/', '0', 1001, 'bench0']), { burst: 20, pairs: 9 });
    const got = (await reg.children('bench/', '/')).items.length;
    if (got !== 50) {results.note(`postgres children at ${n}: expected 50 folders, got ${got}`);}
    results.add('postgres', 'children (50 folders)', n, a, b, 'raw pg, same recursive query');

    [a, b] = await paired(() => reg.count('bench/f07/'), () => q('b_count', S.count, ['bench/f07/', 'bench/f070']), { burst: n >= 100000 ? 5 : 20, pairs: 5 });
    results.add('postgres', 'count (1/50 of keys)', n, a, b, 'raw pg, same count(*)');
  } finally {
    await reg.close();
    await pool.end();
  }
  return table;
}

export async function run(results, sizes = SIZES) {
  const db = `nautilus_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 2000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
  } catch (err) {
    results.note(`postgres: skipped — no PostgreSQL server at ${registry.redactUrl(baseUrl)} (${err.message}); set NAUTILUS_BENCH_POSTGRES_URL`);
    await admin.end().catch(() => undefined);
    return;
  }
  const u = new URL(baseUrl);
  u.pathname = '/' + db;
  const url = u.toString();
  try {
    const version = (await admin.query('SHOW server_version')).rows[0].server_version;
    results.note(`postgres: server ${version} at ${u.host}; floors are the backend's own statements through raw pg on the same table`);
    let last;
    for (const n of sizes) {
      last = await benchSize(results, url, n);
    }
    if (last) {await checkStatements(results, url, last);}
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = new Results();
  await run(results, SIZES);
  console.log('\n' + results.markdown());
}
