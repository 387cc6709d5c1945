/** Compare with…: two folders of different registries (sqlite and PostgreSQL on PGlite), paged like the tree. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import { startTestPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { closeEditors, freshRegistry, getApi, setConnections, setSettings, waitFor } from './helpers';

describe('Compare with…', function () {
  this.timeout(120_000);
  let api: NautilusRegistryApi;
  let pg: TestPostgres;

  before(async () => {
    api = await getApi();
    pg = await startTestPostgres();
    await setConnections([{ name: 'pg', backend: 'postgres', url: pg.url, table: `nautilus_ext_compare_${Date.now().toString(36)}` }]);
  });

  after(async () => {
    await vscode.commands.executeCommand('nautilusRegistry.closeComparison');
    await setSettings({ pageSize: undefined });
    await setConnections(undefined);
    await pg.close();
    await freshRegistry();
    await closeEditors();
  });

  it('lists keys only left, only right and different across backends, a page at a time, and opens the diff editor', async () => {
    const ws = await freshRegistry();
    const remote = await api.getRegistry('pg');
    await remote.removePrefix('');
    const n = 2000;
    const entries = Array.from({ length: n }, (_, i) => ({ key: `app/${String(i).padStart(5, '0')}`, value: `v${i}` }));
    await ws.storeMany(entries);
    // Differences spread over the folder: 20 changed, 10 missing on the right, 5 only on the right.
    await remote.storeMany(entries.filter((_, i) => i % 200 !== 7).map((e, i) => (i % 100 === 3 ? { ...e, value: 'changed' } : e)));
    await remote.storeMany(Array.from({ length: 5 }, (_, i) => ({ key: `app/extra-${i}`, value: 'x' })));
    await setSettings({ pageSize: 10 });
    const first = await vscode.commands.executeCommand<{ entries: { kind: string; rel: string }[]; next?: string }>('nautilusRegistry.compareWith', { prefix: 'app/', to: 'pg' });
    assert.ok(first.entries.length >= 10 && first.next !== undefined, 'a first page, with more to come');
    while (!api._test.compare.peek().complete) {
      await vscode.commands.executeCommand('nautilusRegistry.compareLoadMore');
    }
    const { entries: all, counts } = api._test.compare.peek();
    assert.equal(counts.left, 10);
    assert.equal(counts.right, 5);
    assert.equal(counts.different, 20);
    assert.equal(counts.same, n - 30);
    assert.equal(new Set(all.map((e) => e.rel)).size, all.length, 'no key twice across pages');
    const summary = api._test.compare.getTreeItem(api._test.compare.getChildren()[0]);
    assert.match(String(summary.label), /Workspace: app\/ ↔ pg: app\//);
    assert.match(String(summary.description), /10 only left · 5 only right · 20 different · 1,970 the same/);
    const diff = api._test.compare.getChildren().find((x) => x.kind === 'diff' && (x as { entry: { kind: string } }).entry.kind === 'different')!;
    const item = api._test.compare.getTreeItem(diff);
    assert.equal(item.command?.command, 'nautilusRegistry.openDiff');
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    const tab = await waitFor('the diff editor', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputTextDiff ? t : undefined;
    });
    const input = tab!.input as vscode.TabInputTextDiff;
    assert.equal(input.original.toString(), 'nautilus-registry:/app/00003');
    assert.equal(input.modified.toString(), 'nautilus-registry://pg/app/00003');
    const modified = await vscode.workspace.openTextDocument(input.modified);
    assert.equal(modified.getText(), 'changed');
  });

  it('refuses to compare a folder with itself, and says what it needs from code', async () => {
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('nautilusRegistry.compareWith', { prefix: 'app/' })), /same folder/);
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('nautilusRegistry.compareWith', { registry: 'pg' })), /needs a folder/);
  });
});
