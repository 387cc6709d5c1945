/**
 * The extension in the web worker extension host (VS Code for the Web): no Node, the sqlite
 * registry in the storage folder through vscode.workspace.fs on the web file seam, one writer per
 * registry across tabs, and the server backends refused in one clear line.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { workspaceFiles } from '../../src/extension/workspaceFiles';
import { openRegistry, webFileSystem } from '../../src/registry';
import { getApi, isRegistryError, setConnections } from '../extension/helpers';

async function storageDir(): Promise<vscode.Uri> {
  const api = await getApi();
  const location = api._test.service.status.location;
  assert.ok(location, 'the sqlite registry has a location');
  // The storage folder is on the same remote (scheme and authority) as the workspace folder in code-server.
  const folder = vscode.workspace.workspaceFolders![0].uri;
  return folder.with({ path: location.slice(0, location.lastIndexOf('/')) });
}

describe('VS Code for the Web (web worker extension host)', () => {
  before(async () => {
    const api = await getApi();
    await api._test.service.reconnect();
  });

  it('runs without Node: no process, no require of Node modules', () => {
    assert.equal(typeof (globalThis as { process?: unknown }).process, 'undefined');
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
    console.log(`[nautilus-web] navigator.locks is ${typeof (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks === 'object' ? 'available' : 'missing'} in the web worker extension host`);
  });

  it('keeps the sqlite registry under the storage folder, through vscode.workspace.fs', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    assert.equal(registry.describe().backend, 'sqlite');
    assert.equal(registry.describe().readOnly, false);
    await registry.store('web/first', 'stored in a browser');
    const dir = await storageDir();
    const names = (await vscode.workspace.fs.readDirectory(dir)).map(([n]) => n);
    assert.ok(names.some((n) => /^registry\.sqlite\.g\d+$/.test(n)), `the database generation file is there: ${names.join(', ')}`);
    assert.ok(names.some((n) => /^registry\.sqlite\.nautilus-log\.g\d+\.s\d+$/.test(n)), `the store wrote a journal segment: ${names.join(', ')}`);
  });

  it('an acknowledged store is there after the registry is closed and opened again', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    await registry.storeMany(Array.from({ length: 300 }, (_, i) => ({ key: `web/many/${String(i).padStart(3, '0')}`, value: `v${i}` })));
    await registry.store('web/last', 'persisted');
    const again = await api._test.service.reconnect();
    assert.notEqual(again, registry);
    assert.equal(await again.retrieve('web/last'), 'persisted');
    assert.equal(await again.retrieve('web/first'), 'stored in a browser');
    assert.equal(await again.count('web/many/'), 300);
  });

  it('a second registry on the same files (another tab) is read-only and says so', async () => {
    const api = await getApi();
    const first = await api.getRegistry();
    const ext = vscode.extensions.getExtension('nautilus.nautilus-registry')!;
    const wasmBinary = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext.extensionUri, 'dist', 'sql-wasm.wasm'));
    const dir = await storageDir();
    const second = await openRegistry({
      backend: 'sqlite',
      file: first.describe().location,
      fileSystem: webFileSystem(workspaceFiles(dir)),
      wasmBinary,
      readOnlyIfLocked: true,
      lockTimeoutMs: 300,
    });
    try {
      assert.equal(second.describe().readOnly, true);
      assert.match(second.describe().notes?.[0] ?? '', /Read-only: .*another browser tab or window/);
      assert.equal(await second.retrieve('web/last'), 'persisted');
      await assert.rejects(second.store('web/other', 'x'), (err: unknown) => isRegistryError(err, 'LOCKED'));
    } finally {
      await second.close();
    }
    await first.store('web/still', 'writable');
  });

  it('PostgreSQL and Redis say in one line that they need the desktop or a Remote window; their connections show as unavailable', async () => {
    const api = await getApi();
    for (const [command, label] of [
      ['nautilusRegistry.connectPostgres', 'PostgreSQL'],
      ['nautilusRegistry.connectRedis', 'Redis'],
    ] as const) {
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand(command, { url: label === 'Redis' ? 'redis://127.0.0.1:6379' : 'postgres://u@127.0.0.1/db' })),
        (err: unknown) => isRegistryError(err, 'UNSUPPORTED') && new RegExp(`^${label} needs a network connection .*VS Code Desktop or a Remote window`).test((err as Error).message),
      );
    }
    // Connections in settings (synced from a desktop, say): each root fails with that line, nothing crashes.
    await setConnections([
      { name: 'team', backend: 'postgres', url: 'postgres://u@127.0.0.1/db' },
      { name: 'cache', backend: 'redis', url: 'redis://127.0.0.1:6379' },
      { name: 'file', backend: 'sqlite', file: '/tmp/other.sqlite' },
    ]);
    try {
      for (const [name, re] of [
        ['team', /PostgreSQL needs a network connection that a browser cannot open/],
        ['cache', /Redis needs a network connection that a browser cannot open/],
        ['file', /SQLite file connection .* needs VS Code Desktop or a Remote window/],
      ] as const) {
        await assert.rejects(api.getRegistry(name), (err: unknown) => isRegistryError(err, 'UNSUPPORTED') && re.test((err as Error).message));
        const managed = api._test.service.find(name)!;
        assert.equal(managed.status.state, 'failed');
        assert.match(managed.status.error ?? '', re);
      }
    } finally {
      await setConnections(undefined);
    }
    const back = await api.getRegistry();
    assert.equal(await back.retrieve('web/still'), 'writable');
  });

  it('exports to and imports from a file through vscode.workspace.fs', async () => {
    const api = await getApi();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    assert.ok(folder, 'a folder is open');
    const file = vscode.Uri.joinPath(folder, 'web-export.json');
    const exported = (await vscode.commands.executeCommand('nautilusRegistry.export', { uri: file, prefix: 'web/many/' })) as { exported: number };
    assert.equal(exported.exported, 300);
    const registry = await api.getRegistry();
    await registry.removePrefix('web/many/');
    const imported = (await vscode.commands.executeCommand('nautilusRegistry.import', { uri: file })) as { stored: number };
    assert.equal(imported.stored, 300);
    assert.equal(await registry.retrieve('web/many/007'), 'v7');
    await vscode.workspace.fs.delete(file);
  });
});
