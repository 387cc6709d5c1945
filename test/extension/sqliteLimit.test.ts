/**
 * The sqlite size limit (nautilusRegistry.sqlite.maxDatabaseMiB) as the user meets it: a write
 * past it fails with advice, and the view and the status bar say that the registry is full until
 * a write fits again.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import { children, freshRegistry, getApi, isRegistryError, setSettings, waitFor } from './helpers';

const run = <T>(id: string, ...args: unknown[]): Thenable<T> => vscode.commands.executeCommand<T>(`nautilusRegistry.${id}`, ...args);

describe('sqlite size limit in the extension', () => {
  let api: NautilusRegistryApi;
  let limited: unknown;

  after(async () => {
    await setSettings({ 'sqlite.maxDatabaseMiB': undefined });
    await waitFor('the workspace registry reopened without the limit', () => api._test.service.current !== undefined && api._test.service.current !== limited);
    await freshRegistry();
  });

  it('a write past maxDatabaseMiB fails with advice; the view and the status bar say the registry is full', async function () {
    this.timeout(60_000);
    api = await getApi();
    const before = await freshRegistry();
    // The workspace registry (sqlite) reopens with the new limit.
    await setSettings({ 'sqlite.maxDatabaseMiB': 1 });
    await waitFor('the workspace registry reopened', () => api._test.service.current !== undefined && api._test.service.current !== before);
    const registry = await api.getRegistry();
    assert.equal(registry.describe().backend, 'sqlite');
    limited = registry;
    const big = 'z'.repeat(100_000);
    let failure: unknown;
    for (let i = 0; i < 40 && failure === undefined; i++) {
      await Promise.resolve(run('store', { key: `big/k${i}`, value: big })).catch((err: unknown) => (failure = err));
    }
    assert.ok(isRegistryError(failure, 'UNSUPPORTED'), `a write past the limit fails with UNSUPPORTED: ${String(failure)}`);
    assert.match((failure as Error).message, /PostgreSQL/);
    await waitFor('the warning in the status', () => api._test.service.status.warning);
    assert.match(api._test.statusBar.text, /full/);
    assert.match(api._test.view.message ?? '', /limit of 1 MiB/);
    // Making room and writing again clears it.
    await run('removeFolder', { prefix: 'big/' });
    await run('store', { key: 'small', value: 'fits' });
    api._test.provider.refresh();
    await children(api);
    await waitFor('the warning cleared', () => api._test.service.status.warning === undefined);
    assert.doesNotMatch(api._test.statusBar.text, /full/);
  });
});
