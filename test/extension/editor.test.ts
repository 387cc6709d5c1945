/** Values in a real editor: the nautilus-registry file system, round trip through the API. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RegistryStorage } from '../../src/registry';
import { closeEditors, freshRegistry, getApi, setConnections, waitFor } from './helpers';

const uriOf = (key: string): vscode.Uri => vscode.Uri.from({ scheme: 'nautilus-registry', path: '/' + key });

describe('value editor (FileSystemProvider)', () => {
  let registry: RegistryStorage;

  beforeEach(async () => {
    registry = await freshRegistry();
  });

  afterEach(async () => {
    await closeEditors();
  });

  it('a value tab carries its registry (nautilus-registry://<name>/<key>) and follows only that registry', async () => {
    const api = await getApi();
    try {
      await setConnections([{ name: 'MixedCase', backend: 'memory' }]);
      const other = await api.getRegistry('MixedCase');
      await other.store('same/key', 'from MixedCase');
      await registry.store('same/key', 'from the workspace');
      const uri = await vscode.commands.executeCommand<string>('nautilusRegistry.openValue', { key: 'same/key', registry: 'MixedCase' });
      assert.match(uri, /^nautilus-registry:\/\/mixedcase\/same\/key$/i);
      const doc = vscode.window.activeTextEditor!.document;
      assert.equal(doc.getText(), 'from MixedCase');
      await vscode.commands.executeCommand('nautilusRegistry.openValue', 'same/key');
      assert.equal(vscode.window.activeTextEditor!.document.getText(), 'from the workspace');
      // A change in the workspace registry leaves the other tab alone; a change in its own registry updates it.
      await registry.remove('same/key');
      await other.store('same/key', 'changed in MixedCase');
      await waitFor('the MixedCase tab to follow', () => doc.getText() === 'changed in MixedCase');
      assert.ok(vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === doc.uri.toString())), 'still open');
    } finally {
      await setConnections(undefined);
    }
  });

  it('opens, edits, saves and the API reads the new value back (TTL kept)', async () => {
    await registry.store('team/api/url', 'https://example.test', { ttlMs: 3_600_000 });
    await vscode.commands.executeCommand('nautilusRegistry.openValue', 'team/api/url');
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.uri.toString(), uriOf('team/api/url').toString());
    assert.equal(editor.document.getText(), 'https://example.test');
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), 'https://changed.test'));
    assert.equal(editor.document.isDirty, true);
    assert.equal(await editor.document.save(), true);
    assert.equal(await registry.retrieve('team/api/url'), 'https://changed.test');
    const info = await registry.inspect('team/api/url');
    assert.ok(info?.expiresAt && info.expiresAt > Date.now() + 3_000_000, 'saving keeps the remaining TTL');
  });

  it('uses the JSON language mode when the value parses as JSON', async () => {
    await registry.store('cfg/beta', '{"enabled":true,"cohort":"b"}');
    await registry.store('cfg/text', 'not json {');
    const json = await vscode.workspace.openTextDocument(uriOf('cfg/beta'));
    await waitFor('JSON mode', async () => (await vscode.workspace.openTextDocument(uriOf('cfg/beta'))).languageId === 'json');
    assert.equal(json.uri.path, '/cfg/beta');
    const text = await vscode.workspace.openTextDocument(uriOf('cfg/text'));
    assert.notEqual(text.languageId, 'json');
  });

  it('follows an external change of an open value', async () => {
    await registry.store('ext/k', 'before');
    await vscode.commands.executeCommand('nautilusRegistry.openValue', 'ext/k');
    const doc = vscode.window.activeTextEditor!.document;
    await registry.store('ext/k', 'after');
    await waitFor('the editor to reload', () => doc.getText() === 'after');
  });

  it('closes the tab of a removed key that has no unsaved edits', async () => {
    await registry.store('del/k', 'v');
    await vscode.commands.executeCommand('nautilusRegistry.openValue', 'del/k');
    const isOpen = (): boolean =>
      vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.path === '/del/k'));
    assert.ok(isOpen());
    await registry.remove('del/k');
    await waitFor('the tab to close', () => !isOpen());
  });

  it('reports errors as FileSystemErrors', async () => {
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(uriOf('no/such/key'))), (err) => err instanceof vscode.FileSystemError && err.code === 'FileNotFound');
    await vscode.workspace.fs.writeFile(uriOf('fs/new'), new TextEncoder().encode('created'));
    assert.equal(await registry.retrieve('fs/new'), 'created');
    const stat = await vscode.workspace.fs.stat(uriOf('fs/new'));
    assert.equal(stat.type, vscode.FileType.File);
    assert.equal(stat.size, 7);
    assert.equal((await vscode.workspace.fs.stat(uriOf('fs/'))).type, vscode.FileType.Directory);
    assert.deepEqual(await vscode.workspace.fs.readDirectory(uriOf('fs')), [['new', vscode.FileType.File]]);
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.writeFile(uriOf('fs/bad'), new Uint8Array([0xff, 0xfe]))),
      (err) => err instanceof vscode.FileSystemError && /UTF-8/.test(err.message),
    );
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.writeFile(uriOf('fs/nul'), new TextEncoder().encode('a\u0000b'))),
      (err) => err instanceof vscode.FileSystemError,
    );
    await vscode.workspace.fs.rename(uriOf('fs/new'), uriOf('fs/renamed'));
    assert.equal(await registry.retrieve('fs/renamed'), 'created');
    await vscode.workspace.fs.delete(uriOf('fs/renamed'));
    assert.equal(await registry.contains('fs/renamed'), false);
  });
});
