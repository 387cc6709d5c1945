/**
 * The sqlite backend against real files: unreadable files are moved aside (never overwritten),
 * locks between processes, what close leaves behind, and that other SQLite tools read the file.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { openRegistry } from '../../src/registry';
import type { RegistryError, RegistryStorage, SqliteConfig } from '../../src/registry';
import { imageForSqlJs } from '../../src/registry/backends/sqlite';
import { isHandedOver, markHandedOver } from '../../src/registry/backends/sqliteFiles';
import { encodeRecord, parseJournal } from '../../src/registry/backends/sqliteJournal';
import { nodeFileSystem } from '../../src/registry/backends/sqliteNodeFiles';
import { expectCode } from '../conformance/suite';

const HOLDER = path.join(__dirname, 'fixtures', 'holder.js');
const ROOT = path.resolve(__dirname, '..', '..', '..');

let dir: string;
let file: string;
const opened: RegistryStorage[] = [];

async function open(extra: Partial<SqliteConfig> = {}, at = file): Promise<RegistryStorage> {
  const r = await openRegistry({ backend: 'sqlite', file: at, lockTimeoutMs: 200, ...extra });
  opened.push(r);
  return r;
}

/** A copy of the files as a crash now would leave them (the registry stays open). */
function crashCopy(to: string): void {
  for (const suffix of ['', '.nautilus-log']) {
    if (existsSync(file + suffix)) {
      copyFileSync(file + suffix, to + suffix);
    }
  }
}

function movedPath(err: RegistryError): string {
  const m = / moved to (\S+?\.corrupt-\d{8}T\d{6}Z(?:-\d+)?)/.exec(err.message);
  assert.ok(m, `the message says where the file went: ${err.message}`);
  return m[1];
}

const collect = () => {
  const lines: string[] = [];
  return { lines, logger: { info: () => undefined, warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) } };
};

/** better-sqlite3 (an optional dependency), or the reason it cannot be loaded. */
type BetterDb = {
  prepare(sql: string): { all(...a: unknown[]): Record<string, unknown>[]; get(...a: unknown[]): Record<string, unknown>; run(...a: unknown[]): unknown };
  exec(sql: string): void;
  close(): void;
};
function loadBetterSqlite(): { open?: (f: string, o?: object) => BetterDb; reason?: string } {
  try {
    const Ctor = createRequire(__filename)('better-sqlite3') as new (f: string, o?: object) => BetterDb;
    new Ctor(':memory:').close();
    return { open: (f, o) => new Ctor(f, o) };
  } catch (err) {
    return { reason: `better-sqlite3 cannot be loaded (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
}

describe('sqlite files', function () {
  this.timeout(30_000);
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-files-'));
    file = path.join(dir, 'registry.db');
  });
  afterEach(async () => {
    for (const r of opened.splice(0)) {
      await r.close().catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  describe('unreadable files are moved aside, never overwritten', () => {
    for (const [what, bytes] of [
      ['a file of random bytes', Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7919 + 13) & 0xff))],
      ['a short text file', Buffer.from('these are my notes, not a database\n')],
    ] as const) {
      it(`${what}: CORRUPT naming where it went; the next open starts empty`, async () => {
        writeFileSync(file, bytes);
        const err = await expectCode(open(), 'CORRUPT', /not an SQLite database/);
        const moved = movedPath(err);
        assert.equal(existsSync(file), false);
        assert.deepEqual(readFileSync(moved), bytes, 'the moved file is untouched');
        assert.equal(existsSync(file + '.nautilus-lock'), false, 'the lock is released');
        const r = await open();
        assert.equal(await r.count(), 0);
        await r.store('new', 'start');
        await r.close();
        assert.deepEqual(readFileSync(moved), bytes);
      });
    }

    async function filled(n = 3000): Promise<void> {
      const r = await open();
      await r.storeMany(Array.from({ length: n }, (_, i) => ({ key: `k/${String(i).padStart(5, '0')}`, value: 'v'.repeat(200) })));
      await r.close();
    }

    it('a database cut short (not a whole number of pages): CORRUPT, moved', async () => {
      await filled();
      const size = readFileSync(file).length;
      truncateSync(file, Math.floor(size / 2) + 100);
      const original = readFileSync(file);
      const err = await expectCode(open(), 'CORRUPT', /cut short/);
      assert.deepEqual(readFileSync(movedPath(err)), original);
    });

    it('a database cut short at a page boundary: CORRUPT, moved', async () => {
      await filled();
      const size = readFileSync(file).length;
      truncateSync(file, Math.floor(size / 2 / 4096) * 4096);
      const err = await expectCode(open(), 'CORRUPT', /cut short/);
      assert.ok(existsSync(movedPath(err)));
    });

    it('a database with a damaged page inside: CORRUPT (SQLite finds it damaged), moved with its journal', async () => {
      await filled();
      const r = await open();
      await r.store('journaled', 'x'); // so that a journal exists too
      const copy = path.join(dir, 'copy.db');
      crashCopy(copy);
      await r.close();
      const bytes = readFileSync(copy);
      bytes.fill(0xab, Math.floor(bytes.length / 2 / 4096) * 4096, Math.floor(bytes.length / 2 / 4096) * 4096 + 4096);
      writeFileSync(copy, bytes);
      const err = await expectCode(open({}, copy), 'CORRUPT', /damaged/);
      assert.ok(existsSync(movedPath(err)));
      assert.match(err.message, /journal was moved along to \S+\.nautilus-log\.corrupt-/);
      assert.equal(existsSync(copy + '.nautilus-log'), false);
    });

    for (const thread of ['worker', 'inline'] as const) {
      it(`a damaged page after a clean close: the first reads need not wait, the first write finds it (CORRUPT), nothing overwritten (${thread})`, async () => {
        await filled();
        assert.equal(existsSync(file + '.nautilus-log'), false, 'a clean close leaves no journal');
        const bytes = readFileSync(file);
        const at = Math.floor(bytes.length / 2 / 4096) * 4096;
        bytes.fill(0xab, at, at + 4096);
        writeFileSync(file, bytes);
        const r = await open({ thread });
        // Reads are served before the check; a page they touch may already be found damaged.
        await r.children('', '/').catch(() => undefined);
        const err = await expectCode(r.store('new', 'value'), 'CORRUPT', /damaged/);
        assert.match(err.message, /nothing was overwritten/);
        assert.deepEqual(readFileSync(movedPath(err)), bytes, 'the damaged file was moved aside untouched');
        assert.equal(existsSync(file), false);
        await expectCode(r.retrieve('k/00001'), 'CORRUPT');
        assert.equal(r.describe().state, 'unavailable');
        await r.close();
        const again = await open({ thread });
        assert.equal(await again.count(), 0, 'the next open starts empty');
      });
    }

    it('a corrupt database in a registry opened read-only (locked by another) is reported but left in place', async () => {
      writeFileSync(file, 'garbage that is long enough to not be a database at all, really not');
      writeFileSync(file + '.nautilus-lock', JSON.stringify({ app: 'nautilus-registry', pid: process.pid, host: os.hostname(), nonce: 'other', since: 'now' }));
      const err = await expectCode(open({ readOnlyIfLocked: true }), 'CORRUPT', /left in place/);
      assert.doesNotMatch(err.message, /moved to/);
      assert.ok(existsSync(file));
    });

    /** A registry whose journal holds five records after the snapshot (a crash image). */
    async function journaled(): Promise<{ copy: string; log: Buffer }> {
      const r = await open();
      for (let i = 1; i <= 5; i++) {
        await r.store(`j/${i}`, `value ${i}`);
      }
      const copy = path.join(dir, 'copy.db');
      crashCopy(copy);
      await r.close();
      return { copy, log: readFileSync(copy + '.nautilus-log') };
    }

    it('a torn record at the end of the journal (a crash mid-append) is dropped; everything before it is kept', async () => {
      const { copy, log } = await journaled();
      const records = parseJournal(log).records;
      assert.equal(records.length, 5);
      // Cut the last record short, as a crash in the middle of its append would.
      writeFileSync(copy + '.nautilus-log', log.subarray(0, records[4].start + 20));
      const { lines, logger } = collect();
      const r = await open({ logger }, copy);
      assert.deepEqual((await r.list()).keys, ['j/1', 'j/2', 'j/3', 'j/4']);
      assert.ok(lines.some((l) => /dropped \d+ bytes of an interrupted write/.test(l)), lines.join('\n'));
      await r.store('j/after', 'ok'); // appended after the good part, not after the torn bytes
      await r.close();
      const again = await open({}, copy);
      assert.deepEqual((await again.list()).keys, ['j/1', 'j/2', 'j/3', 'j/4', 'j/after']);
    });

    it('zeros or a half record after the last good record are a torn tail too', async () => {
      const { copy, log } = await journaled();
      const half = encodeRecord(6, [['p', 'j/6', 'never acknowledged', null]]);
      writeFileSync(copy + '.nautilus-log', Buffer.concat([log, half.subarray(0, half.length - 3), Buffer.alloc(4096)]));
      const r = await open({}, copy);
      assert.equal(await r.count(), 5);
      assert.equal(await r.contains('j/6'), false);
    });

    it('a damaged record in the middle of the journal: CORRUPT, every file left in place (it holds acknowledged changes), again on the next open', async () => {
      const { copy, log } = await journaled();
      const records = parseJournal(log).records;
      const damaged = Buffer.from(log);
      damaged[records[1].start + 20] ^= 0x55; // inside record 2's payload
      writeFileSync(copy + '.nautilus-log', damaged);
      const dbBefore = readFileSync(copy);
      const err = await expectCode(open({}, copy), 'CORRUPT', /damaged but record \d+ at byte \d+ after it is intact/);
      assert.match(err.message, /left in place and nothing was changed/);
      assert.match(err.message, /move \S+\.nautilus-log away/);
      assert.deepEqual(readFileSync(copy + '.nautilus-log'), damaged);
      assert.deepEqual(readFileSync(copy), dbBefore, 'the database file was not changed');
      assert.equal(readdirSync(dir).filter((f) => f.includes('.corrupt-')).length, 0, 'nothing was moved aside');
      await expectCode(open({}, copy), 'CORRUPT', /damaged/);
      // The user decides: with the journal moved away, the database as of its last compaction opens.
      rmSync(copy + '.nautilus-log');
      const r = await open({}, copy);
      assert.equal(await r.count(), 0, 'the snapshot (taken before the five writes) is what remains');
    });

    it('a journal with a damaged header: CORRUPT, moved aside', async () => {
      const { copy, log } = await journaled();
      const damaged = Buffer.from(log);
      damaged[3] = 0x21;
      writeFileSync(copy + '.nautilus-log', damaged);
      const err = await expectCode(open({}, copy), 'CORRUPT', /signature/);
      assert.deepEqual(readFileSync(movedPath(err)), damaged);
    });

    it("another database's journal next to the file: CORRUPT (it belongs to another database)", async () => {
      const { copy } = await journaled();
      const other = path.join(dir, 'other.db');
      const r2 = await open({}, other);
      await r2.store('x', 'y');
      copyFileSync(other + '.nautilus-log', copy + '.nautilus-log');
      await expectCode(open({}, copy), 'CORRUPT', /belongs to another database/);
    });

    it('a journal whose database is gone: CORRUPT, moved aside (its changes cannot be replayed)', async () => {
      const { copy } = await journaled();
      rmSync(copy);
      const err = await expectCode(open({}, copy), 'CORRUPT', /database .* is missing/);
      assert.ok(existsSync(movedPath(err)));
      const r = await open({}, copy);
      assert.equal(await r.count(), 0);
    });

    it('an SQLite database of another application is refused with INVALID_CONFIG and left untouched', async function () {
      const better = loadBetterSqlite();
      if (!better.open) {
        console.log(`      skipped: ${better.reason}`);
        this.skip();
      }
      const db = better.open!(file);
      db.exec('CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES (\'keep me\')');
      db.close();
      const before = readFileSync(file);
      await expectCode(open(), 'INVALID_CONFIG', /another application .*notes/);
      assert.deepEqual(readFileSync(file), before);
      assert.deepEqual(readdirSync(dir), ['registry.db'], 'no side file is left behind');
    });

    it('an empty file and an empty SQLite database are used as new registries', async () => {
      writeFileSync(file, '');
      const r = await open();
      await r.store('a', '1');
      await r.close();
      const again = await open();
      assert.equal(await again.retrieve('a'), '1');
      // An SQLite database with no tables (e.g. made with the sqlite3 tool).
      const SQL = await initSqlJs();
      const empty = new SQL.Database();
      empty.run('PRAGMA user_version = 7');
      const other = path.join(dir, 'empty.db');
      writeFileSync(other, empty.export());
      empty.close();
      const r2 = await open({}, other);
      await r2.store('b', '2');
      await r2.close();
      const again2 = await open({}, other);
      assert.deepEqual((await again2.list()).keys, ['b']);
    });
  });

  describe('locks', () => {
    const holders: ChildProcessWithoutNullStreams[] = [];
    afterEach(() => {
      for (const h of holders.splice(0)) {
        h.kill('SIGKILL');
      }
    });

    /** Starts a holder process; resolves with its pid once it has the registry open. */
    function hold(closeAfterMs: number): Promise<{ pid: number; child: ChildProcessWithoutNullStreams; closed: Promise<void> }> {
      assert.ok(existsSync(HOLDER), `${HOLDER} is missing: run npm run build:tests`);
      const child = spawn(process.execPath, [HOLDER, file, String(closeAfterMs)]);
      holders.push(child);
      let out = '';
      let resolveClosed: () => void;
      const closed = new Promise<void>((r) => (resolveClosed = r));
      return new Promise((resolve, reject) => {
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d: string) => {
          out += d;
          const m = /ready (\d+)/.exec(out);
          if (m && !out.includes('resolved')) {
            out += 'resolved';
            resolve({ pid: Number(m[1]), child, closed });
          }
          if (out.includes('closed')) {
            resolveClosed();
          }
          if (out.includes('error')) {
            reject(new Error(out));
          }
        });
        child.on('exit', (code) => (code !== 0 ? reject(new Error(`holder exited with ${code}: ${out}`)) : undefined));
      });
    }

    it('a second process gets LOCKED naming the holder, or a read-only registry when asked', async () => {
      const { pid, child, closed } = await hold(20_000);
      const err = await expectCode(open({ lockTimeoutMs: 300 }), 'LOCKED', new RegExp(`process ${pid} on host`));
      assert.match(err.message, /nautilus-lock/);
      const ro = await open({ readOnlyIfLocked: true, lockTimeoutMs: 100 });
      assert.equal(ro.describe().readOnly, true);
      assert.equal(ro.describe().state, 'open');
      assert.equal(await ro.retrieve('held'), 'yes', 'the read-only view sees what the holder wrote (replayed from its journal)');
      await expectCode(ro.store('mine', 'no'), 'LOCKED', new RegExp(`read-only.*process ${pid}`));
      await expectCode(ro.remove('held'), 'LOCKED');
      await ro.close();
      assert.ok(existsSync(file + '.nautilus-lock'), 'closing the read-only registry leaves the holder\'s lock alone');
      child.stdin.write('close\n');
      await closed;
      const r = await open();
      assert.equal(await r.retrieve('held'), 'yes');
      assert.equal(r.describe().readOnly, false);
    });

    it('waits for a live holder that lets go within lockTimeoutMs (an extension host reload overlaps briefly)', async () => {
      await hold(400);
      const started = Date.now();
      const r = await open({ lockTimeoutMs: 10_000 });
      assert.ok(Date.now() - started >= 100, 'it waited');
      assert.equal(await r.retrieve('held'), 'yes');
    });

    it('takes over a stale lock whose process is gone', async () => {
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const deadPid = Number(dead.stdout);
      writeFileSync(file + '.nautilus-lock', JSON.stringify({ app: 'nautilus-registry', pid: deadPid, host: os.hostname(), nonce: 'stale', since: 'earlier' }));
      const started = Date.now();
      const r = await open({ lockTimeoutMs: 10_000 });
      assert.ok(Date.now() - started < 2000, 'no waiting for a dead process');
      await r.store('k', 'v');
      const lock = JSON.parse(readFileSync(file + '.nautilus-lock', 'utf8')) as { pid: number };
      assert.equal(lock.pid, process.pid);
    });

    it('takes over a lock whose pid now belongs to another process (Linux: start time differs)', async function () {
      if (process.platform !== 'linux') {
        console.log('      skipped: process start times are read from /proc, which only Linux has');
        this.skip();
      }
      const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      // Our own pid is alive, but the lock says it started at another time: the pid was reused.
      writeFileSync(
        file + '.nautilus-lock',
        JSON.stringify({ app: 'nautilus-registry', pid: process.pid, host: os.hostname(), nonce: 'reused', since: 'long ago', bootId, startTicks: '1' }),
      );
      const r = await open({ lockTimeoutMs: 10_000 });
      await r.store('k', 'v');
    });

    it('a second open in the same process gets LOCKED (already open here)', async () => {
      const r = await open();
      await expectCode(open(), 'LOCKED', /already open here/);
      await r.store('still', 'works');
    });

    it('an unreadable lock file: a fresh one is respected, one older than 10 s is taken over', async () => {
      writeFileSync(file + '.nautilus-lock', '');
      await expectCode(open({ lockTimeoutMs: 150 }), 'LOCKED', /unknown process/);
      const old = (Date.now() - 60_000) / 1000;
      utimesSync(file + '.nautilus-lock', old, old);
      const r = await open();
      await r.store('k', 'v');
    });
  });

  describe('configuration and side files', () => {
    it('rejects bad sqlite settings with INVALID_CONFIG naming the field', async () => {
      await expectCode(open({ file: '' }), 'INVALID_CONFIG', /file must not be empty/);
      await expectCode(open({ compactBytes: 0 }), 'INVALID_CONFIG', /compactBytes/);
      await expectCode(open({ lockTimeoutMs: -1 }), 'INVALID_CONFIG', /lockTimeoutMs/);
      await expectCode(open({ readOnlyIfLocked: 'yes' as unknown as boolean }), 'INVALID_CONFIG', /readOnlyIfLocked/);
      await expectCode(open({ wasmPath: 42 as unknown as string }), 'INVALID_CONFIG', /wasmPath/);
      await expectCode(open({ fileSystem: { read: async () => undefined } as unknown as SqliteConfig['fileSystem'] }), 'INVALID_CONFIG', /fileSystem .*missing: openAppender/);
      await expectCode(open({ wasmPath: path.join(dir, 'nowhere.wasm') }), 'UNAVAILABLE', /nowhere\.wasm/);
      assert.deepEqual(readdirSync(dir), [], 'nothing was created');
    });

    it('side files are <file>.nautilus-log and <file>.nautilus-lock, never names SQLite reads (-journal, -wal, -shm)', async () => {
      const r = await open();
      await r.store('k', 'v');
      assert.deepEqual(readdirSync(dir).sort(), ['registry.db', 'registry.db.nautilus-lock', 'registry.db.nautilus-log']);
      await r.close();
      assert.deepEqual(readdirSync(dir), ['registry.db']);
    });
  });

  describe('the file image handed to sql.js', () => {
    it('becomes the database without a copy when the seam let go of it (markHandedOver), and is copied when it did not', async () => {
      const SQL = await initSqlJs();
      const source = new SQL.Database();
      source.run("CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('before')");
      const image = source.export();
      source.close();
      for (const handedOver of [false, true]) {
        const bytes = handedOver ? markHandedOver(image.slice()) : image.slice();
        const db = new SQL.Database(imageForSqlJs(bytes));
        db.run("UPDATE t SET v = 'after'");
        assert.equal(String(db.exec('SELECT v FROM t')[0].values[0][0]), 'after');
        db.close();
        // sql.js writes its pages into the image it owns, and leaves alone the one it copied.
        assert.equal(Buffer.from(bytes).equals(Buffer.from(image)), !handedOver, handedOver ? 'sql.js copied an image it could own' : 'sql.js wrote into an image the seam still holds');
      }
    });

    it("Node's file seam hands over what it reads", async () => {
      writeFileSync(file, 'x');
      const bytes = await nodeFileSystem().read(file);
      assert.ok(bytes && isHandedOver(bytes));
    });
  });

  describe('close and other SQLite tools', () => {
    async function sample(): Promise<string[]> {
      const r = await open();
      const keys = ['b', 'a', 'é', '中', '\uE000', '😀', '\u{10000}', 'a/b', 'z'];
      await r.storeMany(keys.map((key) => ({ key, value: `v:${key}` })));
      await r.store('ttl', 'soon', { ttlMs: 600_000 });
      await r.store('gone', 'x');
      await r.remove('gone');
      const order = (await r.list()).keys;
      await r.close();
      return order;
    }

    it('close folds the journal into the database file and removes the lock; reopening sees everything', async () => {
      const order = await sample();
      assert.deepEqual(readdirSync(dir), ['registry.db']);
      const r = await open();
      assert.deepEqual((await r.list()).keys, order);
      assert.ok((await r.inspect('ttl'))?.expiresAt);
      await r.close();
      await r.close();
      await expectCode(r.retrieve('a'), 'CLOSED');
      assert.equal(r.describe().state, 'closed');
    });

    it('better-sqlite3 reads the closed file: intact, same rows, same order; its changes are seen on reopen', async function () {
      const better = loadBetterSqlite();
      if (!better.open) {
        console.log(`      skipped: ${better.reason}`);
        this.skip();
      }
      const order = await sample();
      const db = better.open!(file, { readonly: true });
      assert.equal(db.prepare('PRAGMA integrity_check').get().integrity_check, 'ok');
      const rows = db.prepare('SELECT key, value, expires_at FROM registry ORDER BY key').all();
      db.close();
      assert.deepEqual(
        rows.map((r) => r.key),
        order,
        'SQLite orders keys as the registry does',
      );
      assert.ok(rows.every((r) => r.value === `v:${String(r.key)}` || r.key === 'ttl'));
      assert.ok(Number(rows.find((r) => r.key === 'ttl')!.expires_at) > Date.now());
      const w = better.open!(file);
      w.prepare('INSERT INTO registry(key, value) VALUES (?, ?)').run('from/sqlite', 'hello');
      w.close();
      assert.deepEqual(readdirSync(dir), ['registry.db'], 'better-sqlite3 left no -journal behind');
      const r = await open();
      assert.equal(await r.retrieve('from/sqlite'), 'hello');
    });

    it('the sqlite3 command-line tool reads the closed file', async function () {
      const which = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' });
      if (which.error || which.status !== 0) {
        console.log('      skipped: the sqlite3 command-line tool is not installed (apt-get install sqlite3)');
        this.skip();
      }
      const order = await sample();
      const res = spawnSync('sqlite3', ['-readonly', file, 'PRAGMA integrity_check; SELECT count(*) FROM registry; SELECT key FROM registry ORDER BY key;'], {
        encoding: 'utf8',
      });
      assert.equal(res.status, 0, res.stderr);
      const lines = res.stdout.trimEnd().split('\n');
      assert.equal(lines[0], 'ok');
      assert.equal(Number(lines[1]), order.length);
      assert.deepEqual(lines.slice(2), order);
    });

    it('dist/registry.js loads sql-wasm.wasm from next to itself', function () {
      const bundle = path.join(ROOT, 'dist', 'registry.js');
      assert.ok(existsSync(bundle), `${bundle} is missing: npm test builds it first (npm run compile)`);
      // A folder with no node_modules above it: the sql.js package cannot be found from there.
      const alone = mkdtempSync(path.join(os.tmpdir(), 'nautilus-dist-'));
      try {
        copyFileSync(bundle, path.join(alone, 'registry.js'));
        copyFileSync(path.join(ROOT, 'dist', 'sqliteThread.js'), path.join(alone, 'sqliteThread.js'));
        const script = `
          const { openRegistry } = require('./registry.js');
          (async () => {
            const r = await openRegistry({ backend: 'sqlite', file: 'x.db', ...(process.argv[1] ? { wasmPath: process.argv[1] } : {}) });
            await r.store('k', 'from the bundle');
            const v = await r.retrieve('k');
            await r.close();
            console.log(JSON.stringify({ ok: v }));
          })().catch((e) => { console.log(JSON.stringify({ code: e.code, message: e.message })); });`;
        const run = (wasmPath = '') => {
          const res = spawnSync(process.execPath, ['-e', script, wasmPath], { cwd: alone, encoding: 'utf8' });
          assert.equal(res.status, 0, res.stderr);
          return JSON.parse(res.stdout.trim().split('\n').pop()!) as { ok?: string; code?: string; message?: string };
        };
        // Without the wasm next to it and no sql.js package in reach: a clear UNAVAILABLE.
        const missing = run();
        assert.equal(missing.code, 'UNAVAILABLE', JSON.stringify(missing));
        assert.match(missing.message!, /sql-wasm\.wasm/);
        // With wasmPath set explicitly.
        assert.deepEqual(run(require.resolve('sql.js/dist/sql-wasm.wasm')), { ok: 'from the bundle' });
        // Next to the bundle, as esbuild.mjs puts it.
        copyFileSync(path.join(ROOT, 'dist', 'sql-wasm.wasm'), path.join(alone, 'sql-wasm.wasm'));
        assert.deepEqual(run(), { ok: 'from the bundle' });
        assert.ok(existsSync(path.join(alone, 'x.db')));
      } finally {
        rmSync(alone, { recursive: true, force: true });
      }
    });
  });
});
