/**
 * A backend from another extension: the fixture extension test/fixtures/jsonFileExtension (id
 * nautilus-fixtures.jsonfile-backend, its own package.json with extensionDependencies on ours) is
 * loaded next to ours by the host runner and registers the JSON-file backend of
 * test/fixtures/jsonFileBackend through the public API on activation. The suite checks that the
 * backend came from that extension, that it passes the conformance suite as shipped
 * (dist/conformance.js, loaded from the installed extension) through the registered contribution,
 * and that its connections show in the view next to the built-in backends.
 */
import type * as Suite from '../conformance/suite';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { BackendContribution, BackendOpenContext } from '../../src/extension/registries/backendCatalog';
import type { Core } from '../fixtures/jsonFileBackend/backend';
import { jsonFileBackend, openJsonFileRegistry } from '../fixtures/jsonFileBackend/backend';
import type { JsonFileFixtureExports } from '../fixtures/jsonFileExtension/extension';
import { EXTENSION_ID, childrenOf, describeNodes, getApi, roots, setConnections, waitFor } from './helpers';

const FIXTURE_ID = 'nautilus-fixtures.jsonfile-backend';
const extensionPath = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
// What a backend author uses: the core (for the in-memory helper and RegistryError) and the suite.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const core = require(path.join(extensionPath, 'dist', 'registry.js')) as Core;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const conformance = require(path.join(extensionPath, 'dist', 'conformance.js')) as typeof Suite;

/** The fixture extension, activated (it registered its backend in activate). */
async function fixture(): Promise<JsonFileFixtureExports> {
  const ext = vscode.extensions.getExtension<JsonFileFixtureExports>(FIXTURE_ID);
  assert.ok(ext, `the fixture extension ${FIXTURE_ID} is not loaded: the host runner installs it next to ours`);
  return ext.activate();
}

/** The contribution the catalog holds for "jsonfile", i.e. what Add Connection… and the connections use. */
async function registered(): Promise<BackendContribution> {
  const api = await getApi();
  const contribution = api._test.service.catalog.get('jsonfile');
  assert.ok(contribution, `no "jsonfile" backend; offered: ${api._test.service.catalog.ids().join(', ')}`);
  return contribution;
}

const quietContext: BackendOpenContext = {
  name: 'conformance',
  log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  secrets: { get: async () => undefined },
};

// The shipped suite against the backend as the fixture extension registered it: each registry is
// opened by the registered contribution's open(), with a connection's fields.
let dir = '';
let n = 0;
conformance.describeConformance('jsonfile', {
  async open(options) {
    dir ||= mkdtempSync(path.join(tmpdir(), 'nautilus-host-jsonfile-'));
    const contribution = await registered();
    return contribution.open({ file: path.join(dir, `c${++n}.json`), ...(options?.maxValueBytes !== undefined ? { maxValueBytes: options.maxValueBytes } : {}) }, quietContext);
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
  const folder = mkdtempSync(path.join(tmpdir(), 'nautilus-thirdparty-'));
  const file = path.join(folder, 'keys.json');

  after(async () => {
    (await fixture()).register();
    await setConnections(undefined);
    rmSync(folder, { recursive: true, force: true });
  });

  it('comes from the fixture extension, installed next to ours, which registered it on activation', async () => {
    const api = await getApi();
    const ext = vscode.extensions.getExtension<JsonFileFixtureExports>(FIXTURE_ID);
    assert.ok(ext, `${FIXTURE_ID} is not loaded`);
    assert.notEqual(ext.extensionPath, extensionPath, 'a separate extension, not ours');
    assert.deepEqual(ext.packageJSON.extensionDependencies, [EXTENSION_ID]);
    const exported = await fixture();
    assert.ok(ext.isActive);
    assert.ok(exported.registration, 'registered in its activate()');
    // The catalog holds the very contribution that extension registered, not a copy from this suite.
    assert.equal(await registered(), exported.backend);
    const offered = api._test.service.catalog.all();
    assert.ok(
      offered.some((b) => b.id === 'jsonfile' && b.label === 'JSON file' && b.contribution === exported.backend),
      `Add Connection… offers ${offered.map((b) => b.label).join(', ')}`,
    );
    assert.deepEqual(
      offered.map((b) => b.id).slice(0, 4),
      ['postgres', 'redis', 'sqlite', 'memory'],
      'the built-in backends first, then those of other extensions',
    );
    assert.deepEqual(Object.keys(exported.backend.configSchema.properties), ['file', 'maxValueBytes']);
  });

  it('a duplicate or malformed id is refused', async () => {
    const api = await getApi();
    assert.throws(() => api.registerBackend(jsonFileBackend(core)), /exists already/);
    assert.throws(() => api.registerBackend({ ...jsonFileBackend(core), id: 'postgres' }), /exists already/);
    assert.throws(() => api.registerBackend({ ...jsonFileBackend(core), id: 'Bad Id' }), /lowercase/);
  });

  it('a connection of it shows next to the built-in ones, stores through commands, and lands in the file', async () => {
    const api = await getApi();
    await setConnections([{ name: 'scratch', backend: 'memory' }]);
    // Add Connection… with the fixture's backend and its field, as the guided input would end.
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.addConnection', { name: 'json', backend: 'jsonfile', file }), 'json');
    assert.deepEqual(vscode.workspace.getConfiguration('nautilusRegistry').get('connections'), [
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
    const exported = await fixture();
    exported.unregister();
    assert.equal(api._test.service.catalog.get('jsonfile'), undefined);
    await waitFor('the failed root', () => api._test.service.get('json').status.state === 'failed' || api._test.service.get('json').status.state === 'idle');
    await assert.rejects(api.getRegistry('json'), /not available/);
    api._test.provider.refresh();
    const nodes = await childrenOf(api, 'json');
    assert.equal(nodes[0].kind, 'error');
    exported.register();
    await waitFor('reopened', async () => (await api.getRegistry('json').catch(() => undefined)) !== undefined);
    assert.equal(await (await api.getRegistry('json')).retrieve('app/name'), 'nautilus', 'the keys were in the file all along');
  });
});
