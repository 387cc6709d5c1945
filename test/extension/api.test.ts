/** The API other extensions get from activate(): the active registry and the switch event. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RegistryStorage } from '../../src/registry';
import { EXTENSION_ID, freshMemory, getApi, setSettings } from './helpers';

describe('exported API', () => {
  before(async () => {
    await freshMemory();
  });

  it('activate() returns registry, getRegistry and onDidChangeRegistry', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const api = await ext.activate();
    assert.equal(ext.exports, api);
    assert.equal(typeof api.getRegistry, 'function');
    assert.equal(typeof api.onDidChangeRegistry, 'function');
    const registry = await api.getRegistry();
    assert.equal(api.registry, registry, 'registry is the open RegistryStorage');
    assert.equal(registry.describe().backend, 'memory');
  });

  it('the registry it returns is the one the extension shows (a store through the API appears in the view)', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    await registry.store('api/hello', 'world');
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.retrieve', 'api/hello'), 'world');
  });

  it('fires onDidChangeRegistry with the new registry when the backend setting changes, and closes the old one', async () => {
    const api = await getApi();
    const old = await api.getRegistry();
    const seen: (RegistryStorage | undefined)[] = [];
    const sub = api.onDidChangeRegistry((r) => seen.push(r));
    try {
      await setSettings({ backend: 'sqlite' });
      const now = await api.getRegistry();
      assert.notEqual(now, old);
      assert.equal(now.describe().backend, 'sqlite');
      assert.equal(api.registry, now);
      assert.ok(seen.includes(now), 'the event carried the new registry');
      assert.equal(old.describe().state, 'closed', 'the old backend was closed');
    } finally {
      sub.dispose();
      await setSettings({ backend: 'memory' });
    }
  });
});
