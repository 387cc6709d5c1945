/**
 * Activation inside a real extension host: the extension is found under its manifest id, activates
 * without error, and every command its package.json contributes is registered afterwards, so no
 * palette entry, menu item or keybinding points at nothing.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

interface Manifest {
  publisher: string;
  name: string;
  main: string;
  contributes?: {
    commands?: { command: string; title: string; category?: string }[];
    views?: Record<string, { id: string; name: string }[]>;
    viewsContainers?: { activitybar?: { id: string; title: string }[] };
  };
}

const manifest = (): Manifest => {
  const ext = vscode.extensions.all.find((e) => (e.packageJSON as Manifest).name === 'nautilus-registry');
  assert.ok(ext, 'the nautilus-registry extension is not loaded in this extension host');
  return ext.packageJSON as Manifest;
};

describe('activation', () => {
  const id = (): string => `${manifest().publisher}.${manifest().name}`;

  it('is loaded under its publisher.name id and activates', async () => {
    const ext = vscode.extensions.getExtension(id());
    assert.ok(ext, `vscode.extensions.getExtension('${id()}') found nothing`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers every command package.json contributes', async () => {
    const contributed = (manifest().contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    await vscode.extensions.getExtension(id())!.activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but never registered: ${missing.join(', ')}`);
  });

  it('gives every contributed command a title and the "Nautilus Registry" category', () => {
    const ext = vscode.extensions.getExtension(id())!;
    const nlsFile = path.join(ext.extensionPath, 'package.nls.json');
    const nls: Record<string, string> = existsSync(nlsFile) ? JSON.parse(readFileSync(nlsFile, 'utf8')) : {};
    // "%key%" placeholders resolve through package.nls.json, as VS Code does for the English UI.
    const text = (s: string | undefined): string | undefined => s?.replace(/^%(.+)%$/, (_m, key: string) => nls[key] ?? s);
    for (const c of manifest().contributes?.commands ?? []) {
      assert.ok(text(c.title)?.trim(), `${c.command} has no title`);
      assert.equal(text(c.category), 'Nautilus Registry', `${c.command} has category ${c.category}`);
    }
  });

  it('contributes an activity-bar container with the Keys view', () => {
    const containers = manifest().contributes?.viewsContainers?.activitybar ?? [];
    const container = containers.find((c) => (manifest().contributes?.views?.[c.id] ?? []).length > 0);
    assert.ok(container, 'no activity-bar container with a view');
    const views = manifest().contributes!.views![container.id];
    assert.ok(views.some((v) => v.id.length > 0), 'the container has no view');
  });

  it('is opened on the fixture workspace', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, 'expected exactly one workspace folder');
    assert.equal(folders[0].uri.scheme, 'file');
    if (process.env.NAUTILUS_TEST_WORKSPACE) {
      assert.equal(folders[0].uri.fsPath, process.env.NAUTILUS_TEST_WORKSPACE);
    }
  });
});
