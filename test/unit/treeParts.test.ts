import * as assert from 'node:assert/strict';
import type { RegistryChange } from '../../src/registry';
import type { ChangeBatch } from '../../src/extension/view/changeBatcher';
import { ChangeBatcher } from '../../src/extension/view/changeBatcher';
import { FolderCounter } from '../../src/extension/view/folderCounter';
import { FILTER_KEY, PageCache } from '../../src/extension/view/pageCache';
import type { Page } from '../../src/extension/view/pageCache';

interface N {
  kind: 'folder' | 'key';
  key: string;
}
const folder = (key: string): N => ({ kind: 'folder', key });
const key = (k: string): N => ({ kind: 'key', key: k });

function cache(): PageCache<N> {
  return new PageCache<N>({
    folderOf: (n) => (n.kind === 'folder' ? n.key : undefined),
    keyOf: (n) => (n.kind === 'key' ? n.key : undefined),
  });
}

function page(nodes: N[], next?: string): Page<N> {
  return { nodes, next, dirty: false };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('tree parts without vscode: page cache, change batcher, folder counter', () => {
  it('a cached page is served until marked dirty; a reload asks for at least what was shown', async () => {
    const c = cache();
    const wants: number[] = [];
    const fetch = async (want: number): Promise<Page<N>> => {
      wants.push(want);
      return page([key('a'), key('b'), key('c')].slice(0, Math.min(3, want)), 'c');
    };
    await c.load('', 2, fetch);
    await c.load('', 2, fetch);
    assert.deepEqual(wants, [2]);
    const p = c.get('')!;
    assert.equal(c.append('', p, page([key('x'), key('y')])), true);
    assert.equal(p.nodes.length, 4);
    c.markDirty('');
    await c.load('', 2, fetch);
    assert.deepEqual(wants, [2, 4], 'the reload keeps what "Load more…" had added');
    assert.equal(c.loadCounts.get(''), 2);
    assert.deepEqual([...c.takeDirty()], ['']);
    assert.deepEqual([...c.takeDirty()], []);
  });

  it('concurrent loads of a folder share one fetch; a reset makes a running load land nowhere', async () => {
    const c = cache();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fetch = async (): Promise<Page<N>> => {
      calls++;
      await gate;
      return page([key('a')]);
    };
    const a = c.load('f/', 10, fetch);
    const b = c.load('f/', 10, fetch);
    c.reset();
    release();
    await Promise.all([a, b]);
    assert.equal(calls, 1);
    assert.equal(c.has('f/'), false, 'loaded before the reset: not cached after it');
  });

  it('a reload drops the pages of folders it no longer shows; append refuses a replaced page', async () => {
    const c = cache();
    const sub = folder('a/');
    await c.load('', 10, async () => page([sub, key('k')]));
    await c.load('a/', 10, async () => page([key('a/x')]));
    const old = c.get('')!;
    c.markDirty('');
    await c.load('', 10, async () => page([key('k')]));
    assert.equal(c.has('a/'), false);
    assert.equal(c.append('', old, page([key('z')])), false);
  });

  it('touch reloads the folder itself and only those ancestors whose loaded pages miss the path', async () => {
    const c = cache();
    const a = folder('a/');
    await c.load('', 10, async () => page([a, key('m')]));
    await c.load('a/', 10, async () => page([key('a/k')]));
    c.takeDirty();
    const stale = new Set<string>();
    c.touch('a/', '/', stale);
    assert.deepEqual([...c.takeDirty()], ['a/'], 'the top level shows a/ already');
    assert.deepEqual([...stale], ['a/']);
    // A new folder b/ (with keys in b/c/, not loaded): the top level must show it; it sorts within the loaded page.
    c.touch('b/c/', '/', stale);
    assert.deepEqual([...c.takeDirty()], ['']);
    assert.deepEqual([...stale].sort(), ['a/', 'b/', 'b/c/']);
  });

  it('touch leaves a paged ancestor alone when the new folder sorts after its loaded items ("Load more…" finds it)', async () => {
    const c = cache();
    await c.load('', 2, async () => page([folder('a/'), folder('b/')], 'b/'));
    c.takeDirty();
    c.touch('zz/', '/', new Set());
    assert.deepEqual([...c.takeDirty()], []);
    c.touch('aa/', '/', new Set());
    assert.deepEqual([...c.takeDirty()], ['']);
  });

  it('touchPrefix marks loaded folders inside the prefix and the folder holding it', async () => {
    const c = cache();
    await c.load('', 10, async () => page([folder('p/')]));
    await c.load('p/', 10, async () => page([folder('p/q/')]));
    await c.load('p/q/', 10, async () => page([key('p/q/k')]));
    await c.load(FILTER_KEY, 10, async () => page([key('p/q/k')]));
    c.takeDirty();
    const stale = new Set<string>();
    c.touchPrefix('p/q/', '/', stale);
    assert.deepEqual([...c.takeDirty()].sort(), ['p/', 'p/q/']);
    assert.ok(stale.has('p/q/') && stale.has('p/'));
  });

  it('the batcher turns a burst of changes into one batch of parent folders and prefixes', async () => {
    const batches: ChangeBatch[] = [];
    const b = new ChangeBatcher(() => '/', (x) => batches.push(x), 5);
    const changes: RegistryChange[] = [
      { kind: 'store', key: 'a/b/1' } as RegistryChange,
      { kind: 'store', key: 'a/b/2' } as RegistryChange,
      { kind: 'remove', key: 'top' } as RegistryChange,
      { kind: 'removePrefix', prefix: 'x/' } as RegistryChange,
      { kind: 'rename', from: 'c/1', to: 'd/1' } as RegistryChange,
      { kind: 'rename', prefix: 'e/', from: 'e/', to: 'f/' } as RegistryChange,
    ];
    changes.forEach((ch) => b.add(ch));
    assert.equal(b.pending, true);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(batches.length, 1);
    assert.deepEqual([...batches[0].parents].sort(), ['', 'a/b/', 'c/', 'd/']);
    assert.deepEqual([...batches[0].prefixes].sort(), ['e/', 'f/', 'x/']);
    assert.equal(batches[0].reset, false);
    b.add({ kind: 'clear' } as RegistryChange);
    b.flush();
    assert.equal(batches[1].reset, true);
    assert.equal(b.pending, false);
    b.add({ kind: 'store', key: 'x' } as RegistryChange);
    b.discard();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(batches.length, 2, 'a discarded batch is never handed over');
    b.dispose();
  });

  it('the counter counts a few folders at a time, reports changes, and drops work after a reset', async () => {
    let running = 0;
    let peak = 0;
    const counted: string[] = [];
    const counter = new FolderCounter<{ prefix: string; count: number | undefined }>(
      async (prefix) => {
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
        return prefix.length;
      },
      (f) => counted.push(f.prefix),
      () => assert.fail('no error expected'),
      2,
    );
    const folders = ['a/', 'bb/', 'ccc/', 'dddd/', 'e/'].map((prefix) => ({ prefix, count: undefined as number | undefined }));
    folders.forEach((f) => counter.enqueue(f));
    for (let i = 0; i < 50 && counted.length < 5; i++) {
      await tick();
    }
    assert.equal(counted.length, 5);
    assert.ok(peak <= 2, `at most 2 at once, saw ${peak}`);
    assert.deepEqual(
      folders.map((f) => f.count),
      [2, 3, 4, 5, 2],
    );
    const changed = await counter.recount([{ prefix: 'xyz/', count: 4 }, { prefix: 'q/', count: 1 }]);
    assert.deepEqual([...changed].map((f) => f.prefix), ['q/']);
  });
});
