import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarize, targetKey, transfer } from '../../src/extension/transfer/transfer';
import { RegistryError, openRegistry } from '../../src/registry';
import type { RegistryStorage } from '../../src/registry';
import type { Core } from '../fixtures/jsonFileBackend/backend';
import { openJsonFileRegistry } from '../fixtures/jsonFileBackend/backend';

async function all(r: RegistryStorage): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let after: string | undefined;
  do {
    const page = await r.list({ after, limit: 1000 });
    const values = await r.retrieveMany(page.keys);
    page.keys.forEach((k, i) => (out[k] = values[i]!));
    after = page.next;
  } while (after !== undefined);
  return out;
}

/** A target whose n-th storeMany fails (a server that goes away halfway). */
function failingOn(r: RegistryStorage, n: number): RegistryStorage {
  let calls = 0;
  return new Proxy(r, {
    get(t, p, recv) {
      const v = Reflect.get(t, p, recv) as unknown;
      if (p === 'storeMany') {
        return async (...args: unknown[]) => {
          if (++calls === n) {
            throw new RegistryError('UNAVAILABLE', 'the server went away (test)');
          }
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

describe('transfer: copy and move between registries (no vscode)', () => {
  let a: RegistryStorage;
  let b: RegistryStorage;

  beforeEach(async () => {
    a = await openRegistry({ backend: 'memory' });
    b = await openRegistry({ backend: 'memory' });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('maps keys below the target folder, keeping their path below the dragged item', () => {
    assert.equal(targetKey({ kind: 'folder', key: 'team/api/' }, 'team/api/url', 'prod/', '/'), 'prod/api/url');
    assert.equal(targetKey({ kind: 'key', key: 'team/api/url' }, 'team/api/url', '', '/'), 'url');
    assert.equal(targetKey({ kind: 'folder', key: 'top/' }, 'top/x/y', '', '/'), 'top/x/y');
  });

  it('copies a folder in batches with its TTLs; the source keeps everything', async () => {
    await a.storeMany(Array.from({ length: 1234 }, (_, i) => ({ key: `team/k${String(i).padStart(4, '0')}`, value: `v${i}` })));
    await a.store('team/ttl', 'soon', { ttlMs: 60_000 });
    await a.store('other', 'x');
    const progress: number[] = [];
    const report = await transfer(a, b, [{ kind: 'folder', key: 'team/' }], { targetFolder: '', separator: '/', conflict: 'replace', batchSize: 100, onProgress: (d) => progress.push(d) });
    assert.equal(report.copied, 1235);
    assert.equal(report.total, 1235);
    assert.equal(report.removed, 0);
    assert.equal(await b.count('team/'), 1235);
    assert.equal(await a.count(), 1236);
    const e = (await b.inspect('team/ttl'))!.expiresAt!;
    assert.ok(e > Date.now() + 50_000 && e <= Date.now() + 60_000, 'the TTL carried over');
    assert.equal(progress.length, 13);
    assert.equal(progress.at(-1), 1235);
    assert.equal(await b.contains('other'), false);
  });

  it('conflicts: skip keeps the target, replace overwrites, ask decides key by key and can stand for the rest', async () => {
    await a.storeMany([
      { key: 'f/1', value: 'new1' },
      { key: 'f/2', value: 'new2' },
      { key: 'f/3', value: 'new3' },
    ]);
    await b.storeMany([
      { key: 'f/1', value: 'old1' },
      { key: 'f/2', value: 'old2' },
    ]);
    let r = await transfer(a, b, [{ kind: 'folder', key: 'f/' }], { targetFolder: '', separator: '/', conflict: 'skip' });
    assert.deepEqual([r.copied, r.skipped.length], [1, 2]);
    assert.match(r.skipped[0].reason, /exists in the target/);
    assert.deepEqual(await all(b), { 'f/1': 'old1', 'f/2': 'old2', 'f/3': 'new3' });
    const asked: string[] = [];
    r = await transfer(a, b, [{ kind: 'folder', key: 'f/' }], {
      targetFolder: '',
      separator: '/',
      conflict: 'ask',
      ask: async (key) => {
        asked.push(key);
        return key === 'f/1' ? 'replace' : 'skip';
      },
    });
    assert.deepEqual(asked, ['f/1', 'f/2', 'f/3']);
    assert.deepEqual(await all(b), { 'f/1': 'new1', 'f/2': 'old2', 'f/3': 'new3' });
    assert.equal(r.replaced, 1);
    r = await transfer(a, b, [{ kind: 'folder', key: 'f/' }], { targetFolder: '', separator: '/', conflict: 'replace' });
    assert.deepEqual([r.copied, r.replaced], [3, 3]);
    assert.deepEqual(await all(b), { 'f/1': 'new1', 'f/2': 'new2', 'f/3': 'new3' });
  });

  it('a move removes from the source exactly what the target holds, also when the target fails halfway', async () => {
    await a.storeMany(Array.from({ length: 50 }, (_, i) => ({ key: `m/${String(i).padStart(2, '0')}`, value: String(i) })));
    const report = await transfer(a, failingOn(b, 3), [{ kind: 'folder', key: 'm/' }], { targetFolder: 'moved/', separator: '/', conflict: 'replace', move: true, batchSize: 10 });
    assert.equal(report.copied, 20);
    assert.equal(report.removed, 20);
    assert.equal(report.failed?.stoppedAt, 'm/20');
    assert.equal(report.failed?.code, 'UNAVAILABLE');
    assert.equal(await b.count(), 20);
    assert.equal(await a.count(), 30);
    // Together they hold every key exactly once.
    const both = { ...(await all(a)), ...Object.fromEntries(Object.entries(await all(b)).map(([k, v]) => [k.replace('moved/', 'm/'), v])) };
    assert.equal(Object.keys(both).length, 50);
    assert.match(summarize(report, true, 'b'), /Moved 20 of 50 keys to b; 0 skipped\. Stopped at m\/20: the server went away/);
  });

  it('cancel halfway: earlier batches stay, nothing after the cancel is touched', async () => {
    await a.storeMany(Array.from({ length: 40 }, (_, i) => ({ key: `c/${String(i).padStart(2, '0')}`, value: String(i) })));
    let batches = 0;
    const report = await transfer(a, b, [{ kind: 'folder', key: 'c/' }], {
      targetFolder: '',
      separator: '/',
      conflict: 'replace',
      move: true,
      batchSize: 10,
      onProgress: () => batches++,
      isCancelled: () => batches >= 2,
    });
    assert.equal(report.cancelled, true);
    assert.equal(report.copied, 20);
    assert.equal(await b.count(), 20);
    assert.equal(await a.count(), 20);
    assert.equal(await a.contains('c/20'), true);
    assert.match(summarize(report, true, 'b'), /Cancelled/);
  });

  it('single keys, a folder that contains them (taken once), refusal to copy a folder into itself', async () => {
    await a.storeMany([
      { key: 'x/1', value: '1' },
      { key: 'x/y/2', value: '2' },
    ]);
    const r = await transfer(a, b, [{ kind: 'folder', key: 'x/' }, { kind: 'key', key: 'x/1' }], { targetFolder: 'to/', separator: '/', conflict: 'replace' });
    assert.equal(r.copied, 2);
    assert.deepEqual(await all(b), { 'to/x/1': '1', 'to/x/y/2': '2' });
    await assert.rejects(transfer(a, a, [{ kind: 'folder', key: 'x/' }], { targetFolder: 'x/y/', separator: '/', conflict: 'replace' }), /into itself/);
    const same = await transfer(a, a, [{ kind: 'folder', key: 'x/' }], { targetFolder: 'copy/', separator: '/', conflict: 'replace' });
    assert.equal(same.copied, 2);
    assert.equal(await a.retrieve('copy/x/y/2'), '2');
  });

  it('a target without TTL gets the keys without expiry, and the report says so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nautilus-transfer-'));
    const core = { openRegistry, RegistryError } as unknown as Core;
    const noTtl = await openJsonFileRegistry(core, path.join(dir, 'k.json'), { noTtl: true });
    try {
      await a.store('t/ttl', 'v', { ttlMs: 60_000 });
      await a.store('t/plain', 'p');
      const r = await transfer(a, noTtl, [{ kind: 'folder', key: 't/' }], { targetFolder: '', separator: '/', conflict: 'replace' });
      assert.equal(r.copied, 2);
      assert.equal((await noTtl.inspect('t/ttl'))?.expiresAt, undefined);
      assert.match(r.notes.join(), /no time to live/);
    } finally {
      await noTtl.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
