/**
 * The sqlite engine in its worker thread: the worker is killed in the middle of a write storm (with
 * compactions running); calls in flight fail with UNAVAILABLE, the registry reopens by itself, and
 * every acknowledged write survives. Also: the size ceiling refuses a write whole, with advice.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { childrenWithValues, listWithValues, openRegistry, RegistryError } from '../../src/registry';
import type { RegistryChange, RegistryStorage } from '../../src/registry';
import { setWorkerLimitsForTests, SqliteWorkerRegistry } from '../../src/registry/backends/sqliteProxy';
import { packReplyValue, settleReply, toPortable } from '../../src/registry/backends/sqliteProtocol';
import type { ToEngine, Waiting } from '../../src/registry/backends/sqliteProtocol';
import { expectCode } from '../conformance/suite';
import { rng } from '../support/random';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sqlite worker thread', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nautilus-sqlite-worker-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the engine in a worker by default, and on this thread with thread: inline', async () => {
    const r = await openRegistry({ backend: 'sqlite', file: path.join(dir, 'a.db') });
    try {
      assert.ok(r instanceof SqliteWorkerRegistry);
      assert.ok(r.workerForTests, 'a worker thread runs the engine');
    } finally {
      await r.close();
    }
    const inline = await openRegistry({ backend: 'sqlite', file: path.join(dir, 'a.db'), thread: 'inline' });
    try {
      assert.ok(!(inline instanceof SqliteWorkerRegistry));
    } finally {
      await inline.close();
    }
    await expectCode(openRegistry({ backend: 'sqlite', file: path.join(dir, 'a.db'), thread: 'fiber' as 'inline' }), 'INVALID_CONFIG', /thread/);
  });

  it('gives the same children and list pages (also with their values, in one message) through the worker as in-thread', async () => {
    const keys = ['a/b', 'a/c/d', 'a/c/e', 'a/é/🐚', 'a/x y', 'a/', 'a//z', 'b', 'a/c'];
    const worker = await openRegistry({ backend: 'sqlite', file: path.join(dir, 'w.db') });
    const inline = await openRegistry({ backend: 'sqlite', file: path.join(dir, 'i.db'), thread: 'inline' });
    try {
      for (const r of [worker, inline]) {
        await r.storeMany(keys.map((key) => ({ key, value: 'v' })));
      }
      const asks: [string, string, { after?: string; limit?: number }][] = [
        ['a/', '/', {}],
        ['a/', '/', { limit: 2 }],
        ['a/', '/', { after: 'a/c/', limit: 2 }],
        ['', '/', {}],
        ['nothing/', '/', {}],
        ['a', '/', { limit: 1 }],
      ];
      for (const [prefix, sep, options] of asks) {
        const got = await worker.children(prefix, sep, options);
        assert.deepStrictEqual(got, await inline.children(prefix, sep, options), `children(${prefix}, ${sep}, ${JSON.stringify(options)})`);
      }
      // A page with its keys' values (the Keys view's previews): one call each way through the worker.
      for (const r of [worker, inline]) {
        await r.storeMany(keys.map((key, i) => ({ key, value: `value of ${key} `.repeat(i + 1) })));
        await r.remove('a/x y');
      }
      const sent: string[] = [];
      const w = (worker as SqliteWorkerRegistry).workerForTests!;
      const post = w.postMessage.bind(w);
      w.postMessage = (m: ToEngine) => {
        sent.push(m.t === 'call' ? m.m : m.t);
        post(m);
      };
      for (const [prefix, sep, options] of asks) {
        for (const chars of [undefined, 12]) {
          sent.length = 0;
          const got = await childrenWithValues(worker, prefix, sep, options, chars);
          assert.deepStrictEqual(sent, ['childrenWithValues'], 'one message to the engine');
          const want = await childrenWithValues(inline, prefix, sep, options, chars);
          assert.deepStrictEqual(got, want, `childrenWithValues(${prefix}, ${sep}, ${JSON.stringify(options)}, ${chars})`);
          assert.deepStrictEqual(got.page, await inline.children(prefix, sep, options));
          for (const [i, item] of got.page.items.entries()) {
            const value = item.kind === 'key' ? await inline.retrieve(item.key) : undefined;
            assert.equal(got.values[i], chars === undefined ? value : value?.slice(0, chars), `the value of ${item.key}`);
          }
        }
      }
      // The same for a list page (the view's filter).
      for (const options of [{}, { prefix: 'a/' }, { prefix: 'a/', limit: 2 }, { prefix: 'a/', after: 'a/b' }, { prefix: 'none/' }]) {
        for (const chars of [undefined, 12]) {
          sent.length = 0;
          const got = await listWithValues(worker, options, chars);
          assert.deepStrictEqual(sent, ['listWithValues'], 'one message to the engine');
          assert.deepStrictEqual(got, await listWithValues(inline, options, chars), `listWithValues(${JSON.stringify(options)}, ${chars})`);
          assert.deepStrictEqual(got.page, await inline.list(options));
          for (const [i, key] of got.page.keys.entries()) {
            const value = await inline.retrieve(key);
            assert.equal(got.values[i], chars === undefined ? value : value?.slice(0, chars), `the value of ${key}`);
          }
        }
      }
      w.postMessage = post;
    } finally {
      await worker.close();
      await inline.close();
    }
  });

  it('settles a reply once, unpacking a packed children page; a page it cannot pack goes as it is', () => {
    const waiting = new Map<number, Waiting>();
    const got: unknown[] = [];
    waiting.set(1, { resolve: (v) => got.push(v), reject: (e) => got.push(e) });
    waiting.set(2, { resolve: (v) => got.push(v), reject: (e) => got.push(e) });
    waiting.set(3, { resolve: (v) => got.push(v), reject: (e) => got.push(e) });
    const page = { items: [{ kind: 'folder' as const, key: 'p/f/' }, { kind: 'key' as const, key: 'p/k' }], next: 'p/k' };
    const packed = packReplyValue('children', page);
    assert.equal(packed.packed, 'children');
    assert.equal(settleReply(waiting, { id: 1, ok: true, ...packed }), true);
    assert.equal(settleReply(waiting, { id: 1, ok: true, v: 'again' }), false, 'a reply settles its call once');
    // A key with U+0000 is refused by every write, but a file written elsewhere may hold one.
    const odd = { items: [{ kind: 'key' as const, key: 'p/\u0000k' }] };
    assert.equal(packReplyValue('children', odd).packed, undefined);
    assert.equal(settleReply(waiting, { id: 2, ok: true, ...packReplyValue('children', odd) }), true);
    assert.equal(settleReply(waiting, { id: 3, ok: false, err: toPortable(new RegistryError('NOT_FOUND', 'no such key')) }), true);
    assert.deepStrictEqual(got.slice(0, 2), [page, odd]);
    assert.ok(RegistryError.is(got[2], 'NOT_FOUND'));
    assert.deepStrictEqual(packReplyValue('children', { items: [] }), { v: { s: '', n: 0 }, packed: 'children' });
    assert.deepStrictEqual(packReplyValue('list', { keys: ['a'] }), { v: { keys: ['a'] } });
    assert.equal(waiting.size, 0);
    // A page with its values: the page packed, the values as they are; unpacked on arrival.
    const withValues = { page, values: [undefined, 'v'] };
    const packedWith = packReplyValue('childrenWithValues', withValues);
    assert.equal(packedWith.packed, 'childrenWithValues');
    waiting.set(4, { resolve: (v) => got.push(v), reject: (e) => got.push(e) });
    assert.equal(settleReply(waiting, { id: 4, ok: true, ...packedWith }), true);
    assert.deepStrictEqual(got[3], withValues);
    assert.equal(packReplyValue('childrenWithValues', { page: odd, values: [undefined] }).packed, undefined);
  });

  it('loses no acknowledged write when the worker is killed during a write storm, and reopens by itself', async () => {
    const file = path.join(dir, 'storm.db');
    // A small compactBytes: kills also land during compactions and journal swaps.
    const r = (await openRegistry({ backend: 'sqlite', file, compactBytes: 64 * 1024 })) as SqliteWorkerRegistry;
    const changes: RegistryChange[] = [];
    r.onDidChange((c) => changes.push(c));
    /** key -> the values it may hold (null: absent): one after an acknowledgement, more after an uncertain failure. */
    const allowed = new Map<string, Set<string | null>>();
    const rand = rng(9);
    let acked = 0;
    let lostInFlight = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const key = `w${w}/k${Math.floor(rand() * 50)}`;
        const remove = rand() < 0.15;
        const value = remove ? null : `v${n}:${'x'.repeat(Math.floor(rand() * 400))}`;
        try {
          if (remove) {
            await r.remove(key);
          } else {
            await r.store(key, value!);
          }
          allowed.set(key, new Set([value]));
          acked++;
        } catch (err) {
          assert.ok(RegistryError.is(err, 'UNAVAILABLE'), `a call in flight fails with UNAVAILABLE, got ${String(err)}`);
          assert.match(err.message, /stopped unexpectedly/);
          const s = allowed.get(key) ?? new Set([null]);
          s.add(value);
          allowed.set(key, s);
          lostInFlight++;
        }
      }
    };
    const writers = Array.from({ length: 6 }, (_, w) => writer(w));
    try {
      for (let kill = 0; kill < 3; kill++) {
        const before = acked;
        while (acked < before + 150) {
          await sleep(5);
        }
        await sleep(Math.floor(rand() * 30));
        const worker = r.workerForTests;
        assert.ok(worker);
        await worker.terminate();
      }
      const before = acked;
      while (acked < before + 100) {
        await sleep(5);
      }
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    assert.ok(lostInFlight > 0, 'some calls were in flight when the worker died');
    assert.ok(changes.some((c) => c.kind === 'clear' && c.origin === 'external'), 'listeners are told to re-read after the reopen');
    assert.equal(r.describe().state, 'open');
    await r.close();

    const again = await openRegistry({ backend: 'sqlite', file, thread: 'inline' });
    try {
      for (const [key, values] of allowed) {
        const got = (await again.retrieve(key)) ?? null;
        assert.ok(values.has(got), `key ${key} holds ${JSON.stringify(got)}, expected one of ${JSON.stringify([...values])}`);
      }
    } finally {
      await again.close();
    }
  });

  it('loses no acknowledged write when the worker runs out of memory, and reopens by itself', async () => {
    // A small heap for the engine thread, and a call whose reply does not fit in it: forty copies
    // of a 4 MiB value (each row is decoded into its own string on the engine's heap).
    setWorkerLimitsForTests({ maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 });
    const logged: string[] = [];
    const logger = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };
    let r: RegistryStorage | undefined;
    try {
      r = await openRegistry({ backend: 'sqlite', file: path.join(dir, 'oom.db'), logger });
      const changes: RegistryChange[] = [];
      r.onDidChange((c) => changes.push(c));
      await r.store('big', 'x'.repeat(4 * 1024 * 1024));
      await r.storeMany(Array.from({ length: 50 }, (_, i) => ({ key: `k/${i}`, value: `v${i}` })));
      const inFlight = [r.retrieveMany(Array<string>(40).fill('big')), ...Array.from({ length: 5 }, (_, i) => r!.store(`late/${i}`, `l${i}`))];
      const settled = await Promise.allSettled(inFlight);
      const first = settled[0];
      assert.equal(first.status, 'rejected', 'the call that ran the engine out of memory fails');
      const err = (first as PromiseRejectedResult).reason as unknown;
      assert.ok(RegistryError.is(err, 'UNAVAILABLE'), `it fails with UNAVAILABLE, got ${String(err)}`);
      assert.match(err.message, /stopped unexpectedly.*memory/);
      for (const s of settled.slice(1)) {
        if (s.status === 'rejected') {
          assert.ok(RegistryError.is(s.reason, 'UNAVAILABLE'), `a call in flight fails with UNAVAILABLE, got ${String(s.reason)}`);
        }
      }
      // The next call waits for the new engine thread, which reopens the files.
      assert.equal(await r.retrieve('k/49'), 'v49');
      assert.equal(r.describe().state, 'open');
      assert.equal((await r.retrieve('big'))?.length, 4 * 1024 * 1024);
      for (let i = 0; i < 50; i++) {
        assert.equal(await r.retrieve(`k/${i}`), `v${i}`, `acknowledged k/${i} survives`);
      }
      for (let i = 0; i < 5; i++) {
        if (settled[i + 1].status === 'fulfilled') {
          assert.equal(await r.retrieve(`late/${i}`), `l${i}`, `acknowledged late/${i} survives`);
        }
      }
      assert.ok(changes.some((c) => c.kind === 'clear'), 'listeners hear that the registry was reopened');
      assert.ok(logged.some((m) => /out of memory/i.test(m)), `the log says why: ${logged.join(' | ')}`);
      await r.store('after', 'ok');
      assert.equal(await r.retrieve('after'), 'ok');
    } finally {
      setWorkerLimitsForTests(undefined);
      await r?.close();
    }
  });

  it('stops restarting a worker that keeps dying, with a message that says so', async () => {
    const r = (await openRegistry({ backend: 'sqlite', file: path.join(dir, 'dies.db') })) as SqliteWorkerRegistry;
    try {
      await r.store('k', 'v');
      for (let i = 0; i < 4; i++) {
        const worker = r.workerForTests;
        assert.ok(worker, `the engine runs again after death ${i}`);
        await worker.terminate();
        await sleep(20);
        await r.contains('k').catch(() => undefined); // waits for the reopen
      }
      const err = await expectCode(r.retrieve('k'), 'UNAVAILABLE', /stopped 4 times within a minute/);
      assert.match(err.message, /acknowledged change is safe/);
      assert.equal(r.describe().state, 'unavailable');
    } finally {
      await r.close();
    }
    const again = await openRegistry({ backend: 'sqlite', file: path.join(dir, 'dies.db') });
    try {
      assert.equal(await again.retrieve('k'), 'v');
    } finally {
      await again.close();
    }
  });

  for (const thread of ['worker', 'inline'] as const) {
    it(`refuses a write past maxDatabaseMiB whole, names the limit and points to PostgreSQL (${thread})`, async () => {
      const file = path.join(dir, `full-${thread}.db`);
      const r: RegistryStorage = await openRegistry({ backend: 'sqlite', file, maxDatabaseMiB: 1, thread });
      try {
        const big = 'y'.repeat(100_000);
        let stored = 0;
        let err: unknown;
        for (; stored < 40; stored++) {
          try {
            await r.store(`k${stored}`, big);
          } catch (e) {
            err = e;
            break;
          }
        }
        assert.ok(RegistryError.is(err, 'UNSUPPORTED'), `a write past the limit fails with UNSUPPORTED, got ${String(err)}`);
        assert.match(err.message, /limit of 1 MiB/);
        assert.match(err.message, /maxDatabaseMiB/);
        assert.match(err.message, /PostgreSQL/);
        assert.ok(stored >= 3 && stored < 10, `stored ${stored} values of 100 kB under 1 MiB`);
        // A batch is refused whole.
        const count = await r.count();
        await expectCode(
          r.storeMany([
            { key: 'batch/a', value: 'small' },
            { key: 'batch/b', value: big },
          ]),
          'UNSUPPORTED',
        );
        assert.equal(await r.count(), count);
        assert.equal(await r.retrieve('batch/a'), undefined);
        // Removing keys makes room again; reads go on all the time.
        assert.equal(await r.retrieve('k0'), big);
        await r.removePrefix('k');
        await r.store('after', big);
        assert.equal(r.describe().state, 'open');
      } finally {
        await r.close();
      }
      await expectCode(openRegistry({ backend: 'sqlite', file, maxDatabaseMiB: 0, thread }), 'INVALID_CONFIG', /maxDatabaseMiB/);
    });
  }
});
