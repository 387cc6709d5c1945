// PostgreSQL backend measurements against raw `pg` issuing the same statements.
//   npm run compile && node bench/postgres.mjs [--quick]
// Uses NAUTILUS_TEST_POSTGRES_URL (a fresh database, dropped at the end) or PGlite when unset.
// Prints ratios; never asserts times.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { openRegistry } = require(path.join(root, 'dist', 'registry.js'));
const pg = require('pg');

const quick = process.argv.includes('--quick');

async function testDatabase() {
  const base = process.env.NAUTILUS_TEST_POSTGRES_URL;
  if (base) {
    const db = `nautilus_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const u = new URL(base);
    u.pathname = '/' + db;
    return {
      label: `server ${u.host}`,
      url: u.toString(),
      async close() {
        const a = new pg.Client({ connectionString: base });
        await a.connect();
        await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        await a.end();
      },
    };
  }
  const { PGlite } = require('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 });
  await server.start();
  return {
    label: 'PGlite',
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

const value = 'v'.repeat(200);

async function time(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Best of `rounds` (ms). */
async function best(rounds, fn) {
  let b = Infinity;
  for (let i = 0; i < rounds; i++) {
    b = Math.min(b, await time(fn));
  }
  return b;
}

async function main() {
  const tdb = await testDatabase();
  console.log(`PostgreSQL backend bench on ${tdb.label}${quick ? ' (quick)' : ''}`);
  const rows = [];
  const row = (operation, n, ms, floorMs, unit) => {
    const r = { operation, n, ms: +ms.toFixed(2), floorMs: +floorMs.toFixed(2), ratio: +(ms / floorMs).toFixed(2), unit };
    rows.push(r);
    console.log(`${operation.padEnd(34)} n=${String(n).padStart(6)}  registry ${ms.toFixed(2).padStart(9)} ms  raw pg ${floorMs.toFixed(2).padStart(9)} ms  ratio ${r.ratio} ${unit}`);
  };
  try {
    // ---- point operations: same statements through a pg.Pool -----------------------------
    const table = 'bench_point';
    const reg = await openRegistry({ backend: 'postgres', url: tdb.url, table });
    const pool = new pg.Pool({ connectionString: tdb.url, max: 10 });
    pool.on("error", () => undefined);
    const T = `"public"."${table}"`;
    const live = '(expires_at IS NULL OR expires_at > statement_timestamp())';
    const named = !/PGlite/.test(tdb.label);
    const q = (name, text, values) => pool.query(named ? { name, text, values } : { text, values });
    const S = {
      store: `INSERT INTO ${T} (key, value, expires_at) VALUES ($1, $2, NULL) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      retrieve: `SELECT value FROM ${T} WHERE key = $1 AND ${live}`,
      contains: `SELECT 1 FROM ${T} WHERE key = $1 AND ${live}`,
    };
    const N = quick ? 500 : 3000;
    const keys = Array.from({ length: N }, (_, i) => `p/${String(i).padStart(6, '0')}`);
    await reg.storeMany(keys.map((key) => ({ key, value })));
    // Interleaved rounds (which side goes first alternates); the ratio is the median of the
    // per-round ratios, which holds up on a busy machine better than one long run each.
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const rounds = quick ? 5 : 15;
    const per = Math.floor(N / rounds);
    const compare = async (op, regRound, rawRound) => {
      const ratios = [];
      let sa = 0;
      let sb = 0;
      for (let round = 0; round < rounds; round++) {
        const slice = keys.slice(round * per, (round + 1) * per);
        let ta;
        let tb;
        if (round % 2 === 0) {
          ta = await time(() => regRound(slice));
          tb = await time(() => rawRound(slice));
        } else {
          tb = await time(() => rawRound(slice));
          ta = await time(() => regRound(slice));
        }
        ratios.push(ta / tb);
        sa += ta;
        sb += tb;
      }
      const ops = per * rounds;
      const r = { operation: op, n: ops, usPerOp: +((sa / ops) * 1000).toFixed(1), floorUsPerOp: +((sb / ops) * 1000).toFixed(1), ratio: +median(ratios).toFixed(2) };
      rows.push(r);
      console.log(`${op.padEnd(34)} ${String(ops).padStart(6)} ops  registry ${String(r.usPerOp).padStart(7)} µs/op  raw pg ${String(r.floorUsPerOp).padStart(7)} µs/op  median ratio ${r.ratio}`);
    };
    const seq = (fn) => async (ks) => {
      for (const k of ks) await fn(k);
    };
    const par = (fn) => (ks) => Promise.all(ks.map(fn));
    await compare('store (sequential)', seq((k) => reg.store(k, value)), seq((k) => q('b_store', S.store, [k, value])));
    await compare('retrieve (sequential)', seq((k) => reg.retrieve(k)), seq((k) => q('b_retrieve', S.retrieve, [k])));
    await compare('contains (sequential)', seq((k) => reg.contains(k)), seq((k) => q('b_contains', S.contains, [k])));
    await compare('retrieve (all in flight, pool 10)', par((k) => reg.retrieve(k)), par((k) => q('b_retrieve', S.retrieve, [k])));
    await compare('store (all in flight, pool 10)', par((k) => reg.store(k, value)), par((k) => q('b_store', S.store, [k, value])));
    await reg.close();

    // ---- storeMany 100k vs the same unnest upserts in one transaction ------------------------
    const bulkN = quick ? 10_000 : 100_000;
    const entries = Array.from({ length: bulkN }, (_, i) => ({ key: `bulk/${String(i).padStart(7, '0')}`, value }));
    const regBulk = await openRegistry({ backend: 'postgres', url: tdb.url, table: 'bench_bulk_reg' });
    const rawTable = 'bench_bulk_raw';
    // The raw table is created by a registry too: same columns, index and trigger.
    await (await openRegistry({ backend: 'postgres', url: tdb.url, table: rawTable })).close();
    const RT = `"public"."${rawTable}"`;
    const bulkSql = `INSERT INTO ${RT} (key, value, expires_at) SELECT u.k, u.v, statement_timestamp() + u.t * interval '1 millisecond' FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(k, v, t) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`;
    const rawBulk = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        for (let i = 0; i < entries.length; i += 5000) {
          const chunk = entries.slice(i, i + 5000);
          await c.query(bulkSql, [chunk.map((e) => e.key), chunk.map((e) => e.value), chunk.map(() => null)]);
        }
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    let a = Infinity;
    let b = Infinity;
    for (let round = 0; round < (quick ? 1 : 3); round++) {
      await regBulk.removePrefix('');
      await pool.query(`TRUNCATE ${RT}`);
      await pool.query('CHECKPOINT').catch(() => undefined);
      if (round % 2 === 0) {
        a = Math.min(a, await time(() => regBulk.storeMany(entries)));
        b = Math.min(b, await time(rawBulk));
      } else {
        b = Math.min(b, await time(rawBulk));
        a = Math.min(a, await time(() => regBulk.storeMany(entries)));
      }
    }
    row('storeMany (fresh keys)', bulkN, a, b, `(${Math.round(bulkN / (a / 1000))} vs ${Math.round(bulkN / (b / 1000))} keys/s; registry at ${((b / a) * 100).toFixed(0)}% of raw)`);
    await regBulk.close();

    // ---- children at 1k vs 100k: 50 folders, keys spread over them ----------------------------
    for (const n of quick ? [1000, 10_000] : [1000, 100_000]) {
      const r = await openRegistry({ backend: 'postgres', url: tdb.url, table: `bench_children_${n}` });
      const es = Array.from({ length: n }, (_, i) => ({ key: `f${String(i % 50).padStart(2, '0')}/sub${i % 7}/k${i}`, value }));
      es.push(...Array.from({ length: 20 }, (_, i) => ({ key: `top${i}`, value })));
      await r.storeMany(es);
      await pool.query(`ANALYZE "public"."bench_children_${n}"`);
      const tTop = await best(10, () => r.children('', '/'));
      const tFolder = await best(10, () => r.children('f07/', '/'));
      const tList = await best(10, () => r.list({ prefix: 'f07/', limit: 100 }));
      rows.push({ operation: 'children', n, topMs: tTop, folderMs: tFolder, listPageMs: tList });
      console.log(`children('', '/') n=${String(n).padStart(6)}: ${tTop.toFixed(2)} ms (70 items, 50 folders); children('f07/') ${tFolder.toFixed(2)} ms; list page of 100 ${tList.toFixed(2)} ms`);
      await r.close();
    }
    const c1 = rows.find((r) => r.operation === 'children' && r.n === 1000);
    const cN = rows.filter((r) => r.operation === 'children').at(-1);
    console.log(`children at ${cN.n} / at 1000: top level ${(cN.topMs / c1.topMs).toFixed(2)}x, folder ${(cN.folderMs / c1.folderMs).toFixed(2)}x`);
    await pool.end();
  } finally {
    await tdb.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
