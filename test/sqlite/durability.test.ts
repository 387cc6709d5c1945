/**
 * Durability of the sqlite backend, checked against a simulated file system that knows what a
 * crash keeps (unsynced appends may be lost or torn; replace is atomic). A crash image is taken
 * before every file operation and right after every acknowledgement, across journal appends,
 * compactions and close; every image must reopen holding every acknowledged write.
 */
import * as assert from 'node:assert/strict';
import { openRegistry } from '../../src/registry';
import type { RegistryStorage, SqliteConfig } from '../../src/registry';
import { expectCode } from '../conformance/suite';
import { SimFileSystem } from './simFiles';
import type { CrashImage } from './simFiles';
import { rng } from '../support/random';
import { verifyCrashImage } from './crashImages';
import type { Checkpoint, State } from './crashImages';

const FILE = '/sim/registry.db';
const LOG = FILE + '.nautilus-log';

function open(fs: SimFileSystem, extra: Partial<SqliteConfig> = {}): Promise<RegistryStorage> {
  return openRegistry({ backend: 'sqlite', file: FILE, fileSystem: fs, ...extra });
}

describe('sqlite durability (simulated crashes)', function () {
  // Hundreds of crash images, each reopened twice through a worker thread: 2 min on this 2-core
  // machine at load 12 (the timeout is there to catch a hang, not slowness).
  this.timeout(600_000);

  it('every crash image - before each file operation, after each acknowledgement, with torn tails - holds every acknowledged write', async () => {
    const seed = Number(process.env.NAUTILUS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = rng(seed);
    const sim = new SimFileSystem();
    const r = await open(sim, { compactBytes: 3000 });
    const acked: State = new Map();
    const inflight: State = new Map();
    const checkpoints: Checkpoint<CrashImage>[] = [];
    const snap = (label: string, torn = 0, garbage = 0) =>
      checkpoints.push({ label, image: sim.crashImage(torn, garbage), acked: new Map(acked), inflight: new Map(inflight) });
    let syncs = 0;
    sim.onCall = (op, path) => {
      snap(`before ${op} ${path}`);
      if (op === 'sync' && syncs++ % 3 === 0) {
        snap(`before sync, whole unsynced tail persisted`, 1);
        snap(`before sync, half the unsynced tail persisted`, 0.5);
        snap(`before sync, torn tail followed by zeros`, 0.3, 9);
      }
    };
    // Two lanes with their own keys run at once, so that new writes arrive while a batch is being
    // appended and synced, and while a compaction runs.
    const pools = [0, 1].map((lane) => Array.from({ length: 16 }, (_, i) => `k${lane}/${i % 3}/${i}`));
    const begin = (k: string, v: string | null) => inflight.set(k, v);
    const done = (k: string, v: string | null) => {
      acked.set(k, v);
      inflight.delete(k);
    };
    const lane = async (pool: string[], name: string) => {
      for (let round = 0; round < 40; round++) {
        const keys = [...pool].sort(() => next() - 0.5).slice(0, 1 + Math.floor(next() * 9));
        const work: Promise<unknown>[] = [];
        while (keys.length > 0) {
          const roll = next();
          if (roll < 0.1 && keys.length >= 3) {
            const group = keys.splice(0, 3);
            const entries = group.map((key) => ({ key, value: `m${name}${round}-${key}` }));
            entries.forEach((e) => begin(e.key, e.value));
            work.push(r.storeMany(entries).then(() => entries.forEach((e) => done(e.key, e.value))));
          } else if (roll < 0.2 && keys.length >= 2) {
            const [from, to] = keys.splice(0, 2);
            const v = acked.get(from) ?? null;
            if (v === null) {
              continue;
            }
            begin(from, null);
            begin(to, v);
            work.push(
              r.rename(from, to, { overwrite: true }).then(() => {
                done(from, null);
                done(to, v);
              }),
            );
          } else if (roll < 0.4) {
            const k = keys.pop()!;
            begin(k, null);
            work.push(r.remove(k).then(() => done(k, null)));
          } else {
            const k = keys.pop()!;
            const v = `v${name}${round}-${k}-` + 'x'.repeat(Math.floor(next() * 400));
            begin(k, v);
            work.push(r.store(k, v).then(() => done(k, v)));
          }
        }
        await Promise.all(work);
        snap(`after round ${round} of lane ${name} was acknowledged`);
        for (let i = Math.floor(next() * 3); i > 0; i--) {
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    };
    try {
      await Promise.all([lane(pools[0], 'A'), lane(pools[1], 'B')]);
      await r.close();
      snap('after close');
      assert.ok(sim.calls.replace >= 4, `compactions ran (${sim.calls.replace} replaces)`);
      assert.equal(sim.files.has(LOG), false, 'close folds the journal into the database');
      for (const cp of checkpoints) {
        await verifyCrashImage(cp, (image) => new SimFileSystem(image), (fs) => open(fs));
      }
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n(replay with NAUTILUS_TEST_SEED=${seed}; ${checkpoints.length} crash images)`);
    }
  });

  it('concurrent writers share one append and one sync (group commit); sequential writes sync each', async () => {
    const sim = new SimFileSystem();
    const r = await open(sim);
    const before = sim.calls.sync;
    await Promise.all(Array.from({ length: 64 }, (_, i) => r.store(`c/${i}`, 'v'.repeat(200))));
    assert.ok(sim.calls.sync - before <= 2, `64 concurrent stores used ${sim.calls.sync - before} syncs`);
    const seq = sim.calls.sync;
    for (let i = 0; i < 10; i++) {
      await r.store(`s/${i}`, 'v');
    }
    assert.equal(sim.calls.sync - seq, 10);
    await r.close();
  });

  it('the cost of a durable write does not grow with the registry: one small append, no rewrite', async () => {
    const sim = new SimFileSystem();
    const r = await open(sim);
    await r.storeMany(Array.from({ length: 20_000 }, (_, i) => ({ key: `big/${String(i).padStart(6, '0')}`, value: 'v'.repeat(100) })));
    const bytes = sim.appendedBytes;
    const replaces = sim.calls.replace;
    await r.store('one/more', 'value');
    assert.ok(sim.appendedBytes - bytes < 200, `one store appended ${sim.appendedBytes - bytes} bytes`);
    assert.equal(sim.calls.replace, replaces, 'no file was rewritten');
    await r.close();
  });

  it('writers go on while a compaction writes its snapshot', async () => {
    const sim = new SimFileSystem();
    let releaseSnapshot: (() => void) | undefined;
    const realReplace = sim.replace.bind(sim);
    sim.replace = async (path, data) => {
      if (path === FILE && releaseSnapshot === undefined) {
        await new Promise<void>((resolve) => (releaseSnapshot = resolve));
      }
      return realReplace(path, data);
    };
    // The initial snapshot of a new file would wait too: let it through.
    const opening = open(sim, { compactBytes: 2000 });
    while (!releaseSnapshot) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    releaseSnapshot();
    const r = await opening;
    releaseSnapshot = undefined;
    for (let i = 0; i < 20; i++) {
      await r.store(`a/${i}`, 'x'.repeat(200)); // passes compactBytes: a compaction starts and waits on its snapshot
    }
    assert.ok(releaseSnapshot, 'a compaction is writing its snapshot');
    for (let i = 0; i < 20; i++) {
      await r.store(`b/${i}`, 'y'.repeat(200)); // still acknowledged while the snapshot write hangs
    }
    (releaseSnapshot as () => void)();
    await r.close();
    const again = await open(new SimFileSystem(sim.crashImage()));
    assert.equal(await again.count(), 40);
    await again.close();
  });

  for (const op of ['append', 'sync'] as const) {
    it(`a failed journal ${op} rejects the write with UNAVAILABLE and stops the registry; acknowledged writes survive`, async () => {
      const sim = new SimFileSystem();
      const errors: string[] = [];
      const r = await open(sim, { logger: { info() {}, warn() {}, error: (m) => errors.push(m) } });
      await r.store('safe', '1');
      sim.failNext(op);
      const results = await Promise.allSettled([r.store('lost1', 'x'), r.store('lost2', 'y')]);
      for (const res of results) {
        assert.equal(res.status, 'rejected');
        await expectCode(Promise.reject((res as PromiseRejectedResult).reason), 'UNAVAILABLE', /no space left on device/);
      }
      // Memory may hold a change that is not on disk: nothing is served until reopened.
      await expectCode(r.retrieve('safe'), 'UNAVAILABLE', /open it again/);
      await expectCode(r.store('later', 'z'), 'UNAVAILABLE');
      assert.equal(r.describe().state, 'unavailable');
      assert.equal(errors.length, 1);
      await r.close();
      const again = await open(new SimFileSystem(sim.crashImage()));
      assert.equal(await again.retrieve('safe'), '1');
      await again.store('later', 'z');
      await again.close();
    });
  }

  it('a failed compaction loses nothing: writes go on and the journal keeps every change', async () => {
    const sim = new SimFileSystem();
    const warnings: string[] = [];
    const r = await open(sim, { compactBytes: 1000, logger: { info() {}, warn: (m) => warnings.push(m), error() {} } });
    sim.failNext('replace');
    for (let i = 0; i < 30; i++) {
      await r.store(`k/${i}`, 'x'.repeat(100));
    }
    assert.ok(warnings.some((w) => /Compaction .* failed/.test(w)), warnings.join('\n'));
    const mid = await open(new SimFileSystem(sim.crashImage()));
    assert.equal(await mid.count(), 30);
    await mid.close();
    await r.close();
  });

  it('a journal that cannot be reopened after compaction stops the registry with UNAVAILABLE', async () => {
    const sim = new SimFileSystem();
    const r = await open(sim, { compactBytes: 500, logger: { info() {}, warn() {}, error() {} } });
    sim.failNext('openAppender');
    let failed: unknown;
    for (let i = 0; i < 20 && !failed; i++) {
      await r.store(`k/${i}`, 'x'.repeat(100)).catch((err: unknown) => (failed = err));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!failed) {
      failed = await r.store('last', 'x').catch((err: unknown) => err);
    }
    await expectCode(Promise.reject(failed), 'UNAVAILABLE');
    await r.close();
  });

  it('a registry that is read-only because it is locked refuses writes with LOCKED and still reads', async () => {
    const sim = new SimFileSystem();
    const w = await open(sim);
    await w.store('k', 'v');
    const ro = await open(sim, { readOnlyIfLocked: true });
    assert.equal(ro.describe().readOnly, true);
    assert.match(ro.describe().notes?.[0] ?? '', /Read-only/);
    assert.equal(await ro.retrieve('k'), 'v');
    await expectCode(ro.store('k', 'w'), 'LOCKED', /read-only/);
    await expectCode(ro.removePrefix(''), 'LOCKED');
    await expectCode(open(sim), 'LOCKED');
    await ro.close();
    await w.close();
  });
});
