/**
 * A backend from another extension: the fixture (test/fixtures/jsonFileBackend, keys in a JSON file)
 * registers through the public API exactly as a third-party extension would, passes the conformance
 * suite as shipped (dist/conformance.js, loaded from the installed extension), and shows in the view
 * next to the built-in backends.
 */
import type * as Suite from '../conformance/suite';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Core } from '../fixtures/jsonFileBackend/backend';
import { jsonFileBackend, openJsonFileRegistry } from '../fixtures/jsonFileBackend/backend';
import { EXTENSION_ID, childrenOf, describeNodes, getApi, roots, setConnections, waitFor } from './helpers';

const extensionPath = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
// What a backend author uses: the core (for the in-memory helper and RegistryError) and the suite.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const core = require(path.join(extensionPath, 'dist', 'registry.js')) as Core;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const conformance = require(path.join(extensionPath, 'dist', 'conformance.js')) as typeof Suite;

let dir = '';
let n = 0;
conformance.describeConformance('jsonfile', {
  async open(options) {
    dir ||= mkdtempSync(path.join(tmpdir(), 'nautilus-host-jsonfile-'));
    return openJsonFileRegistry(core, path.join(dir, `c${++n}.json`), options);
  },
  async cleanup() {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
      dir = '';
    }
  },
  modelOps: 300,
});

describe('a backend another extension registers', () => {
  let registration: vscode.Disposable | undefined;
  const folder = mkdtempSync(path.join(tmpdir(), 'nautilus-thirdparty-'));
  const file = path.join(folder, 'keys.json');

  after(async () => {
    registration?.dispose();
    await setConnections(undefined);
    rmSync(folder, { recursive: true, force: true });
  });

  it('registers through the API; a duplicate or malformed id is refused', async () => {
    const api = await getApi();
    registration = api.registerBackend(jsonFileBackend(core));
    assert.throws(() => api.registerBackend(jsonFileBackend(core)), /exists already/);
    assert.throws(() => api.registerBackend({ ...jsonFileBackend(core), id: 'postgres' }), /exists already/);
    assert.throws(() => api.registerBackend({ ...jsonFileBackend(core), id: 'Bad Id' }), /lowercase/);
    const offered = api._test.service.catalog.all().map((b) => b.label);
    assert.ok(offered.includes('JSON file'), `Add Connection… offers ${offered.join(', ')}`);
    assert.deepEqual(Object.keys(api._test.service.catalog.get('jsonfile')!.configSchema!.properties!), ['file']);
  });

  it('a connection of it shows next to the built-in ones, stores through commands, and lands in the file', async () => {
    const api = await getApi();
    await setConnections([
      { name: 'scratch', backend: 'memory' },
      { name: 'json', backend: 'jsonfile', file },
    ]);
    api._test.provider.refresh();
    assert.deepEqual(describeNodes(await roots(api)), ['[workspace]', '[scratch]', '[json]']);
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.store', { key: 'app/name', value: 'nautilus', registry: 'json' }), true);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).entries['app/name'].value, 'nautilus', 'written to the JSON file before the command returned');
    await waitFor('the key in the view', async () => describeNodes(await childrenOf(api, 'json')).join() === 'app/');
    const item = api._test.provider.getTreeItem(api._test.provider.rootOf('json')!);
    assert.match(String(item.description), /JSON file/);
    assert.equal(api._test.service.get('json').status.state, 'connected');
    assert.ok(api._test.logLines().some((l) => l.includes('[jsonfile]') && l.includes('Opening the JSON file')), 'the backend logs through the extension');
  });

  it('secret fields: asked apart, kept in secret storage, handed to open(), moved on rename, forgotten on remove', async () => {
    const api = await getApi();
    const seen: (string | undefined)[] = [];
    const withToken = api.registerBackend({
      ...jsonFileBackend(core),
      id: 'jsonfile-token',
      label: 'JSON file with a token',
      configSchema: { properties: { file: { title: 'File', type: 'string', required: true }, token: { title: 'Token', secret: true } } },
      open: async (config, context) => {
        seen.push(await context.secrets.get('token'));
        return openJsonFileRegistry(core, String(config.file));
      },
    });
    try {
      const tokenFile = path.join(folder, 'token.json');
      assert.equal(
        await vscode.commands.executeCommand('nautilusRegistry.addConnection', { name: 'tok', backend: 'jsonfile-token', file: tokenFile, secrets: { token: 's3cr3t-token' } }),
        'tok',
      );
      await api.getRegistry('tok');
      assert.equal(seen.at(-1), 's3cr3t-token');
      assert.ok(!JSON.stringify(vscode.workspace.getConfiguration('nautilusRegistry').get('connections')).includes('s3cr3t-token'), 'not in settings');
      assert.equal(await vscode.commands.executeCommand('nautilusRegistry.renameConnection', { registry: 'tok', to: 'tok2' }), 'tok2');
      await api.getRegistry('tok2');
      assert.equal(seen.at(-1), 's3cr3t-token', 'the secret moved with the name');
      assert.equal(await api._test.passwords.getConnection('tok.token'), undefined);
      assert.equal(await vscode.commands.executeCommand('nautilusRegistry.removeConnection', { registry: 'tok2' }), true);
      assert.equal(await api._test.passwords.getConnection('tok2.token'), undefined, 'removing the connection forgets its secrets');
    } finally {
      withToken.dispose();
    }
  });

  it('without the extension that adds it, the connection says so under its root; registering again brings it back', async () => {
    const api = await getApi();
    registration!.dispose();
    registration = undefined;
    await waitFor('the failed root', () => api._test.service.get('json').status.state === 'failed' || api._test.service.get('json').status.state === 'idle');
    await assert.rejects(api.getRegistry('json'), /not available/);
    api._test.provider.refresh();
    const nodes = await childrenOf(api, 'json');
    assert.equal(nodes[0].kind, 'error');
    registration = api.registerBackend(jsonFileBackend(core));
    await waitFor('reopened', async () => (await api.getRegistry('json').catch(() => undefined)) !== undefined);
    assert.equal(await (await api.getRegistry('json')).retrieve('app/name'), 'nautilus', 'the keys were in the file all along');
  });
});
