/**
 * PostgreSQL backend beyond the conformance suite: the seed's table, external changes, outages,
 * redaction, injection and the polling fallback. Runs against NAUTILUS_TEST_POSTGRES_URL when set,
 * otherwise against PGlite (see test/support/postgres.ts); tests that need a real server say why
 * they are skipped.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openRegistry, RegistryError } from '../../src/registry';
import type { PostgresConfig, RegistryChange, RegistryLogger, RegistryStorage } from '../../src/registry/types';
import { expectCode } from '../conformance/suite';
import { freshTableName, sharedTestPostgres, startTcpRelay } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) {
      return Date.now() - t0;
    }
    await sleep(20);
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

function captureLogger(): RegistryLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push('info: ' + m),
    warn: (m) => lines.push('warn: ' + m),
    error: (m) => lines.push('error: ' + m),
  };
}

/** A raw pg client on the test database: the "other client" (psql, the Rust registry). */
async function rawClient(pg: TestPostgres): Promise<Client> {
  const c = new Client({ connectionString: pg.url, application_name: 'nautilus-test-raw' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

describe('postgres backend (server tests)', function () {
  this.timeout(30_000);
  let pg: TestPostgres;
  const opened: RegistryStorage[] = [];
  const tables: string[] = [];

  before(async function () {
    this.timeout(60_000);
    pg = await sharedTestPostgres();
  });

  async function open(extra: Partial<PostgresConfig> = {}): Promise<RegistryStorage> {
    const table = extra.table ?? freshTableName('srv');
    tables.push(table);
    const r = await openRegistry({ backend: 'postgres', url: pg.url, table, pollIntervalMs: 200, ...extra });
    opened.push(r);
    return r;
  }

  afterEach(async () => {
    for (const r of opened.splice(0)) {
      await r.close().catch(() => undefined);
    }
    for (const t of tables.splice(0)) {
      await pg.sql(`DROP TABLE IF EXISTS public."${t}"`);
    }
  });

  describe("the seed's table", () => {
    it('uses an existing 2-column table as it is: rows written with SQL show up, ours show up in SQL, TTL is UNSUPPORTED', async () => {
      const table = freshTableName('seed');
      tables.push(table);
      await pg.sql(`CREATE TABLE public."${table}" (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      await pg.sql(`INSERT INTO public."${table}" (key, value) VALUES ('svc/a', '1'), ('svc/b', '2'), ('top', 'x'), ('é', 'e'), ('😀', 'smile'), ('\uffff', 'ffff')`);
      const r = await open({ table });
      assert.deepEqual((await r.list()).keys, ['svc/a', 'svc/b', 'top', 'é', '\uffff', '😀'], 'UTF-8 byte order');
      assert.equal(await r.retrieve('svc/b'), '2');
      assert.deepEqual((await r.children('', '/')).items, [
        { kind: 'folder', key: 'svc/' },
        { kind: 'key', key: 'top' },
        { kind: 'key', key: 'é' },
        { kind: 'key', key: '\uffff' },
        { kind: 'key', key: '😀' },
      ]);
      await r.store('svc/c', '3');
      await r.rename('svc/a', 'svc/z');
      assert.equal(await r.count('svc/'), 3);
      const rows = await pg.sql<{ key: string; value: string }>(`SELECT key, value FROM public."${table}" WHERE key LIKE 'svc/%' ORDER BY key COLLATE "C"`);
      assert.deepEqual(rows, [
        { key: 'svc/b', value: '2' },
        { key: 'svc/c', value: '3' },
        { key: 'svc/z', value: '1' },
      ]);
      const d = r.describe();
      assert.ok(d.notes?.some((n) => /TTL unsupported/.test(n) && /expires_at/.test(n)), JSON.stringify(d.notes));
      await expectCode(r.store('t', 'v', { ttlMs: 1000 }), 'UNSUPPORTED', /expires_at/);
      await expectCode(r.storeMany([{ key: 'm1', value: 'v' }, { key: 'm2', value: 'v', ttlMs: 5 }]), 'UNSUPPORTED', /expires_at/);
      await expectCode(r.setTtl('top', 1000), 'UNSUPPORTED', /expires_at/);
      await r.setTtl('top', undefined); // clearing an expiry that cannot exist is fine
      assert.deepEqual(await r.retrieveMany(['t', 'm1', 'm2']), [undefined, undefined, undefined], 'nothing stored');
      assert.equal((await r.inspect('top'))?.expiresAt, undefined);
      const cols = await pg.sql<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      assert.deepEqual(cols.map((c) => c.column_name), ['key', 'value'], 'the table keeps its columns');
    });

    it('orders a non-C key column by bytes, with an index on (key COLLATE "C") that the planner uses', async () => {
      const table = freshTableName('icu');
      tables.push(table);
      // An ICU root collation sorts 'a' before 'B' (byte order: 'B' < 'a').
      await pg.sql(`CREATE TABLE public."${table}" (key TEXT COLLATE "und-x-icu" PRIMARY KEY, value TEXT NOT NULL)`);
      await pg.sql(`INSERT INTO public."${table}" (key, value) SELECT 'k' || g, 'v' FROM generate_series(1, 2000) g`);
      await pg.sql(`INSERT INTO public."${table}" (key, value) VALUES ('a', '1'), ('B', '2'), ('b/x', '3'), ('B/y', '4')`);
      await pg.sql(`ANALYZE public."${table}"`);
      const r = await open({ table });
      const page = await r.list({ limit: 4 });
      assert.deepEqual(page.keys, ['B', 'B/y', 'a', 'b/x']);
      assert.deepEqual((await r.children('', '/', { limit: 4 })).items.map((i) => i.key), ['B', 'B/', 'a', 'b/']);
      assert.ok(r.describe().notes?.some((n) => /COLLATE "C"/.test(n)), JSON.stringify(r.describe().notes));
      const c = await rawClient(pg);
      try {
        const plan = await c.query(
          `EXPLAIN SELECT key FROM public."${table}" WHERE key COLLATE "C" > $1 AND key COLLATE "C" < $2 ORDER BY key COLLATE "C" LIMIT 10`,
          ['k1', 'k2'],
        );
        const text = plan.rows.map((x: Record<string, string>) => x['QUERY PLAN']).join('\n');
        assert.match(text, /Index (Only )?Scan using nautilus_\w+_key_c/, text);
      } finally {
        await c.end();
      }
    });

    it('refuses a table that is not a registry table, naming what is missing', async () => {
      const table = freshTableName('other');
      tables.push(table);
      await pg.sql(`CREATE TABLE public."${table}" (id int PRIMARY KEY, payload text)`);
      await expectCode(open({ table }), 'INVALID_CONFIG', /key and value/);
    });
  });

  describe('expiry', () => {
    it('deletes expired rows a second after opening (they were invisible already)', async () => {
      const r = await open();
      const table = tables[tables.length - 1];
      await r.storeMany([
        { key: 'short', value: 'v', ttlMs: 50 },
        { key: 'long', value: 'v', ttlMs: 60_000 },
        { key: 'forever', value: 'v' },
      ]);
      await waitFor('expired row deleted', 3000, async () => (await pg.sql(`SELECT key FROM public."${table}" WHERE key = 'short'`)).length === 0);
      const rows = await pg.sql<{ key: string }>(`SELECT key FROM public."${table}" ORDER BY key`);
      assert.deepEqual(rows.map((x) => x.key), ['forever', 'long']);
    });
  });

  describe('children (one recursive skip-scan query)', () => {
    it('agrees with the definition for unusual separators and keys written by other clients', async () => {
      const r = await open();
      const table = tables[tables.length - 1];
      const seps = ['/', '\ud7ff', '😀', '\u{10ffff}', '::', 'ab'];
      const keys: string[] = [];
      for (const sep of seps) {
        for (const a of ['x', 'y\ud7ff', 'é', '😀z']) {
          keys.push(`${a}${sep}1`, `${a}${sep}2${sep}deep`, a, `${a}${sep}`, `${a}${sep}${sep}`);
        }
      }
      await r.storeMany([...new Set(keys)].map((key) => ({ key, value: 'v' })));
      // A key no Nautilus client could write (a control character), right after a folder's keys.
      await pg.sql(`INSERT INTO public."${table}" (key, value) VALUES ('x/' || chr(1), 'v'), ('x' || chr(1), 'v') ON CONFLICT DO NOTHING`);
      const all: string[] = [];
      for (let page = await r.list({ limit: 10_000 }); ; ) {
        all.push(...page.keys);
        if (!page.next) {
          break;
        }
        page = await r.list({ after: page.next, limit: 10_000 });
      }
      for (const sep of seps) {
        for (const prefix of ['', 'x', `x${sep}`, `y\ud7ff${sep}`, `😀z${sep}`]) {
          const expected: { kind: string; key: string }[] = [];
          for (const k of all) {
            if (!k.startsWith(prefix)) {
              continue;
            }
            const at = k.indexOf(sep, prefix.length);
            const item = at < 0 ? { kind: 'key', key: k } : { kind: 'folder', key: k.slice(0, at + sep.length) };
            if (!expected.some((e) => e.kind === item.kind && e.key === item.key)) {
              expected.push(item);
            }
          }
          for (const limit of [2, 1000]) {
            const got: { kind: string; key: string }[] = [];
            let after: string | undefined;
            for (let guard = 0; guard < 1000; guard++) {
              const page = await r.children(prefix, sep, { after, limit });
              got.push(...page.items);
              if (!page.next) {
                break;
              }
              after = page.next;
            }
            assert.deepEqual(got, expected, `children(${JSON.stringify(prefix)}, ${JSON.stringify(sep)}, limit ${limit})`);
          }
        }
      }
    });
  });

  describe('external changes', () => {
    it('reports changes made with plain SQL (psql, the Rust registry) within a second, as external', async () => {
      const r = await open();
      const table = tables[tables.length - 1];
      const seen: RegistryChange[] = [];
      r.onDidChange((c) => seen.push(c));
      await r.store('own', 'v');
      const c = await rawClient(pg);
      try {
        const external = () => seen.filter((x) => x.origin === 'external');
        const step = async (sql: string, expect: (e: RegistryChange) => boolean, what: string) => {
          const before = external().length;
          await c.query(sql);
          const ms = await waitFor(what, 1000, () => external().slice(before).some(expect));
          return ms;
        };
        const server = pg.kind === 'server';
        // On a server each single-row change names its key; PGlite is polled and says 'clear'.
        const clear = (e: RegistryChange) => e.kind === 'clear';
        const times = [
          await step(`INSERT INTO public."${table}" (key, value) VALUES ('ext/1', 'a')`, (e) => (server ? e.kind === 'store' && e.key === 'ext/1' : clear(e)), 'insert'),
          await step(`UPDATE public."${table}" SET value = 'b' WHERE key = 'ext/1'`, (e) => (server ? e.kind === 'store' && e.key === 'ext/1' : clear(e)), 'update'),
          await step(`UPDATE public."${table}" SET key = 'ext/2' WHERE key = 'ext/1'`, (e) => (server ? e.kind === 'rename' && e.from === 'ext/1' && e.to === 'ext/2' : clear(e)), 'rename'),
          await step(`DELETE FROM public."${table}" WHERE key = 'ext/2'`, (e) => (server ? e.kind === 'remove' && e.key === 'ext/2' : clear(e)), 'delete'),
          await step(`INSERT INTO public."${table}" (key, value) SELECT 'bulk/' || g, 'x' FROM generate_series(1, 500) g`, clear, 'bulk insert'),
          await step(`TRUNCATE public."${table}"`, clear, 'truncate'),
        ];
        console.log(`      external events arrived after ${times.join(', ')} ms (${server ? 'LISTEN/NOTIFY' : 'polling every 200 ms'})`);
        assert.ok(!seen.some((x) => x.origin === 'local' && x.key !== 'own'), 'nothing external is reported as local');
        if (server) {
          // Our own writes never come back as external events.
          const n = external().length;
          await r.store('own/2', 'v');
          await r.storeMany([{ key: 'own/3', value: 'v' }, { key: 'own/4', value: 'v' }]);
          await r.removePrefix('own/');
          await sleep(300);
          assert.deepEqual(external().slice(n), [], 'own changes are not echoed as external');
        }
      } finally {
        await c.end();
      }
    });
  });

  describe('connection loss', () => {
    it('terminated connections mid-run: calls fail fast with UNAVAILABLE, the registry recovers, no acknowledged write is lost', async function () {
      this.timeout(60_000);
      const app = `nautilus-outage-${randomBytes(3).toString('hex')}`;
      const url = new URL(pg.url);
      url.searchParams.set('application_name', app);
      const logger = captureLogger();
      const r = await open({ url: url.toString(), logger });
      const seen: RegistryChange[] = [];
      r.onDidChange((c) => seen.push(c));
      const acked: string[] = [];
      const failures: { ms: number; err: unknown }[] = [];
      let stop = false;
      let n = 0;
      const writer = (async () => {
        while (!stop) {
          const key = `w/${String(n++).padStart(5, '0')}`;
          const t0 = Date.now();
          try {
            await r.store(key, 'v');
            acked.push(key);
          } catch (err) {
            failures.push({ ms: Date.now() - t0, err });
            await sleep(20);
          }
        }
      })();
      await waitFor('first writes', 5000, () => acked.length >= 20);
      const cut = await pg.terminate(app);
      assert.ok(cut >= 1, `terminated ${cut} connections`);
      const ackedAtCut = acked.length;
      await waitFor('writes resume after the cut', 10_000, () => acked.length >= ackedAtCut + 20);
      stop = true;
      await writer;
      for (const f of failures) {
        assert.ok(RegistryError.is(f.err, 'UNAVAILABLE'), `failure is UNAVAILABLE: ${String(f.err)}`);
        assert.ok(f.ms < 2000, `failed fast (${f.ms} ms)`);
      }
      if (pg.kind === 'server') {
        // The listener was cut too: it reconnects and says 'clear' (changes may have been missed).
        await waitFor('external clear after the listener reconnects', 5000, () => seen.some((c) => c.kind === 'clear' && c.origin === 'external'));
        assert.ok(logger.lines.some((l) => /reconnected/.test(l)), logger.lines.join('\n'));
      }
      // A bulk write in flight when its connection is cut: all or nothing, and a prompt answer.
      const big = Array.from({ length: 30_000 }, (_, i) => ({ key: `big/${i}`, value: 'x'.repeat(100) }));
      const t0 = Date.now();
      const pending = r.storeMany(big).then(
        () => 'stored',
        (err: unknown) => err,
      );
      await sleep(15);
      await pg.terminate(app);
      const outcome = await pending;
      const bigCount = await waitFor('count after the cut', 10_000, async () => {
        try {
          await r.count('big/');
          return true;
        } catch {
          return false;
        }
      }).then(() => r.count('big/'));
      if (outcome === 'stored') {
        assert.equal(bigCount, big.length);
      } else {
        assert.ok(RegistryError.is(outcome, 'UNAVAILABLE'), `storeMany failed with ${String(outcome)}`);
        assert.equal(bigCount, 0, 'a failed storeMany stored nothing');
      }
      console.log(`      storeMany cut mid-flight: ${outcome === 'stored' ? 'finished first' : 'failed with UNAVAILABLE'} after ${Date.now() - t0} ms, ${bigCount} keys stored`);
      await waitFor('state open again', 5000, () => r.describe().state === 'open');
      const table = tables[tables.length - 1];
      const rows = await pg.sql<{ key: string }>(`SELECT key FROM public."${table}"`);
      const stored = new Set(rows.map((x) => x.key));
      const lost = acked.filter((k) => !stored.has(k));
      assert.deepEqual(lost, [], 'every acknowledged write is stored');
      console.log(`      ${acked.length} writes acknowledged, ${failures.length} failed fast (max ${Math.max(0, ...failures.map((f) => f.ms))} ms), none lost`);
    });

    it('server unreachable: calls reject promptly with UNAVAILABLE and the cause, state is unavailable; it recovers by itself', async function () {
      this.timeout(60_000);
      const relay = await startTcpRelay(pg.url);
      try {
        const r = await open({ url: relay.url, connectTimeoutMs: 2000 });
        await r.store('before', 'v');
        const seen: RegistryChange[] = [];
        r.onDidChange((c) => seen.push(c));
        await relay.down();
        const t0 = Date.now();
        const err = await expectCode(r.retrieve('before'), 'UNAVAILABLE', /unavailable/);
        const ms = Date.now() - t0;
        assert.ok(ms < 2500, `rejected after ${ms} ms`);
        assert.match(err.message, /ECONNREFUSED|terminated|reset|timeout/i);
        await expectCode(r.store('during', 'v'), 'UNAVAILABLE');
        await waitFor('state unavailable', 3000, () => r.describe().state === 'unavailable');
        await relay.up();
        // No call needed: the registry notices by itself that the server is back.
        await waitFor('state open again without any call', 10_000, () => r.describe().state === 'open');
        await waitFor('calls work again', 10_000, async () => {
          try {
            return (await r.retrieve('before')) === 'v';
          } catch {
            return false;
          }
        });
        await r.store('after', 'v');
        assert.deepEqual(await r.retrieveMany(['before', 'during', 'after']), ['v', undefined, 'v']);
        await waitFor('state open', 10_000, () => r.describe().state === 'open');
        await waitFor('external clear after recovery', 5000, () => seen.some((c) => c.kind === 'clear' && c.origin === 'external'));
      } finally {
        await relay.close();
      }
    });
  });

  describe('secrets', () => {
    it('never shows the password: describe, error messages, causes and log lines', async function () {
      this.timeout(60_000);
      const secret = 'S3cr3t-' + randomBytes(6).toString('hex');
      const urlSecret = 'Url-' + randomBytes(6).toString('hex');
      const logger = captureLogger();
      const checks: string[] = [];
      const relay = await startTcpRelay(pg.url);
      try {
        // The config's password (trust auth ignores it; a real server with md5/scram uses it).
        const withUrlPw = new URL(relay.url);
        withUrlPw.username = 'postgres';
        withUrlPw.password = urlSecret;
        const r = await open({ url: withUrlPw.toString(), password: secret, logger });
        const d = r.describe();
        checks.push(JSON.stringify(d));
        assert.ok(d.location.includes('127.0.0.1'), d.location);
        await relay.down();
        const e1 = await expectCode(r.retrieve('k'), 'UNAVAILABLE');
        checks.push(e1.message, String((e1.cause as Error | undefined)?.message), e1.stack ?? '', JSON.stringify(r.describe()));
        await relay.up();
        await waitFor('recovered', 10_000, () => r.describe().state === 'open');
        // Opening fails: unreachable server and a missing database, each with a password in play.
        await relay.down();
        const e2 = await expectCode(openRegistry({ backend: 'postgres', url: withUrlPw.toString(), logger }), 'UNAVAILABLE');
        checks.push(e2.message, String((e2.cause as Error | undefined)?.message));
        await relay.up();
        if (pg.kind === 'server') {
        // (PGlite serves one database under any name: only a server can miss one.)
        const noDb = new URL(pg.url);
        noDb.pathname = '/nautilus_no_such_db_' + randomBytes(3).toString('hex');
        noDb.password = urlSecret;
        noDb.username = 'postgres';
        const e3 = await openRegistry({ backend: 'postgres', url: noDb.toString(), password: secret, logger }).then(
          () => assert.fail('opened a missing database'),
          (err: unknown) => err as RegistryError,
        );
        assert.ok(RegistryError.is(e3), String(e3));
        assert.equal(e3.code, 'INVALID_CONFIG', e3.message);
        checks.push(e3.message, String((e3.cause as Error | undefined)?.message));
        }
        // A password that is also a key: error messages about that key are redacted too.
        checks.push(...logger.lines);
        for (const text of checks) {
          assert.ok(!text.includes(secret), `password leaked: ${text}`);
          assert.ok(!text.includes(urlSecret), `URL password leaked: ${text}`);
        }
        assert.ok(checks.some((t) => t.includes('***') || t.includes('127.0.0.1')), 'messages still say where');
      } finally {
        await relay.close();
      }
    });
  });

  describe('injection', () => {
    const nasty = [
      "'; DROP TABLE registry; --",
      '"; DROP TABLE registry; --',
      "' OR '1'='1",
      '$1',
      '$$; DROP TABLE registry; $$',
      '$nautilus$',
      '\\',
      "\\'; SELECT pg_sleep(10); --",
      '%',
      '_',
      '%_\\',
      '/* comment */',
      'E\'\\x41\'',
      ');COMMIT;DROP TABLE registry;--',
    ];

    it('treats hostile keys, values and prefixes as data', async () => {
      const decoy = 'registry';
      await pg.sql(`CREATE TABLE IF NOT EXISTS public."${decoy}" (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      await pg.sql(`INSERT INTO public."${decoy}" VALUES ('decoy', 'still here') ON CONFLICT DO NOTHING`);
      const r = await open();
      await r.storeMany(nasty.map((k, i) => ({ key: k, value: nasty[(i + 1) % nasty.length] })));
      for (const [i, k] of nasty.entries()) {
        await r.store(`dir/${k}/leaf`, k);
        assert.equal(await r.retrieve(k), nasty[(i + 1) % nasty.length]);
        assert.equal(await r.contains(k), true);
        assert.deepEqual((await r.list({ prefix: k })).keys.every((x) => x.startsWith(k)), true);
        assert.equal(await r.count(`dir/${k}/`), 1);
        assert.deepEqual((await r.children(`dir/${k}/`, '/')).items, [{ kind: 'key', key: `dir/${k}/leaf` }]);
      }
      assert.equal(await r.count(), nasty.length * 2);
      await r.rename(nasty[0], nasty[0] + '2');
      assert.equal(await r.renamePrefix(`dir/${nasty[1]}/`, `dir/${nasty[2]}x/`), 1);
      assert.equal(await r.removePrefix(`dir/${nasty[8]}/`), 1, "'%' is literal");
      assert.equal(await r.removePrefix(`dir/${nasty[9]}/`), 1, "'_' is literal");
      assert.equal(await r.count('dir/%'), 1, "only 'dir/%_\\/leaf' is left under 'dir/%'");
      assert.equal(await r.count(), nasty.length * 2 - 2);
      const decoyRows = await pg.sql(`SELECT value FROM public."${decoy}" WHERE key = 'decoy'`);
      assert.deepEqual(decoyRows, [{ value: 'still here' }]);
      await pg.sql(`DROP TABLE public."${decoy}"`);
    });

    it('rejects hostile schema and table names with INVALID_CONFIG naming the field', async () => {
      const bad = ['registry; DROP TABLE registry', 'a"b', "x'--", '1abc', '', 'a b', 'ä', 'a'.repeat(64), 'public.registry', 'x)'];
      for (const name of bad) {
        await expectCode(openRegistry({ backend: 'postgres', url: pg.url, table: name }), 'INVALID_CONFIG', /table/);
        await expectCode(openRegistry({ backend: 'postgres', url: pg.url, schema: name }), 'INVALID_CONFIG', /schema/);
      }
      await expectCode(openRegistry({ backend: 'postgres', url: 'mysql://x' } as PostgresConfig), 'INVALID_CONFIG', /url/);
      await expectCode(openRegistry({ backend: 'postgres', url: 42 } as unknown as PostgresConfig), 'INVALID_CONFIG', /url/);
      await expectCode(openRegistry({ backend: 'postgres', url: pg.url, pollIntervalMs: -1 }), 'INVALID_CONFIG', /pollIntervalMs/);
    });

    it('creates a configured schema that is missing, and quotes it', async () => {
      const schema = 'Nautilus_' + randomBytes(3).toString('hex'); // mixed case: only right when quoted
      try {
        const r = await open({ schema, table: 'Registry' });
        await r.store("'; DROP SCHEMA x; --", 'v');
        const rows = await pg.sql(`SELECT value FROM "${schema}"."Registry"`);
        assert.deepEqual(rows, [{ value: 'v' }]);
        assert.match(r.describe().location, new RegExp(`${schema}\\.Registry`));
      } finally {
        for (const x of opened.splice(0)) {
          await x.close();
        }
        await pg.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });
  });

  describe('polling fallback', () => {
    it('without the privilege to install the trigger: warns once, polls, still reports external changes', async function () {
      if (pg.kind !== 'server') {
        console.log('      skipped: PGlite has one superuser session, so privileges cannot be taken away (set NAUTILUS_TEST_POSTGRES_URL); PGlite itself always runs the polling path');
        this.skip();
      }
      this.timeout(60_000);
      const suffix = randomBytes(3).toString('hex');
      const owner = `nautilus_owner_${suffix}`;
      const user = `nautilus_user_${suffix}`;
      const table = freshTableName('foreign');
      await pg.sql(`CREATE ROLE ${owner} NOLOGIN`);
      await pg.sql(`CREATE ROLE ${user} LOGIN`);
      try {
        await pg.sql(`CREATE TABLE public."${table}" (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)`);
        await pg.sql(`ALTER TABLE public."${table}" OWNER TO ${owner}`);
        await pg.sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON public."${table}" TO ${user}`);
        const url = new URL(pg.url);
        url.username = user;
        const logger = captureLogger();
        const r = await openRegistry({ backend: 'postgres', url: url.toString(), table, pollIntervalMs: 200, logger });
        opened.push(r);
        const warns = logger.lines.filter((l) => l.startsWith('warn:'));
        assert.equal(warns.length, 1, logger.lines.join('\n'));
        assert.match(warns[0], /trigger/);
        assert.ok(r.describe().notes?.some((n) => /polling/.test(n)), JSON.stringify(r.describe().notes));
        const seen: RegistryChange[] = [];
        r.onDidChange((c) => seen.push(c));
        await r.store('mine', 'v');
        await pg.sql(`INSERT INTO public."${table}" VALUES ('theirs', 'x')`);
        const ms = await waitFor('external clear by polling', 1500, () => seen.some((c) => c.kind === 'clear' && c.origin === 'external'));
        console.log(`      polling reported the external change after ${ms} ms`);
        assert.equal(await r.retrieve('theirs'), 'x');
        assert.equal(logger.lines.filter((l) => l.startsWith('warn:')).length, 1, 'said once');
        await r.close();
      } finally {
        await pg.sql(`DROP TABLE IF EXISTS public."${table}"`);
        await pg.sql(`DROP ROLE IF EXISTS ${user}`);
        await pg.sql(`DROP ROLE IF EXISTS ${owner}`);
      }
    });
  });
});
