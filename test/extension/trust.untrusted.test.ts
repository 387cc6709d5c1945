/** Runs only in the untrusted pass (workspace trust on, folder not trusted). */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { getApi, setSettings } from './helpers';

describe('untrusted workspace', () => {
  it('is really untrusted here', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('activates, and opens only the local registry even when settings ask for a server', async () => {
    const api = await getApi();
    await setSettings({ backend: 'postgres', 'postgres.url': 'postgres://attacker@203.0.113.1:5432/x' }).catch(() => undefined);
    const registry = await api.getRegistry();
    assert.notEqual(registry.describe().backend, 'postgres');
    assert.ok(['sqlite', 'memory'].includes(api._test.service.status.backend));
    await registry.store('untrusted/k', 'v');
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.retrieve', 'untrusted/k'), 'v');
    if (api._test.service.status.requested === 'postgres') {
      assert.ok(api._test.service.status.notes.some((n) => n.includes('Restricted Mode')), 'the UI says why');
    }
  });
});
