/**
 * Every contributed command, invoked with arguments (the way keybindings, tasks and other
 * extensions call them): given their inputs they neither prompt nor confirm, return their result,
 * and reject with the RegistryError when the input is bad.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import type { RegistryStorage } from '../../src/registry';
import { children, closeEditors, freshRegistry, getApi, isRegistryError, setConnections, setSettings, waitFor } from './helpers';

const run = <T>(id: string, ...args: unknown[]): Thenable<T> => vscode.commands.executeCommand<T>(`nautilusRegistry.${id}`, ...args);

describe('commands with arguments', () => {
  let api: NautilusRegistryApi;
  let registry: RegistryStorage;
  const tested = new Set<string>();
  const cmd = <T>(id: string, ...args: unknown[]): Thenable<T> => {
    tested.add(`nautilusRegistry.${id}`);
    return run<T>(id, ...args);
  };

  before(async () => {
    api = await getApi();
  });

  beforeEach(async () => {
    registry = await freshRegistry();
  });

  after(async () => {
    await closeEditors();
    if (process.env.NAUTILUS_TEST_GREP) {
      return; // a filtered run invokes only some commands
    }
    const contributed = (vscode.extensions.getExtension('nautilus.nautilus-registry')!.packageJSON.contributes.commands as { command: string }[]).map(
      (c) => c.command,
    );
    const untested = contributed.filter((c) => !tested.has(c));
    assert.deepEqual(untested, [], `contributed commands this file never invoked: ${untested.join(', ')}`);
  });

  it('store (positional, named, with ttlMs) and storeInFolder', async () => {
    assert.equal(await cmd('store', 'team/api/url', 'https://example.test'), true);
    assert.equal(await registry.retrieve('team/api/url'), 'https://example.test');
    assert.equal(await cmd('store', { key: 'named', value: 'v', ttlMs: 60_000 }), true);
    const info = await registry.inspect('named');
    assert.ok(info?.expiresAt && info.expiresAt > Date.now() + 50_000 && info.expiresAt <= Date.now() + 60_000);
    assert.equal(await cmd('store', 'ttl', 'v', { ttlMs: 5_000 }), true);
    assert.ok((await registry.inspect('ttl'))!.expiresAt! <= Date.now() + 5_000);
    assert.equal(await cmd('storeInFolder', 'team/db/name', 'nautilus'), true);
    assert.equal(await registry.retrieve('team/db/name'), 'nautilus');
  });

  it('store rejects a bad key with the RegistryError and stores nothing', async () => {
    await assert.rejects(Promise.resolve(cmd('store', 'bad\u0001key', 'v')), (err) => isRegistryError(err, 'INVALID_KEY'));
    await assert.rejects(Promise.resolve(cmd('store', '', 'v')), (err) => isRegistryError(err, 'INVALID_KEY'));
    assert.equal(await registry.count(), 0);
  });

  it('retrieve and contains', async () => {
    await registry.store('k', 'value');
    assert.equal(await cmd('retrieve', 'k'), 'value');
    assert.equal(await cmd('retrieve', { key: 'k' }), 'value');
    assert.equal(await cmd('retrieve', 'missing'), undefined);
    assert.equal(await cmd('contains', 'k'), true);
    assert.equal(await cmd('contains', { key: 'missing' }), false);
  });

  it('remove: one key, several keys, tree nodes are confirmed but strings are not', async () => {
    await registry.storeMany([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'c', value: '3' },
    ]);
    assert.equal(await cmd('remove', 'a'), 1);
    assert.equal(await cmd('remove', ['b', 'c', 'nope']), 2);
    assert.equal(await registry.count(), 0);
  });

  it('rename / move a key and a folder', async () => {
    await registry.storeMany([
      { key: 'old', value: '1' },
      { key: 'dir/x', value: '2' },
      { key: 'dir/y', value: '3' },
      { key: 'taken', value: '4' },
    ]);
    assert.equal(await cmd('rename', 'old', 'new'), 1);
    assert.equal(await registry.retrieve('new'), '1');
    assert.equal(await cmd('rename', { from: 'dir/', to: 'moved/' }), 2);
    assert.deepEqual((await registry.list()).keys, ['moved/x', 'moved/y', 'new', 'taken']);
    await assert.rejects(Promise.resolve(cmd('rename', 'new', 'taken')), (err) => isRegistryError(err, 'ALREADY_EXISTS'));
    assert.equal(await cmd('rename', 'new', 'taken', { overwrite: true }), 1);
    assert.equal(await registry.retrieve('taken'), '1');
  });

  it('removeFolder removes every key below it and returns how many', async () => {
    await registry.storeMany(Array.from({ length: 7 }, (_, i) => ({ key: `rm/sub/k${i}`, value: 'x' })).concat([{ key: 'rmx', value: 'kept' }]));
    assert.equal(await cmd('removeFolder', 'rm'), 7, 'the separator is added to a folder name without it');
    assert.deepEqual((await registry.list()).keys, ['rmx']);
    assert.equal(await cmd('removeFolder', { prefix: 'nothing/' }), 0);
  });

  it('copyKey and copyValue put text on the clipboard', async () => {
    await registry.store('copy/me', 'the value');
    assert.equal(await cmd('copyKey', 'copy/me'), 'copy/me');
    assert.equal(await vscode.env.clipboard.readText(), 'copy/me');
    assert.equal(await cmd('copyValue', 'copy/me'), 'the value');
    assert.equal(await vscode.env.clipboard.readText(), 'the value');
    await assert.rejects(Promise.resolve(cmd('copyValue', 'copy/missing')), (err) => isRegistryError(err, 'NOT_FOUND'));
  });

  it('openValue opens the value in an editor tab (JSON mode for JSON)', async () => {
    await registry.store('open/plain', 'just text');
    await registry.store('open/json', '{"a": [1, 2]}');
    const uri = await cmd<string>('openValue', 'open/plain');
    assert.equal(uri, 'nautilus-registry:/open/plain');
    assert.equal(vscode.window.activeTextEditor?.document.getText(), 'just text');
    await cmd('openValue', { key: 'open/json' });
    await waitFor('JSON mode', () => vscode.window.activeTextEditor?.document.languageId === 'json');
    assert.equal(vscode.window.activeTextEditor?.document.uri.path, '/open/json');
  });

  it('setTtl sets and clears the expiry', async () => {
    await registry.store('t', 'v');
    assert.equal(await cmd('setTtl', 't', 120_000), true);
    const info = await registry.inspect('t');
    assert.ok(info?.expiresAt && info.expiresAt > Date.now() + 100_000);
    assert.equal(await cmd('setTtl', { key: 't', ttlMs: null }), true);
    assert.equal((await registry.inspect('t'))?.expiresAt, undefined);
    await assert.rejects(Promise.resolve(cmd('setTtl', 'missing', 1000)), (err) => isRegistryError(err, 'NOT_FOUND'));
  });

  it('filter, clearFilter, refresh and loadMore drive the view', async () => {
    await setSettings({ pageSize: 2 });
    try {
      await registry.storeMany(['p/1', 'p/2', 'p/3', 'q/1'].map((key) => ({ key, value: key })));
      assert.equal(await cmd('filter', 'p/'), 'p/');
      assert.equal(api._test.provider.filter, 'p/');
      let nodes = await children(api);
      assert.deepEqual(
        nodes.map((n) => n.key ?? n.kind),
        ['p/1', 'p/2', 'loadMore'],
      );
      await cmd('loadMore', nodes[2]);
      nodes = await children(api);
      assert.deepEqual(
        nodes.map((n) => n.key ?? n.kind),
        ['p/1', 'p/2', 'p/3'],
      );
      await cmd('clearFilter');
      assert.equal(api._test.provider.filter, undefined);
      assert.equal(await cmd('refresh'), true);
      assert.deepEqual(
        (await children(api)).map((n) => n.prefix ?? n.kind),
        ['p/', 'q/'],
      );
    } finally {
      await setSettings({ pageSize: undefined });
    }
  });

  it('import and export a JSON file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-cmd-'));
    const input = path.join(dir, 'in.json');
    writeFileSync(input, JSON.stringify({ 'i/a': 'A', 'i/b': 'B', 'i/n': 42 }));
    const report = await cmd<{ stored: number; converted: number; skipped: unknown[] }>('import', input);
    assert.equal(report.stored, 3);
    assert.equal(report.converted, 1);
    assert.equal(await registry.retrieve('i/n'), '42');
    const out = path.join(dir, 'out.json');
    const exported = await cmd<{ exported: number }>('export', vscode.Uri.file(out), { prefix: 'i/' });
    assert.equal(exported.exported, 3);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { 'i/a': 'A', 'i/b': 'B', 'i/n': '42' });
  });

  it('connections from code: add, reorder, rename, remove; commands act on { registry }, the workspace registry without it', async () => {
    try {
      assert.equal(await cmd('addConnection', { name: 'scratch', backend: 'memory' }), 'scratch');
      assert.equal(await cmd('addConnection', { name: 'other', backend: 'memory' }), 'other');
      assert.deepEqual(api.registryNames, ['workspace', 'scratch', 'other']);
      assert.equal(await cmd('store', { key: 'x/y', value: '1', registry: 'scratch' }), true);
      assert.equal(await cmd('retrieve', { key: 'x/y', registry: 'scratch' }), '1');
      assert.equal(await cmd('retrieve', 'x/y'), undefined, 'without a registry: the workspace registry, which does not have it');
      assert.equal(await cmd('contains', { key: 'x/y', registry: 'other' }), false);
      assert.equal(await cmd('moveConnectionUp', { registry: 'other' }), true);
      assert.deepEqual(api.registryNames, ['workspace', 'other', 'scratch']);
      assert.equal(await cmd('moveConnectionUp', { registry: 'other' }), false, 'already first among the connections');
      assert.equal(await cmd('moveConnectionDown', { registry: 'scratch' }), false, 'already last');
      assert.equal(await cmd('editConnection', { registry: 'scratch', backend: 'memory', note: 'edited' }), 'scratch');
      assert.equal(vscode.workspace.getConfiguration('nautilusRegistry').get<{ name: string; note?: string }[]>('connections')!.find((c) => c.name === 'scratch')?.note, 'edited');
      assert.equal(await cmd('renameConnection', { registry: 'other', to: 'renamed' }), 'renamed');
      assert.deepEqual(api.registryNames, ['workspace', 'renamed', 'scratch']);
      await assert.rejects(Promise.resolve(cmd('addConnection', { name: 'workspace', backend: 'memory' })), (err) => isRegistryError(err, 'INVALID_CONFIG'));
      await assert.rejects(Promise.resolve(cmd('addConnection', { name: 'bad name!', backend: 'memory' })), (err) => isRegistryError(err, 'INVALID_CONFIG'));
      await assert.rejects(Promise.resolve(cmd('retrieve', { key: 'a', registry: 'nope' })), (err) => isRegistryError(err, 'NOT_FOUND'));
      await assert.rejects(Promise.resolve(cmd('removeConnection', { registry: 'workspace' })), (err) => isRegistryError(err, 'INVALID_CONFIG'));
      assert.equal(await cmd('removeConnection', { registry: 'renamed' }), true);
      assert.equal(await cmd('removeConnection', { registry: 'scratch' }), true);
      assert.deepEqual(api.registryNames, ['workspace']);
    } finally {
      await setConnections(undefined);
    }
  });

  it('connectPostgres / connectRedis add a connection: URL without the password in settings, the password in secret storage; forgetPassword removes it', async function () {
    // A server that refuses connections: the commands still save what they were given, the
    // connection fails to open (state failed), and nothing secret reaches settings or the log.
    const secret = 'S3cret-cmd-' + Date.now();
    const url = 'postgres://tester@127.0.0.1:9/nodb';
    await setSettings({ connectTimeoutMs: 1000 });
    try {
      await assert.rejects(Promise.resolve(cmd('connectPostgres', { url, password: secret })));
      const saved = vscode.workspace.getConfiguration('nautilusRegistry').get<{ name: string; backend: string; url: string }[]>('connections')!;
      assert.deepEqual(
        saved.map((c) => [c.name, c.backend, c.url]),
        [['PostgreSQL', 'postgres', url]],
      );
      assert.equal(await api._test.passwords.getConnection('PostgreSQL'), secret);
      await waitFor('the failed state', () => api._test.service.find('PostgreSQL')?.status.state === 'failed');
      assert.equal(api._test.service.status.state, 'connected', 'the workspace registry is not affected');
      assert.equal(await cmd('forgetPassword', { registry: 'PostgreSQL' }), true);
      assert.equal(await api._test.passwords.getConnection('PostgreSQL'), undefined);
      assert.equal(await cmd('forgetPassword', 'PostgreSQL'), false);

      const rurl = 'redis://127.0.0.1:9';
      await assert.rejects(Promise.resolve(cmd('connectRedis', { url: `redis://:${secret}@127.0.0.1:9` })));
      const redis = vscode.workspace.getConfiguration('nautilusRegistry').get<{ name: string; url: string }[]>('connections')!.find((c) => c.name === 'Redis');
      assert.equal(redis?.url, rurl);
      assert.equal(await api._test.passwords.getConnection('Redis'), secret, 'a password in the URL moves to secret storage');
      assert.equal(await cmd('removeConnection', { registry: 'Redis' }), true);
      assert.equal(await api._test.passwords.getConnection('Redis'), undefined, 'removing a connection forgets its password');
      const settingsText = JSON.stringify(vscode.workspace.getConfiguration('nautilusRegistry'));
      assert.ok(!settingsText.includes(secret), 'no password in settings');
      assert.ok(!api._test.logLines().some((l) => l.includes(secret)), 'no password in the log');
    } finally {
      await setSettings({ connectTimeoutMs: undefined });
      await setConnections(undefined);
    }
  });

  it('copyToRegistry / moveToRegistry and compareWith / compareLoadMore / openDiff / closeComparison between registries', async () => {
    try {
      assert.equal(await cmd('addConnection', { name: 'other', backend: 'memory' }), 'other');
      await registry.storeMany([
        { key: 'cfg/a', value: '1' },
        { key: 'cfg/b', value: '2' },
        { key: 'cfg/c', value: '3' },
      ]);
      const copied = await cmd<{ copied: number }>('copyToRegistry', { folders: ['cfg/'], to: 'other' });
      assert.equal(copied.copied, 3);
      const other = await api.getRegistry('other');
      await other.store('cfg/b', 'changed');
      await other.store('cfg/only-there', 'x');
      const moved = await cmd<{ copied: number; removed: number }>('moveToRegistry', { keys: ['cfg/c'], to: 'other', folder: 'moved/', conflict: 'replace' });
      assert.deepEqual([moved.copied, moved.removed], [1, 1]);
      assert.equal(await other.retrieve('moved/c'), '3');
      assert.equal(await registry.contains('cfg/c'), false);
      const page = await cmd<{ entries: { kind: string; rel: string }[]; next?: string }>('compareWith', { prefix: 'cfg/', to: 'other' });
      assert.deepEqual(page.entries, [
        { kind: 'different', rel: 'b' },
        { kind: 'right', rel: 'c' },
        { kind: 'right', rel: 'only-there' },
      ]);
      assert.equal(page.next, undefined);
      assert.equal(await cmd('compareLoadMore'), undefined, 'complete: nothing more to compare');
      const nodes = api._test.compare.getChildren();
      const different = nodes.find((n) => n.kind === 'diff' && (n as { entry: { kind: string } }).entry.kind === 'different');
      const uri = await cmd<string>('openDiff', different);
      assert.equal(uri, 'nautilus-registry://other/cfg/b');
      await waitFor('the diff editor', () => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff);
      await closeEditors();
      await cmd('closeComparison');
      assert.deepEqual(api._test.compare.getChildren(), []);
    } finally {
      await setConnections(undefined);
    }
  });

  it('reconnect, showLog and openSettings', async () => {
    assert.equal(await cmd('reconnect'), 'connected');
    await cmd('showLog');
    await cmd('openSettings');
    await waitFor('the settings editor', () =>
      vscode.window.tabGroups.activeTabGroup.activeTab?.label.toLowerCase().includes('settings'),
    );
    await closeEditors();
  });
});
