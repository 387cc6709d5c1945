/** The API other extensions get from activate(): the workspace registry, the registries by name, and their events. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RegistryStorage } from '../../src/registry';
import { EXTENSION_ID, freshRegistry, getApi, isRegistryError, setConnections, waitFor } from './helpers';

describe('exported API', () => {
  before(async () => {
    await freshRegistry();
  });

  it('activate() returns registry, getRegistry and onDidChangeRegistry', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const api = await ext.activate();
    assert.equal(ext.exports, api);
    assert.equal(typeof api.getRegistry, 'function');
    assert.equal(typeof api.onDidChangeRegistry, 'function');
    const registry = await api.getRegistry();
    assert.equal(api.registry, registry, 'registry is the open RegistryStorage');
    assert.equal(registry.describe().backend, 'sqlite', 'the workspace registry');
  });

  it('the registry it returns is the one the extension shows (a store through the API appears in the view)', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    await registry.store('api/hello', 'world');
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.retrieve', 'api/hello'), 'world');
  });

  it('getRegistry(name) opens a connection; onDidChangeRegistries fires when connections change; an unknown name rejects', async () => {
    const api = await getApi();
    let fired = 0;
    const sub = api.onDidChangeRegistries(() => fired++);
    try {
      await setConnections([{ name: 'api-mem', backend: 'memory' }]);
      assert.ok(fired >= 1);
      const mem = await api.getRegistry('api-mem');
      assert.equal(mem.describe().backend, 'memory');
      assert.notEqual(mem, await api.getRegistry());
      await assert.rejects(api.getRegistry('nope'), (err) => isRegistryError(err, 'NOT_FOUND'));
      await setConnections(undefined);
      await waitFor('the removed connection closed', () => mem.describe().state === 'closed');
    } finally {
      sub.dispose();
      await setConnections(undefined);
    }
  });

  it('fires onDidChangeRegistry with the reopened workspace registry, and closes the old one', async () => {
    const api = await getApi();
    const old = await api.getRegistry();
    const seen: (RegistryStorage | undefined)[] = [];
    const sub = api.onDidChangeRegistry((r) => seen.push(r));
    try {
      await api._test.service.reconnect();
      const now = await api.getRegistry();
      assert.notEqual(now, old);
      assert.equal(api.registry, now);
      assert.ok(seen.includes(now), 'the event carried the new registry');
      assert.equal(old.describe().state, 'closed', 'the old one was closed');
    } finally {
      sub.dispose();
    }
  });
});
