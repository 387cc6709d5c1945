/**
 * Faults a real machine has, one test per defect found by review (issue 8, "Durability"): a journal
 * swap that fails after its rename, a torn group-commit append, files from a newer version, a full
 * disk at open, compaction that keeps failing, and what reads may see before a write is durable.
 */
import * as assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { openRegistry } from '../../src/registry';
import type { RegistryStorage, SqliteConfig } from '../../src/registry';
import { crc32 } from '../../src/registry/backends/sqliteJournal';
import { readWhole } from '../../src/registry/backends/sqliteNodeFiles';
import { expectCode } from '../conformance/suite';
import { SimFileSystem } from './simFiles';
import type { CrashImage } from './simFiles';
import { contents } from './crashImages';

const FILE = '/sim/registry.db';
const LOG = FILE + '.nautilus-log';
const quiet = { info() {}, warn() {}, error() {} };

function open(fs: SimFileSystem, extra: Partial<SqliteConfig> = {}): Promise<RegistryStorage> {
  return openRegistry({ backend: 'sqlite', file: FILE, fileSystem: fs, logger: quiet, ...extra });
}

function sameImage(a: CrashImage, b: CrashImage): boolean {
  return a.size === b.size && [...a].every(([p, d]) => b.has(p) && Buffer.compare(Buffer.from(d), Buffer.from(b.get(p)!)) === 0);
}

const fsError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('sqlite faults (issue 8)', function () {
  this.timeout(30_000);

  describe('1. a journal swap that fails after its rename', () => {
    for (const [code, message] of [
      ['EIO', 'i/o error (fsync of the folder)'],
      ['EMFILE', 'too many open files (opening the folder)'],
    ] as const) {
      it(`${code}: no write is acknowledged into the replaced journal; every acknowledged write survives a crash`, async () => {
        const sim = new SimFileSystem();
        const r = await open(sim, { compactBytes: 800 });
        const acked = new Map<string, string>();
        for (let i = 0; i < 3; i++) {
          await r.store(`pre/${i}`, 'p'.repeat(100));
          acked.set(`pre/${i}`, 'p'.repeat(100));
        }
        sim.failNextAfter('replace', fsError(code, message), LOG);
        const refusals: unknown[] = [];
        const images: { image: CrashImage; reverted: CrashImage; acked: Map<string, string> }[] = [];
        for (let i = 0; i < 40; i++) {
          const v = `value ${i} ` + 'x'.repeat(100);
          try {
            await r.store(`k/${i}`, v);
            acked.set(`k/${i}`, v);
          } catch (err) {
            refusals.push(err);
          }
          // A crash right after this acknowledgement; with the unsynced rename kept or undone.
          images.push({ image: sim.crashImage(), reverted: sim.crashImage(0, 0, { revertUncertain: true }), acked: new Map(acked) });
          await new Promise((resolve) => setImmediate(resolve));
        }
        for (const err of refusals) {
          await expectCode(Promise.reject(err), 'UNAVAILABLE');
        }
        for (const [n, cp] of images.entries()) {
          for (const image of [cp.image, cp.reverted]) {
            const again = await open(new SimFileSystem(image));
            const got = await contents(again);
            await again.close();
            for (const [k, v] of cp.acked) {
              assert.equal(got.get(k), v, `${k} was acknowledged but is missing after a crash following write ${n} (${image === cp.reverted ? 'the rename undone' : 'the rename kept'}; ${refusals.length} refusals)`);
            }
          }
        }
        await r.close();
      });
    }
  });

  describe('3. a torn group-commit append versus damage in the middle', () => {
    it('a later page of the last (unsynced) append survived and an earlier one did not: a torn tail, acknowledged records kept', async () => {
      const sim = new SimFileSystem();
      const r = await open(sim);
      for (let i = 0; i < 5; i++) {
        await r.store(`acked/${i}`, `value ${i}`);
      }
      let image: CrashImage | undefined;
      sim.onCall = (op) => {
        if (op === 'sync' && !image) {
          image = sim.crashImage(0, 0, { lostPages: true });
        }
      };
      // One group commit: several records in one append.
      await Promise.all(Array.from({ length: 6 }, (_, i) => r.store(`group/${i}`, 'g'.repeat(700))));
      await r.close();
      assert.ok(image);
      const crashed = new SimFileSystem(image);
      const again = await open(crashed);
      const got = await contents(again);
      for (let i = 0; i < 5; i++) {
        assert.equal(got.get(`acked/${i}`), `value ${i}`);
      }
      for (let i = 0; i < 6; i++) {
        assert.equal(got.has(`group/${i}`), false, 'a record of the torn append is not replayed');
      }
      assert.equal(crashed.calls.moveAside, 0, 'nothing was moved aside');
      await again.store('after', 'ok');
      await again.close();
    });

    it('damage inside an acknowledged (synced) append followed by later appends: CORRUPT, every file left as it was, again on the next open', async () => {
      const sim = new SimFileSystem();
      const r = await open(sim);
      for (let i = 0; i < 5; i++) {
        await r.store(`acked/${i}`, `value ${i} ` + 'v'.repeat(60));
      }
      const image = sim.crashImage();
      await r.close();
      const log = image.get(LOG)!;
      log[Math.floor(log.length / 2)] ^= 0x55;
      const before = new Map([...image].map(([p, d]) => [p, d.slice()]));
      const crashed = new SimFileSystem(image);
      const err = await expectCode(open(crashed), 'CORRUPT', /damaged/);
      assert.match(err.message, /left/);
      assert.ok(sameImage(crashed.crashImage(), before), 'no file was changed, moved or removed');
      await expectCode(open(crashed), 'CORRUPT', /damaged/);
      assert.ok(sameImage(crashed.crashImage(), before), 'still nothing changed: no acknowledged record is dropped silently');
    });
  });

  describe('4. files written by a newer version', () => {
    async function imageWithJournal(): Promise<CrashImage> {
      const sim = new SimFileSystem();
      const r = await open(sim);
      await r.store('k', 'v');
      const image = sim.crashImage();
      await r.close();
      return image;
    }

    for (const readOnlyIfLocked of [false, true]) {
      it(`a journal of a newer format: UNSUPPORTED saying so, files untouched${readOnlyIfLocked ? ' (read-only open)' : ''}`, async () => {
        const image = await imageWithJournal();
        const log = image.get(LOG)!;
        log[7] = 0x39; // "NAUTLOG9"
        new DataView(log.buffer, log.byteOffset).setUint32(24, crc32(log, 0, 24));
        const before = new Map([...image].map(([p, d]) => [p, d.slice()]));
        const sim = new SimFileSystem(image);
        await expectCode(open(sim, { readOnlyIfLocked }), 'UNSUPPORTED', /newer version/);
        assert.equal(sim.calls.moveAside + sim.calls.replace + sim.calls.remove, 0);
        assert.ok(sameImage(sim.crashImage(), before));
      });
    }

    it('a snapshot of a newer format: UNSUPPORTED saying so, files untouched', async () => {
      const image = await imageWithJournal();
      const SQL = await initSqlJs();
      const db = new SQL.Database(image.get(FILE)!);
      db.run("INSERT OR REPLACE INTO nautilus_meta(name, value) VALUES ('format', '7')");
      image.set(FILE, db.export());
      db.close();
      const before = new Map([...image].map(([p, d]) => [p, d.slice()]));
      const sim = new SimFileSystem(image);
      await expectCode(open(sim), 'UNSUPPORTED', /newer version/);
      assert.equal(sim.calls.moveAside + sim.calls.replace + sim.calls.remove, 0);
      assert.ok(sameImage(sim.crashImage(), before));
    });

    it('files written by version 0.1.0 (format 1, a crash image with group commits) still open, and carry on', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-format1-'));
      try {
        const fixture = path.resolve(__dirname, '..', '..', '..', 'test', 'sqlite', 'fixtures', 'format1');
        for (const f of readdirSync(fixture)) {
          copyFileSync(path.join(fixture, f), path.join(dir, f));
        }
        const file = path.join(dir, 'registry.db');
        const expected = new Map([
          ['journal/many/a', '1'],
          ['journal/many/b', '2'],
          ['journal/one', 'first é😀'],
          ['journal/three', 'commit'],
          ['journal/ttl', 'permanent'],
          ['journal/two', 'group'],
        ]);
        const r = await openRegistry({ backend: 'sqlite', file });
        assert.deepEqual(await contents(r), expected);
        await r.store('new/one', 'after the upgrade');
        await r.close();
        const again = await openRegistry({ backend: 'sqlite', file });
        expected.set('new/one', 'after the upgrade');
        assert.deepEqual(await contents(again), expected);
        await again.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('5. a full disk at open', () => {
    it('a torn tail that cannot be cut off (no space for the rewrite): opens read-only, says why, reads everything', async () => {
      const sim = new SimFileSystem();
      const r = await open(sim);
      for (let i = 0; i < 5; i++) {
        await r.store(`k/${i}`, `value ${i}`);
      }
      let image: CrashImage | undefined;
      sim.onCall = (op) => {
        if (op === 'sync' && !image) {
          image = sim.crashImage(0.5);
        }
      };
      await r.store('torn', 'x'.repeat(500));
      await r.close();
      const full = new SimFileSystem(image);
      const noSpace = () => Promise.reject(fsError('ENOSPC', 'no space left on device'));
      full.replace = noSpace;
      full.openAppender = noSpace;
      const ro = await open(full);
      assert.equal(ro.describe().readOnly, true);
      assert.match(ro.describe().notes?.join(' ') ?? '', /no space left on device/);
      assert.equal(await ro.retrieve('k/4'), 'value 4');
      assert.equal(await ro.count(), 5);
      await expectCode(ro.store('k/new', 'v'), 'UNAVAILABLE', /no space left on device/);
      await ro.close();
      // Space is back: the same files open for writing and hold everything.
      const again = await open(new SimFileSystem(full.crashImage()));
      assert.equal(again.describe().readOnly, false);
      assert.equal(await again.count(), 5);
      await again.store('k/new', 'v');
      await again.close();
    });
  });

  describe('6. compaction that keeps failing', () => {
    it('maxJournalBytes is validated: a whole number up to 1 GiB, not below compactBytes', async () => {
      await expectCode(open(new SimFileSystem(), { maxJournalBytes: 2 ** 31 } ), 'INVALID_CONFIG', /maxJournalBytes/);
      await expectCode(open(new SimFileSystem(), { compactBytes: 1 << 20, maxJournalBytes: 1 << 19 } ), 'INVALID_CONFIG', /compactBytes.*maxJournalBytes/);
    });

    it('the journal stays under maxJournalBytes: writes past it are refused with UNAVAILABLE saying why; reads go on; writes resume once compaction works', async () => {
      const sim = new SimFileSystem();
      const realReplace = sim.replace.bind(sim);
      let diskFull = false;
      sim.replace = (p, data) => (diskFull && p === FILE ? Promise.reject(fsError('ENOSPC', 'no space left on device')) : realReplace(p, data));
      const r = await open(sim, { compactBytes: 2000, maxJournalBytes: 16_000 } );
      diskFull = true;
      let refused: unknown;
      let stored = 0;
      for (let i = 0; i < 200 && !refused; i++) {
        try {
          await r.store(`k/${i}`, 'x'.repeat(300));
          stored++;
        } catch (err) {
          refused = err;
        }
        assert.ok((sim.files.get(LOG)?.current.length ?? 0) <= 16_000, `the journal is ${sim.files.get(LOG)?.current.length} bytes`);
      }
      assert.ok(refused, `200 writes of 300 bytes were all accepted while compaction failed`);
      await expectCode(Promise.reject(refused), 'UNAVAILABLE', /limit.*compact.*no space left on device/s);
      assert.equal(await r.count(), stored, 'reads go on and the refused write changed nothing');
      diskFull = false;
      // Each refused change retries the compaction (at most four times a second).
      for (let tries = 0; ; tries++) {
        try {
          await r.store('k/after', 'works again');
          break;
        } catch (err) {
          assert.ok(tries < 20, `still refused after the disk has space again: ${String(err)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await r.close();
      const again = await open(new SimFileSystem(sim.crashImage()));
      assert.equal(await again.count(), stored + 1);
      await again.close();
    });

    it('the Node seam reads files in chunks (readFile stops at 2 GiB): whole, across chunk edges, in one lane or two, missing, grown after stat', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-read-'));
      try {
        const f = path.join(dir, 'data');
        const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) & 0xff);
        writeFileSync(f, bytes);
        for (const chunk of [1, 4096, 99_999, 100_003, 1 << 20]) {
          assert.deepEqual(Buffer.from((await readWhole(f, chunk === 1 ? 7 : chunk))!), Buffer.from(bytes), `chunks of ${chunk}`);
          // two reads at once, each into its half (an odd length: the halves differ by a byte)
          assert.deepEqual(Buffer.from((await readWhole(f, chunk === 1 ? 7 : chunk, 1))!), Buffer.from(bytes), `two lanes, chunks of ${chunk}`);
        }
        assert.equal(await readWhole(path.join(dir, 'missing')), undefined);
        appendFileSync(f, 'tail');
        assert.equal((await readWhole(f, 4096))!.length, bytes.length + 4);
        assert.deepEqual(Buffer.from((await readWhole(f, 4096, 1))!), readFileSync(f));
        assert.deepEqual(Buffer.from((await readWhole(f))!), readFileSync(f));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('7. what reads see before a write is durable (documented in RegistryStorage)', () => {
    it('a read made after a write sees it before it is durable; when saving it fails, the write rejects and no read serves it again; no event for it', async () => {
      const sim = new SimFileSystem();
      const r = await open(sim);
      await r.store('k', 'durable');
      const events: string[] = [];
      r.onDidChange((c) => events.push(`${c.kind} ${c.key}`));
      let image: CrashImage | undefined;
      sim.onCall = (op) => {
        if (op === 'sync' && !image) {
          image = sim.crashImage();
        }
      };
      sim.failNext('sync', fsError('EIO', 'i/o error'));
      const write = r.store('k', 'not durable yet');
      // Read-your-own-writes: visible at once, to this caller and any other of this object.
      assert.equal(await r.retrieve('k'), 'not durable yet');
      await expectCode(write, 'UNAVAILABLE', /i\/o error/);
      await expectCode(r.retrieve('k'), 'UNAVAILABLE', /open it again/);
      await expectCode(r.list(), 'UNAVAILABLE');
      assert.deepEqual(events, [], 'no change event for a write that was not acknowledged');
      await r.close();
      // A crash while it was in flight: the change is gone, the acknowledged value is there.
      const again = await open(new SimFileSystem(image));
      assert.equal(await again.retrieve('k'), 'durable');
      await again.close();
    });
  });
});
