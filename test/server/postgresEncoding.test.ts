/**
 * PostgreSQL databases that are not UTF-8. COLLATE "C" orders by bytes in the database's
 * encoding, while the contract orders by UTF-8 bytes: the registry refuses EUC_JP (and every other
 * real encoding) with UNSUPPORTED before touching the database, and serves SQL_ASCII (where the
 * bytes are the UTF-8 it wrote) correctly. The databases are created and dropped by this file, on
 * the server NAUTILUS_TEST_POSTGRES_URL names; PGlite runs a single UTF8 database and cannot
 * create others, so without a server these tests say they were skipped and why.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { adminQuery, withDatabase } from '../support/postgres';
import { openRegistry } from '../../src/registry';
import { encodingProblem } from '../../src/registry/backends/postgres';
import { childOf, compareKeys } from '../../src/registry/keys';
import type { ChildItem, RegistryStorage } from '../../src/registry/types';
import { expectCode } from '../conformance/suite';
import { rng } from '../support/random';

const serverUrl = process.env.NAUTILUS_TEST_POSTGRES_URL;

const byteSorted = (keys: Iterable<string>) => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

function referenceChildren(keys: Iterable<string>, prefix: string, sep: string): ChildItem[] {
  const seen = new Map<string, ChildItem>();
  for (const k of keys) {
    if (k.startsWith(prefix)) {
      const item = childOf(prefix, sep, k);
      seen.set(item.kind + item.key, item);
    }
  }
  return [...seen.values()].sort((a, b) => compareKeys(a.key, b.key) || (a.kind === 'folder' ? 1 : -1));
}

async function allChildren(r: RegistryStorage, prefix: string, sep: string, limit: number): Promise<ChildItem[]> {
  const out: ChildItem[] = [];
  let after: string | undefined;
  do {
    const page = await r.children(prefix, sep, { after, limit });
    out.push(...page.items);
    after = page.next;
  } while (after !== undefined);
  return out;
}

describe('postgres backend: the encoding check (no server needed)', () => {
  it('accepts UTF8 and SQL_ASCII, refuses other encodings and a client encoding that is not UTF8, saying what to do', () => {
    assert.equal(encodingProblem('db', 'UTF8', 'UTF8'), undefined);
    assert.equal(encodingProblem('db', 'SQL_ASCII', 'UTF8'), undefined);
    for (const enc of ['EUC_JP', 'LATIN1', 'WIN1252', 'EUC_KR']) {
      const msg = encodingProblem('team_db', enc, 'UTF8');
      assert.match(msg ?? '', new RegExp(`"team_db" has encoding ${enc}; the registry needs a UTF8 database`));
      assert.match(msg ?? '', /Nothing was changed/);
      assert.match(msg ?? '', /CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0/);
    }
    assert.match(encodingProblem('team_db', 'UTF8', 'LATIN1') ?? '', /"team_db" uses client_encoding LATIN1.*Remove the client_encoding setting/);
  });
});

describe('postgres backend: databases that are not UTF-8 (server)', function () {
  this.timeout(60_000);
  if (!serverUrl) {
    const why = 'NAUTILUS_TEST_POSTGRES_URL is not set, and PGlite runs one UTF8 database and cannot create an EUC_JP or SQL_ASCII one';
    console.log(`  postgres encodings: SKIPPED — ${why}`);
    it.skip(`(skipped: ${why})`, () => undefined);
    return;
  }
  const base = serverUrl;
  const stem = `nautilus_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dbs = { eucjp: `${stem}_eucjp`, ascii: `${stem}_sqlascii` };
  const opened: RegistryStorage[] = [];

  before(async () => {
    await adminQuery(base, `CREATE DATABASE ${dbs.eucjp} ENCODING 'EUC_JP' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
    await adminQuery(base, `CREATE DATABASE ${dbs.ascii} ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
  });
  afterEach(async () => {
    for (const r of opened.splice(0)) {
      await r.close().catch(() => undefined);
    }
  });
  after(async () => {
    for (const db of Object.values(dbs)) {
      await adminQuery(base, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
    const left = await adminQuery(base, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`${stem}%`]);
    assert.deepEqual(left, [], 'the test databases are dropped');
  });

  it('EUC_JP: the server orders by EUC_JP bytes (so a range for 一 holds 中), and the registry refuses the database with UNSUPPORTED, creating nothing', async () => {
    const url = withDatabase(base, dbs.eucjp);
    // The defect the check prevents, shown on the server itself: [一, 丁) in EUC_JP bytes holds 中.
    const [row] = await adminQuery<{ holds: boolean }>(url, `SELECT ('中y' COLLATE "C") >= '一' AND ('中y' COLLATE "C") < '丁' AS holds`);
    assert.equal(row.holds, true);
    const err = await expectCode(openRegistry({ backend: 'postgres', url, table: 'enc_registry' }), 'UNSUPPORTED');
    assert.match(err.message, new RegExp(`database "${dbs.eucjp}" has encoding EUC_JP; the registry needs a UTF8 database`));
    assert.match(err.message, /CREATE DATABASE … ENCODING 'UTF8'/);
    const created = await adminQuery(url, `SELECT relname FROM pg_class WHERE relname LIKE 'enc_registry%' UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'nautilus%'`);
    assert.deepEqual(created, [], 'nothing was created in the EUC_JP database');
  });

  it('SQL_ASCII: order, prefixes, folders with multi-byte separators and renames agree with UTF-8 byte order', async () => {
    const r = await openRegistry({ backend: 'postgres', url: withDatabase(base, dbs.ascii), table: 'enc_registry', pollIntervalMs: 200 });
    opened.push(r);
    assert.ok(r.describe().notes?.some((n) => /SQL_ASCII/.test(n)), 'describe() says the database is SQL_ASCII');
    const seed = Number(process.env.NAUTILUS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    const alphabet = ['a', 'b', '/', 'é', 'ê', '一', '丁', '中', '😀', '😁', '\u{10FFFF}', '\uFFFF', '\uE000'];
    const model = new Set<string>(['一x', '中y', '丁z', 'a😀b', 'a😁c', 'aé']);
    while (model.size < 300) {
      model.add(Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(alphabet)).join(''));
    }
    await r.storeMany([...model].map((key) => ({ key, value: `v:${key}` })));
    const where = `seed ${seed}`;
    const listed: string[] = [];
    let after: string | undefined;
    do {
      const page = await r.list({ after, limit: 37 });
      listed.push(...page.keys);
      after = page.next;
    } while (after !== undefined);
    assert.deepEqual(listed, byteSorted(model), where);
    for (const prefix of ['一', 'a', 'a😀', 'é', '\uFFFF', '\u{10FFFF}']) {
      assert.equal(await r.count(prefix), [...model].filter((k) => k.startsWith(prefix)).length, `count ${prefix}; ${where}`);
    }
    for (const sep of ['😀', 'é', '一', '/', '\uFFFF', '😀😀']) {
      for (const prefix of ['', 'a', 'a' + sep]) {
        const expected = referenceChildren(model, prefix, sep);
        assert.deepEqual(await allChildren(r, prefix, sep, 1000), expected, `children ${JSON.stringify(prefix)} by ${JSON.stringify(sep)}; ${where}`);
        assert.deepEqual(await allChildren(r, prefix, sep, 3), expected, `children ${JSON.stringify(prefix)} by ${JSON.stringify(sep)}, 3 a page; ${where}`);
      }
    }
    assert.equal(await r.retrieve('中y'), 'v:中y');
    const gone = [...model].filter((k) => k.startsWith('一'));
    assert.equal(await r.removePrefix('一'), gone.length, where);
    gone.forEach((k) => model.delete(k));
    assert.equal(await r.retrieve('中y'), 'v:中y', 'removePrefix(一) leaves 中 alone');
    const moving = [...model].filter((k) => k.startsWith('a😀'));
    assert.equal(await r.renamePrefix('a😀', 'é😁', { overwrite: true }), moving.length);
    for (const k of moving) {
      model.delete(k);
      model.add('é😁' + k.slice('a😀'.length));
    }
    assert.equal(await r.count(), model.size);
    assert.deepEqual(await r.children('é😁', '😀', { limit: 1000 }), { items: referenceChildren(model, 'é😁', '😀') });
  });
});
