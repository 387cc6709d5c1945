/**
 * The web file seam (sqliteWebFiles.ts): the sqlite backend over a file system with no append, no
 * fsync and no atomic replace (vscode.workspace.fs in a browser), simulated by SimBasicFileSystem.
 * A crash image is taken before every file operation and, for every writeFile, three more with the
 * file half written; every image must reopen holding every acknowledged write.
 */
import * as assert from 'node:assert/strict';
import { openRegistry } from '../../src/registry';
import type { RegistryStorage, SqliteConfig } from '../../src/registry';
import { replaceLeftUnchanged } from '../../src/registry/backends/sqliteFiles';
import { webFileSystem } from '../../src/registry/backends/sqliteWebFiles';
import type { WebFileSystemOptions } from '../../src/registry/backends/sqliteWebFiles';
import { expectCode } from '../conformance/suite';
import { rng } from '../support/random';
import { SimBasicFileSystem, SimLockManager } from './simBasicFiles';
import type { BasicImage } from './simBasicFiles';
import { verifyCrashImage } from './crashImages';
import type { Checkpoint, State } from './crashImages';

const DIR = '/storage';
const FILE = `${DIR}/registry.sqlite`;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function open(fs: SimBasicFileSystem, extra: Partial<SqliteConfig> = {}, options: WebFileSystemOptions = { locks: new SimLockManager() }): Promise<RegistryStorage> {
  // inline: in a browser the engine runs on the extension host's thread (no worker_threads), as here.
  return openRegistry({ backend: 'sqlite', file: FILE, fileSystem: webFileSystem(fs, options), thread: 'inline', ...extra });
}

describe('sqlite on the web file seam (no append, no atomic replace)', function () {
  this.timeout(180_000);

  describe('the seam', () => {
    it('appends become segments; reads concatenate them; replace starts a new generation and deletes the old files', async () => {
      const sim = new SimBasicFileSystem();
      const f = webFileSystem(sim, { locks: new SimLockManager() });
      assert.equal(await f.read(`${DIR}/a`), undefined);
      const app = await f.openAppender(`${DIR}/a`);
      await app.append(enc('one '));
      await app.append(enc('two '));
      assert.equal(dec(await f.read(`${DIR}/a`)), '', 'appended bytes are not there before sync');
      await app.sync();
      await app.append(enc('three'));
      await app.sync();
      assert.equal(dec(await f.read(`${DIR}/a`)), 'one two three');
      assert.deepEqual([...sim.files.keys()].sort(), [`${DIR}/a.g1`, `${DIR}/a.g1.s1`, `${DIR}/a.g1.s2`]);
      await f.replace(`${DIR}/a`, enc('fresh'));
      assert.deepEqual([...sim.files.keys()], [`${DIR}/a.g2`]);
      assert.equal(dec(await f.read(`${DIR}/a`)), 'fresh');
      await assert.rejects(app.sync().then(() => app.append(enc('x'))).then(() => app.sync()), /replaced/, 'an appender of an older generation refuses to write');
      await f.remove(`${DIR}/a`);
      assert.equal(await f.read(`${DIR}/a`), undefined);
      assert.equal(sim.files.size, 0);
    });

    it('every 64 segments merge into one chunk; reads and appends go on across chunks and reopen', async () => {
      const sim = new SimBasicFileSystem();
      const f = webFileSystem(sim, { locks: new SimLockManager() });
      const app = await f.openAppender(`${DIR}/j`);
      let expected = '';
      for (let i = 0; i < 150; i++) {
        await app.append(enc(`${i},`));
        await app.sync();
        expected += `${i},`;
      }
      const names = [...sim.files.keys()];
      assert.equal(names.filter((n) => /\.c\d+$/.test(n)).length, 2);
      assert.equal(names.filter((n) => /\.s\d+$/.test(n)).length, 150 - 128);
      assert.equal(dec(await f.read(`${DIR}/j`)), expected);
      const sim2 = new SimBasicFileSystem(sim.crashImage());
      const f2 = webFileSystem(sim2, { locks: new SimLockManager() });
      const app2 = await f2.openAppender(`${DIR}/j`);
      for (let i = 150; i < 200; i++) {
        await app2.append(enc(`${i},`));
        await app2.sync();
        expected += `${i},`;
      }
      assert.equal(dec(await f2.read(`${DIR}/j`)), expected);
      assert.equal([...sim2.files.keys()].filter((n) => /\.c\d+$/.test(n)).length, 3);
    });

    it('a half-written generation or segment is ignored; the next appender removes it and goes on', async () => {
      const sim = new SimBasicFileSystem();
      const f = webFileSystem(sim, { locks: new SimLockManager() });
      await f.replace(`${DIR}/a`, enc('old'));
      const app = await f.openAppender(`${DIR}/a`);
      await app.append(enc('+1'));
      await app.sync();
      // A crash while the next segment is written, and one while a replace writes generation 2.
      sim.files.set(`${DIR}/a.g1.s2`, enc('+2 and no trailer'));
      sim.files.set(`${DIR}/a.g2`, new Uint8Array(40));
      assert.equal(dec(await f.read(`${DIR}/a`)), 'old+1');
      const f2 = webFileSystem(sim, { locks: new SimLockManager() });
      const app2 = await f2.openAppender(`${DIR}/a`);
      assert.deepEqual([...sim.files.keys()].sort(), [`${DIR}/a.g1`, `${DIR}/a.g1.s1`]);
      await app2.append(enc('+3'));
      await app2.sync();
      assert.equal(dec(await f2.read(`${DIR}/a`)), 'old+1+3');
    });

    it('a replace whose write fails leaves the old content, says so (unchanged), and its appender goes on', async () => {
      const sim = new SimBasicFileSystem();
      const f = webFileSystem(sim, { locks: new SimLockManager() });
      const app = await f.openAppender(`${DIR}/j`);
      await app.append(enc('kept'));
      await app.sync();
      sim.failNext('writeFile');
      const err = await f.replace(`${DIR}/j`, enc('new')).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof Error && replaceLeftUnchanged(err), 'the failure is marked unchanged');
      assert.equal(dec(await f.read(`${DIR}/j`)), 'kept');
      await app.append(enc('+more'));
      await app.sync();
      assert.equal(dec(await f.read(`${DIR}/j`)), 'kept+more');
    });

    it('moveAside keeps the content under a new name and removes the original', async () => {
      const sim = new SimBasicFileSystem();
      const f = webFileSystem(sim, { locks: new SimLockManager() });
      await f.replace(`${DIR}/db`, enc('bad'));
      await f.replace(`${DIR}/db.corrupt-x`, enc('older bad'));
      const moved = await f.moveAside(`${DIR}/db`, '.corrupt-x');
      assert.equal(moved, `${DIR}/db.corrupt-x-1`);
      assert.equal(dec(await f.read(moved)), 'bad');
      assert.equal(await f.read(`${DIR}/db`), undefined);
      await assert.rejects(f.moveAside(`${DIR}/missing`, '.x'), /does not exist/);
    });
  });

  describe('durability (simulated crashes)', () => {
    for (const [name, compactBytes, rounds] of [
      ['frequent compactions', 3000, 45],
      ['long journals merged into chunks', 400_000, 110],
    ] as const) {
      it(`every crash image - before each file operation, and three torn states of each write - holds every acknowledged write (${name})`, async () => {
        const seed = Number(process.env.NAUTILUS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
        const next = rng(seed);
        const sim = new SimBasicFileSystem();
        const r = await open(sim, { compactBytes });
        const acked: State = new Map();
        const inflight: State = new Map();
        const checkpoints: Checkpoint<BasicImage>[] = [];
        const snap = (label: string, image = sim.crashImage()) => checkpoints.push({ label, image, acked: new Map(acked), inflight: new Map(inflight) });
        let torn = 0;
        sim.onCall = (op, path, data) => {
          snap(`before ${op} ${path}`);
          if (op === 'writeFile' && data) {
            torn += 3;
            snap(`during writeFile ${path}: empty`, sim.tornImage(path, data, 0));
            snap(`during writeFile ${path}: half`, sim.tornImage(path, data, 0.5));
            snap(`during writeFile ${path}: a third, then zeros`, sim.tornImage(path, data, 0.33, 64));
          }
        };
        const pools = [0, 1].map((lane) => Array.from({ length: 16 }, (_, i) => `k${lane}/${i % 3}/${i}`));
        const begin = (k: string, v: string | null) => inflight.set(k, v);
        const done = (k: string, v: string | null) => {
          acked.set(k, v);
          inflight.delete(k);
        };
        let ackedWrites = 0;
        const lane = async (pool: string[], laneName: string) => {
          for (let round = 0; round < rounds; round++) {
            const keys = [...pool].sort(() => next() - 0.5).slice(0, 1 + Math.floor(next() * 6));
            const work: Promise<unknown>[] = [];
            while (keys.length > 0) {
              const roll = next();
              if (roll < 0.1 && keys.length >= 3) {
                const entries = keys.splice(0, 3).map((key) => ({ key, value: `m${laneName}${round}-${key}` }));
                entries.forEach((e) => begin(e.key, e.value));
                work.push(r.storeMany(entries).then(() => entries.forEach((e) => done(e.key, e.value))));
              } else if (roll < 0.3) {
                const k = keys.pop()!;
                begin(k, null);
                work.push(r.remove(k).then(() => done(k, null)));
              } else {
                const k = keys.pop()!;
                const v = `v${laneName}${round}-${k}-` + 'x'.repeat(Math.floor(next() * 300));
                begin(k, v);
                work.push(r.store(k, v).then(() => done(k, v)));
              }
            }
            ackedWrites += work.length;
            await Promise.all(work);
            snap(`after round ${round} of lane ${laneName}`);
          }
        };
        try {
          await Promise.all([lane(pools[0], 'A'), lane(pools[1], 'B')]);
          await r.close();
          sim.onCall = undefined;
          snap('after close');
          const chunks = checkpoints.some((cp) => [...cp.image.keys()].some((p) => /\.c\d+$/.test(p)));
          if (compactBytes > 100_000) {
            assert.ok(chunks, 'segments were merged into chunks');
          }
          for (const cp of checkpoints) {
            await verifyCrashImage(cp, (image) => new SimBasicFileSystem(image), (fs) => open(fs));
          }
          console.log(
            `      ${checkpoints.length} crash images (${torn} of them with a half-written file), ${ackedWrites} acknowledged writes, ${sim.calls.writeFile} file writes: none lost`,
          );
        } catch (err) {
          throw new Error(`${err instanceof Error ? err.message : String(err)}\n(replay with NAUTILUS_TEST_SEED=${seed}; ${checkpoints.length} crash images)`);
        }
      });
    }

    it('a failed write rejects the change with UNAVAILABLE; acknowledged writes survive', async () => {
      const sim = new SimBasicFileSystem();
      const r = await open(sim, { logger: { info() {}, warn() {}, error() {} } });
      await r.store('safe', '1');
      sim.failNext('writeFile');
      await expectCode(r.store('lost', 'x'), 'UNAVAILABLE', /no space left on device/);
      await r.close();
      const again = await open(new SimBasicFileSystem(sim.crashImage()));
      assert.equal(await again.retrieve('safe'), '1');
      await again.store('later', 'z');
      await again.close();
    });
  });

  describe('two tabs on one registry', () => {
    it('with Web Locks: the second is read-only and says so; it takes over when the first closes', async () => {
      const sim = new SimBasicFileSystem();
      const locks = new SimLockManager();
      const first = await open(sim, {}, { locks });
      await first.store('k', 'v');
      const second = await open(sim, { readOnlyIfLocked: true, lockTimeoutMs: 50 }, { locks });
      assert.equal(second.describe().readOnly, true);
      assert.match(second.describe().notes?.[0] ?? '', /Read-only: .*another browser tab/);
      assert.equal(await second.retrieve('k'), 'v');
      await expectCode(second.store('k', 'w'), 'LOCKED', /read-only/);
      await expectCode(open(sim, { lockTimeoutMs: 0 }, { locks }), 'LOCKED', /another browser tab/);
      await second.close();
      const waiting = open(sim, { lockTimeoutMs: 5000 }, { locks });
      await first.close();
      const third = await waiting;
      assert.equal(third.describe().readOnly, false);
      assert.equal(await third.retrieve('k'), 'v');
      await third.close();
    });

    it('without Web Locks, a lease file: the second is read-only; a lease that is not renewed (closed tab) runs out', async () => {
      const sim = new SimBasicFileSystem();
      const lease = { locks: null, leaseMs: 300, holder: 'tab 1' } as const;
      const first = await open(sim, {}, lease);
      await first.store('k', 'v');
      await new Promise((resolve) => setTimeout(resolve, 500)); // renewed meanwhile
      const second = await open(sim, { readOnlyIfLocked: true, lockTimeoutMs: 100 }, { ...lease, holder: 'tab 2' });
      assert.equal(second.describe().readOnly, true);
      assert.match(second.describe().notes?.[0] ?? '', /open in tab 1/);
      await second.close();
      await first.close();
      assert.equal(sim.files.has(`${FILE}.nautilus-lock`), false, 'release deletes the lease');
      // A tab that closed without releasing: its lease stays in the file until it runs out.
      sim.files.set(`${FILE}.nautilus-lock`, enc(JSON.stringify({ nonce: 'gone', holder: 'a closed tab', expiresAt: Date.now() + 300 })));
      const third = await open(sim, { lockTimeoutMs: 2000 }, lease);
      assert.equal(third.describe().readOnly, false);
      assert.equal(await third.retrieve('k'), 'v');
      await third.close();
    });
  });

  describe('cost of a durable write', () => {
    it('a store writes the same bytes in the same number of file operations at 100,000 keys as at 1,000 (about twice its record: segment and chunk)', async () => {
      const measure = async (n: number) => {
        const sim = new SimBasicFileSystem();
        const fill = await open(sim);
        for (let i = 0; i < n; i += 10_000) {
          const size = Math.min(10_000, n - i);
          await fill.storeMany(Array.from({ length: size }, (_, j) => ({ key: `big/${String(i + j).padStart(6, '0')}`, value: 'v'.repeat(200) })));
        }
        await fill.close(); // folds the journal into the database: no compaction runs during the measurement
        const r = await open(sim);
        for (let i = 0; i < 20; i++) {
          await r.store(`warm/${i}`, 'v'.repeat(200)); // the first writes after opening pay for warming the engine up
        }
        const ops = () => sim.calls.writeFile + sim.calls.readFile + sim.calls.delete + sim.calls.readDirectory;
        const [bytes0, ops0] = [sim.bytesWritten, ops()];
        const stores = 5 * 64; // five whole chunk cycles: a merge every 64 stores is part of the cost
        const t0 = performance.now();
        for (let i = 0; i < stores; i++) {
          await r.store(`one/${String(i).padStart(4, '0')}`, 'v'.repeat(200));
        }
        const ms = (performance.now() - t0) / stores;
        const result = { bytes: Math.round((sim.bytesWritten - bytes0) / stores), ops: (ops() - ops0) / stores, ms };
        await r.close();
        return result;
      };
      await measure(1_000); // warms the JIT up, so that the first measured size does not pay for it
      const small = await measure(1_000);
      const large = await measure(100_000);
      console.log(
        `      durable store on the web seam: ${small.bytes} bytes in ${small.ops} file operation(s) at 1,000 keys, ${large.bytes} in ${large.ops} at 100,000; time per store ${small.ms.toFixed(3)} ms and ${large.ms.toFixed(3)} ms (ratio ${(large.ms / small.ms).toFixed(2)}; the simulated file system costs nothing, so this is the engine's own work)`,
      );
      assert.equal(large.ops, small.ops);
      assert.equal(large.bytes, small.bytes);
      assert.ok(small.bytes < 700, `one store wrote ${small.bytes} bytes (its segment, and its share of a chunk)`);
    });
  });
});
