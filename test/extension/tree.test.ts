/** The Keys view through the extension's own TreeDataProvider: folders, previews, paging, live refresh, moves. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import type { RegistryStorage } from '../../src/registry';
import { children, describeNodes, freshRegistry, getApi, setSettings, waitFor } from './helpers';
import type { NodeLike } from './helpers';

describe('Keys view', () => {
  let api: NautilusRegistryApi;
  let registry: RegistryStorage;

  beforeEach(async () => {
    api = await getApi();
    registry = await freshRegistry();
  });

  afterEach(async () => {
    await setSettings({ separator: undefined, pageSize: undefined, valuePreviewLength: undefined });
    api._test.provider.setFilter(undefined);
  });

  const folder = async (path: string[]): Promise<NodeLike> => {
    let nodes = await children(api);
    let node: NodeLike | undefined;
    for (const name of path) {
      node = nodes.find((n) => n.kind === 'folder' && n.prefix!.endsWith(name + '/'));
      assert.ok(node, `folder ${name} not found among ${describeNodes(nodes).join(', ')}`);
      nodes = await children(api, node);
    }
    return node!;
  };

  it('groups keys into folders by the separator, in key order, with value previews', async () => {
    await registry.storeMany([
      { key: 'team/api/url', value: 'https://example.test' },
      { key: 'team/api/timeout', value: '30' },
      { key: 'team/db/name', value: 'nautilus' },
      { key: 'readme', value: 'line one\nline two' },
    ]);
    api._test.provider.refresh();
    assert.deepEqual(describeNodes(await children(api)), ['readme', 'team/']);
    const team = await folder(['team']);
    assert.deepEqual(describeNodes(await children(api, team)), ['team/api/', 'team/db/']);
    const apiFolder = await folder(['team', 'api']);
    const keys = await children(api, apiFolder);
    assert.deepEqual(describeNodes(keys), ['team/api/timeout', 'team/api/url']);
    assert.equal(keys.find((k) => k.key === 'team/api/url')!.preview, 'https://example.test');
    const top = await children(api);
    assert.equal(top.find((k) => k.key === 'readme')!.preview, 'line one line two', 'previews are one line');
    // Tree items: stable ids, labels are the last segment, folders collapsible.
    const item = api._test.provider.getTreeItem(apiFolder as never);
    assert.equal(item.id, 'folder:team/api/');
    assert.equal(item.label, 'api');
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const keyItem = api._test.provider.getTreeItem(keys[1] as never);
    assert.equal(keyItem.id, 'key:team/api/url');
    assert.equal(keyItem.label, 'url');
    assert.equal(keyItem.contextValue, 'key');
    assert.equal(keyItem.command?.command, 'nautilusRegistry.openValue');
  });

  it('getParent walks back up (what reveal needs) and reveal finds a key deep in a paged folder', async () => {
    await setSettings({ pageSize: 5 });
    const entries = Array.from({ length: 40 }, (_, i) => ({ key: `deep/a/b/k${String(i).padStart(2, '0')}`, value: String(i) }));
    await registry.storeMany(entries);
    api._test.provider.refresh();
    const b = await folder(['deep', 'a', 'b']);
    const parent = api._test.provider.getParent(b as never) as unknown as NodeLike;
    assert.equal(parent.prefix, 'deep/a/');
    const grand = api._test.provider.getParent(parent as never) as unknown as NodeLike;
    assert.equal(grand.prefix, 'deep/');
    assert.equal(api._test.provider.getParent(grand as never), undefined, 'alone, the workspace registry has no root node');
    // k33 is on the 7th page of 5: reveal loads pages until it is there.
    assert.equal(await api._test.provider.reveal('deep/a/b/k33'), true);
    const page = api._test.provider.peek('deep/a/b/');
    assert.ok(page && page.items.some((i) => i.key === 'deep/a/b/k33'));
    assert.equal(await api._test.provider.reveal('deep/a/b/missing'), false);
  });

  it('pages a large folder with "Load more…" (pageSize setting)', async () => {
    await setSettings({ pageSize: 25 });
    await registry.storeMany(Array.from({ length: 60 }, (_, i) => ({ key: `big/k${String(i).padStart(3, '0')}`, value: `v${i}` })));
    api._test.provider.refresh();
    const big = await folder(['big']);
    let nodes = await children(api, big);
    assert.equal(nodes.length, 26);
    assert.equal(nodes[25].kind, 'loadMore');
    assert.equal(api._test.provider.getTreeItem(nodes[25] as never).label, 'Load more…');
    await vscode.commands.executeCommand('nautilusRegistry.loadMore', nodes[25]);
    nodes = await children(api, big);
    assert.equal(nodes.length, 51);
    await vscode.commands.executeCommand('nautilusRegistry.loadMore', 'big/');
    nodes = await children(api, big);
    assert.equal(nodes.length, 60, 'the last page has no "Load more…"');
    assert.deepEqual(
      describeNodes(nodes),
      Array.from({ length: 60 }, (_, i) => `big/k${String(i).padStart(3, '0')}`),
    );
  });

  it('shows folder key counts', async () => {
    await registry.storeMany(Array.from({ length: 12 }, (_, i) => ({ key: `counted/sub/k${i}`, value: 'x' })));
    api._test.provider.refresh();
    await children(api);
    await waitFor('the count of counted/', async () => (await children(api)).find((n) => n.prefix === 'counted/')?.count === 12);
    const node = (await children(api)).find((n) => n.prefix === 'counted/')!;
    assert.equal(api._test.provider.getTreeItem(node as never).description, '12 keys');
  });

  it('tooltips show size and remaining TTL (resolveTreeItem)', async () => {
    await registry.store('ttl/k', 'héllo', { ttlMs: 3_600_000 });
    api._test.provider.refresh();
    const node = (await children(api, await folder(['ttl'])))[0];
    const item = api._test.provider.getTreeItem(node as never);
    const resolved = await api._test.provider.resolveTreeItem(item, node as never, new vscode.CancellationTokenSource().token);
    const md = resolved.tooltip as vscode.MarkdownString;
    assert.match(md.value, /6 bytes/);
    assert.match(md.value, /in (59m \d+s|1h)/);
  });

  it('refreshes only the touched folders, in one batch, and keeps loaded folders loaded', async () => {
    await registry.storeMany([
      { key: 'live/a/one', value: '1' },
      { key: 'live/b/two', value: '2' },
    ]);
    api._test.provider.refresh();
    const a = await folder(['live', 'a']);
    await folder(['live', 'b']);
    // Let the first counts of the folders just shown arrive before watching the events.
    await waitFor(
      'the first folder counts',
      () =>
        api._test.provider.peek('live/')?.items.every((i) => i.description !== undefined) &&
        api._test.provider.peek('')?.items.every((i) => i.kind !== 'folder' || i.description !== undefined),
    );
    const fired: unknown[] = [];
    const loads = api._test.provider.loadCounts;
    const before = { a: loads.get('live/a/') ?? 0, b: loads.get('live/b/') ?? 0, top: loads.get('') ?? 0 };
    const sub = api._test.provider.onDidChangeTreeData((e) => fired.push(e));
    try {
      // A burst of 200 changes in one folder, from "outside" (the API), all within the debounce window.
      await Promise.all(Array.from({ length: 200 }, (_, i) => registry.store(`live/a/burst${i}`, String(i))));
      await waitFor('the refresh of live/a/', () => fired.some((e) => (e as NodeLike | undefined)?.prefix === 'live/a/')).catch((err: Error) => {
        throw new Error(`${err.message}; events: ${fired.map((e) => (e === undefined ? 'all' : describeNodes([e as NodeLike])[0])).join(', ')}; loads ${JSON.stringify([...loads])}`);
      });
      await new Promise((r) => setTimeout(r, 300));
      const folderEvents = fired.filter((e) => (e as NodeLike | undefined)?.prefix === 'live/a/');
      assert.equal(folderEvents.length, 1, `one batched event for live/a/, got ${describeNodes(fired.filter((e) => e) as NodeLike[]).join(', ')}`);
      assert.ok(!fired.includes(undefined), 'the whole tree was not refreshed');
      assert.equal((await children(api, a)).length, 201);
      assert.equal(loads.get('live/a/'), before.a + 1, 'live/a/ reloaded once for the whole burst');
      assert.equal(loads.get('live/b/') ?? 0, before.b, 'live/b/ was not reloaded');
      assert.equal(loads.get('') ?? 0, before.top, 'the top level was not reloaded');
      assert.equal(api._test.provider.peek('live/b/')?.items.length, 1, 'live/b/ stays loaded');
    } finally {
      sub.dispose();
    }
  });

  it('a removed folder disappears and a new folder appears without a manual refresh', async () => {
    await registry.storeMany([
      { key: 'gone/x', value: '1' },
      { key: 'stay/y', value: '2' },
    ]);
    api._test.provider.refresh();
    await folder(['gone']);
    await registry.removePrefix('gone/');
    await registry.store('fresh/z', '3');
    await waitFor('the tree to follow', async () => describeNodes(await children(api)).join() === 'fresh/,stay/');
  });

  it('a key stored into an empty registry and revealed right away shows up at the top level', async () => {
    assert.deepEqual(await children(api), []);
    // What Store Key does: store, then reveal at once (before the batched refresh ran).
    await registry.store('team/api/url', 'https://example.test');
    assert.equal(await api._test.provider.reveal('team/api/url'), true);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      api._test.provider.peek('')?.items.map((i) => i.key),
      ['team/'],
      'the cached top level (what the view shows) has the new folder',
    );
    assert.deepEqual(
      api._test.provider.peek('team/api/')?.items.map((i) => i.description),
      ['https://example.test'],
    );
  });

  it('a folder loaded below a top level that does not show it yet makes the top level reload', async () => {
    await registry.store('a/1', '1');
    assert.deepEqual(describeNodes(await children(api)), ['a/']);
    // Load z/deep/ while the top level (cached) does not know z/ yet, then a change inside it.
    await registry.store('z/deep/1', '1');
    await api._test.provider.reveal('z/deep/1');
    await registry.store('z/deep/2', '2');
    await waitFor('z/ at the top level', () => api._test.provider.peek('')?.items.some((i) => i.key === 'z/') ?? false);
    await waitFor('the top level to show z/', async () => describeNodes(await children(api)).join() === 'a/,z/');
  });

  it('a custom separator makes other folders', async () => {
    await setSettings({ separator: '.' });
    await registry.storeMany([
      { key: 'app.db.host', value: 'h' },
      { key: 'app/not/a/folder', value: 'p' },
    ]);
    assert.deepEqual(describeNodes(await children(api)), ['app.', 'app/not/a/folder']);
  });

  it('overlapping separator occurrences: getParent, reveal and drag and drop follow the folders the tree shows', async () => {
    await setSettings({ separator: '::' });
    await registry.storeMany([
      { key: 'a:::b', value: '1' },
      { key: 'a::::c', value: '2' },
      { key: 'x::k', value: '3' },
    ]);
    api._test.provider.refresh();
    const top = await children(api);
    assert.deepEqual(describeNodes(top), ['a::', 'x::']);
    const a = top.find((n) => n.prefix === 'a::')!;
    const inA = await children(api, a);
    assert.deepEqual(describeNodes(inA), ['a::::', 'a:::b']);
    const key = inA.find((n) => n.key === 'a:::b')!;
    assert.equal(api._test.provider.getTreeItem(key as never).label, ':b');
    assert.equal((api._test.provider.getParent(key as never) as unknown as NodeLike).prefix, 'a::');
    const inner = inA.find((n) => n.prefix === 'a::::')!;
    assert.equal((api._test.provider.getParent(inner as never) as unknown as NodeLike).prefix, 'a::');
    assert.equal(await api._test.provider.reveal('a:::b'), true);
    assert.equal(await api._test.provider.reveal('a::::c'), true);
    // Dropped onto x::, the key keeps the name the tree shows (':b').
    const controller = api._test.dragAndDrop as unknown as vscode.TreeDragAndDropController<unknown>;
    const transfer = new vscode.DataTransfer();
    await controller.handleDrag!([key], transfer, new vscode.CancellationTokenSource().token);
    await controller.handleDrop!(top.find((n) => n.prefix === 'x::')!, transfer, new vscode.CancellationTokenSource().token);
    assert.deepEqual((await registry.list()).keys, ['a::::c', 'x:::b', 'x::k']);
  });

  it('filters by prefix into a flat list', async () => {
    await registry.storeMany([
      { key: 'f/a/1', value: '1' },
      { key: 'f/b/2', value: '2' },
      { key: 'g/3', value: '3' },
    ]);
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.filter', 'f/'), 'f/');
    assert.deepEqual(describeNodes(await children(api)), ['f/a/1', 'f/b/2']);
    assert.equal(api._test.view.description, 'filter: f/');
    await vscode.commands.executeCommand('nautilusRegistry.clearFilter');
    assert.deepEqual(describeNodes(await children(api)), ['f/', 'g/']);
  });

  it('drag and drop moves keys and folders into a folder', async () => {
    await registry.storeMany([
      { key: 'src/k1', value: '1' },
      { key: 'src/sub/k2', value: '2' },
      { key: 'loose', value: '3' },
      { key: 'dst/existing', value: '4' },
    ]);
    api._test.provider.refresh();
    const src = await folder(['src']);
    const srcChildren = await children(api, src);
    const sub = srcChildren.find((n) => n.prefix === 'src/sub/')!;
    const loose = (await children(api)).find((n) => n.key === 'loose')!;
    const dst = await folder(['dst']);
    // The view's own controller, fed a DataTransfer the way VS Code does on a drag.
    const controller = api._test.dragAndDrop as unknown as vscode.TreeDragAndDropController<unknown>;
    const transfer = new vscode.DataTransfer();
    await controller.handleDrag!([sub, loose], transfer, new vscode.CancellationTokenSource().token);
    await controller.handleDrop!(dst, transfer, new vscode.CancellationTokenSource().token);
    assert.deepEqual((await registry.list()).keys, ['dst/existing', 'dst/loose', 'dst/sub/k2', 'src/k1']);
    let shown = '';
    await waitFor(`dst/ to show the moved items (shows ${shown})`, async () => (shown = describeNodes(await children(api, dst)).join()) === 'dst/existing,dst/loose,dst/sub/').catch((err: Error) => {
      throw new Error(`${err.message}; last shown: ${shown}`);
    });
  });

  it('binds Delete (remove), F2 (rename) and Enter (open a key) in the Keys view only', () => {
    const pkg = vscode.extensions.getExtension('nautilus.nautilus-registry')!.packageJSON;
    const kb = pkg.contributes.keybindings as { command: string; key: string; when: string }[];
    for (const [key, command] of [
      ['delete', 'nautilusRegistry.remove'],
      ['f2', 'nautilusRegistry.rename'],
      ['enter', 'nautilusRegistry.openValue'],
    ]) {
      const b = kb.find((k) => k.key === key && k.command === command);
      assert.ok(b, `${key} is bound to ${command}`);
      assert.match(b.when, /focusedView == nautilusRegistry\.keys/);
      assert.match(b.when, /!inputFocus/);
    }
  });

  it('shows the empty-registry state through a context key (welcome view) and a lost connection as a node', async () => {
    assert.deepEqual(await children(api), []);
    const provider = api._test.provider;
    await registry.close(); // what a dead server looks like to the view: every call fails
    const service = api._test.service;
    // Simulate the failure a server backend reports: UNAVAILABLE from a connected registry.
    service.reportError(Object.assign(new Error('connection refused'), { name: 'RegistryError', code: 'UNAVAILABLE' }));
    assert.equal(service.status.state, 'lost');
    const nodes = await children(api);
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].kind, 'error');
    const item = provider.getTreeItem(nodes[0] as never);
    assert.equal(item.command?.command, 'nautilusRegistry.reconnect');
    assert.equal(item.contextValue, 'error.lost');
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.reconnect'), 'connected');
    assert.deepEqual(await children(api), []);
  });
});
