/** Runs only in the untrusted pass (workspace trust on, folder not trusted). */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { getApi, roots } from './helpers';

describe('untrusted workspace', () => {
  it('is really untrusted here', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('activates, and shows only its own registry even when settings list connections, and says why', async () => {
    const api = await getApi();
    await vscode.workspace
      .getConfiguration('nautilusRegistry')
      .update('connections', [{ name: 'evil', backend: 'postgres', url: 'postgres://attacker@203.0.113.1:5432/x' }], vscode.ConfigurationTarget.Workspace)
      .then(undefined, () => undefined);
    api._test.service.syncConnections();
    assert.deepEqual(api.registryNames, ['workspace']);
    assert.ok(!(await roots(api)).some((n) => n.kind === 'registry'), 'alone, the workspace registry shows its keys at the top level');
    const registry = await api.getRegistry();
    assert.ok(['sqlite', 'memory'].includes(registry.describe().backend));
    await registry.store('untrusted/k', 'v');
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.retrieve', 'untrusted/k'), 'v');
    assert.match(api._test.view.message ?? '', /Restricted Mode/, 'the view says why');
    assert.ok(!api._test.logLines().some((l) => l.includes('203.0.113.1') && l.includes('Opening')), 'never tried the server');
  });

  it('does not rewrite old settings (the migration waits for trust)', async () => {
    const api = await getApi();
    await vscode.workspace.getConfiguration('nautilusRegistry').update('backend', 'postgres', vscode.ConfigurationTarget.Workspace).then(undefined, () => undefined);
    assert.deepEqual(await api._test.service.migrate(), []);
    assert.deepEqual(api.registryNames, ['workspace']);
  });
});
