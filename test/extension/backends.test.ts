/**
 * Registries side by side: the workspace's own sqlite registry (always there) and connections from
 * settings: memory, another sqlite file, PostgreSQL (the machine's server when
 * NAUTILUS_TEST_POSTGRES_URL is set, else PGlite), Redis (when NAUTILUS_TEST_REDIS_URL is set).
 * Passwords go to secret storage, never to settings or the log.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import type { openRegistry } from '../../src/registry';
import { startTcpRelay, startTestPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { children, childrenOf, describeNodes, freshRegistry, getApi, roots, setConnections, setSettings, sleep, waitFor } from './helpers';

describe('registries side by side', () => {
  let api: NautilusRegistryApi;

  before(async () => {
    api = await getApi();
  });

  after(async () => {
    await setConnections(undefined);
    await freshRegistry();
  });

  it('the workspace registry lives in the workspace storage folder and survives a reopen', async () => {
    const r = await api.getRegistry();
    const d = r.describe();
    assert.equal(d.backend, 'sqlite');
    assert.equal(d.readOnly, false);
    const storage = (api._test.service as unknown as { context: vscode.ExtensionContext }).context.storageUri!;
    assert.ok(d.location.includes(storage.fsPath), `${d.location} is under ${storage.fsPath}`);
    await r.removePrefix('');
    await r.store('persist/me', 'yes');
    await api._test.service.reconnect();
    const again = await api.getRegistry();
    assert.notEqual(again, r);
    assert.equal(await again.retrieve('persist/me'), 'yes');
    api._test.provider.refresh();
    assert.deepEqual(describeNodes(await children(api)), ['persist/']);
    await again.removePrefix('');
  });

  it('one root per registry with backend, location and state; each root shows its own keys', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nautilus-roots-'));
    await setConnections([
      { name: 'scratch', backend: 'memory' },
      { name: 'shared', backend: 'sqlite', file: path.join(dir, 'shared.sqlite') },
    ]);
    await (await api.getRegistry()).store('ws/key', 'w');
    await (await api.getRegistry('scratch')).store('mem/key', 'm');
    await (await api.getRegistry('shared')).store('file/key', 'f');
    api._test.provider.refresh();
    const top = await roots(api);
    assert.deepEqual(describeNodes(top), ['[workspace]', '[scratch]', '[shared]']);
    const items = top.map((n) => api._test.provider.getTreeItem(n as never));
    assert.equal(items[0].label, 'Workspace');
    assert.match(String(items[1].description), /Memory/);
    assert.match(String(items[2].description), /SQLite file · …\/nautilus-roots-[^/]+\/shared\.sqlite/);
    assert.equal(items[2].contextValue, 'registry.connection');
    assert.deepEqual(describeNodes(await childrenOf(api, 'workspace')), ['ws/']);
    assert.deepEqual(describeNodes(await childrenOf(api, 'scratch')), ['mem/']);
    assert.deepEqual(describeNodes(await childrenOf(api, 'shared')), ['file/']);
    // Folders of different registries have different ids (the workspace's keep the old form).
    const wsFolder = (await childrenOf(api, 'workspace'))[0];
    const memFolder = (await childrenOf(api, 'scratch'))[0];
    assert.equal(api._test.provider.getTreeItem(wsFolder as never).id, 'folder:ws/');
    assert.notEqual(api._test.provider.getTreeItem(memFolder as never).id, 'folder:mem/');
    assert.equal((api._test.provider.getParent(memFolder as never) as unknown as { registry: string }).registry, 'scratch');
    // The status bar follows the selected registry.
    api._test.statusBar.focus('scratch');
    await api._test.statusBar.refreshCount();
    assert.match(api._test.statusBar.text, /scratch \(Memory/);
    assert.match(api._test.statusBar.text, /1 key/);
    api._test.statusBar.focus('workspace');
    await api._test.statusBar.refreshCount();
    assert.match(api._test.statusBar.text, /Workspace \(SQLite/);
    await (await api.getRegistry()).removePrefix('');
    await setConnections(undefined);
  });

  it('a memory connection is a fresh scratchpad each time it opens, and says so', async () => {
    await setConnections([{ name: 'scratch', backend: 'memory' }]);
    const r = await api.getRegistry('scratch');
    await r.store('m', '1');
    await api._test.service.get('scratch').reconnect();
    assert.equal(await (await api.getRegistry('scratch')).count(), 0);
    assert.ok(api._test.service.get('scratch').status.notes.some((n) => /memory/i.test(n)), 'the UI says memory is temporary');
    await setConnections(undefined);
  });

  it('bad entries are left out with a reason; a backend nobody registered shows as a failed root', async () => {
    await config_update([{ name: 'ok', backend: 'memory' }, { name: 'bad name!', backend: 'memory' }, { backend: 'memory' }, { name: 'pg', backend: 'postgres' }, { name: 'etcd1', backend: 'etcd' }]);
    await waitFor('the valid connections', () => JSON.stringify(api.registryNames) === JSON.stringify(['workspace', 'ok', 'etcd1']));
    assert.equal(api._test.service.connectionProblems.length, 3);
    assert.ok(api._test.service.connectionProblems.some((p) => p.includes('needs "url"')));
    api._test.provider.refresh();
    const nodes = await childrenOf(api, 'etcd1');
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].kind, 'error');
    assert.match(String(nodes[0].message), /etcd.*not available/);
    assert.equal(api._test.service.get('etcd1').status.state, 'failed');
    assert.deepEqual(await childrenOf(api, 'ok'), [], 'the other roots are not affected');
    await setConnections(undefined);
  });

  describe('PostgreSQL', () => {
    let pg: TestPostgres | undefined;

    before(async function () {
      this.timeout(60_000);
      pg = await startTestPostgres();
      console.log(`      using ${pg.label}`);
    });

    after(async () => {
      await setConnections(undefined);
      await setSettings({ connectTimeoutMs: undefined });
      await pg?.close();
    });

    it('connects as a connection next to the workspace registry and follows changes from another client', async function () {
      this.timeout(60_000);
      const url = new URL(pg!.url);
      const password = url.password || undefined;
      url.password = '';
      // The password (if the server needs one) goes through the command into secret storage.
      const connected = await vscode.commands.executeCommand('nautilusRegistry.connectPostgres', {
        name: 'team',
        url: url.toString(),
        password,
        table: 'nautilus_ext_test',
      });
      assert.equal(connected, true);
      const r = await api.getRegistry('team');
      assert.equal(r.describe().backend, 'postgres');
      assert.equal(api._test.service.get('team').status.state, 'connected');
      await r.store('shared/one', '1');
      api._test.provider.refresh();
      assert.deepEqual(describeNodes(await childrenOf(api, 'team')), ['shared/']);
      // Another client writes straight into the table: the view follows by itself (a server notifies;
      // on PGlite the registry polls the table).
      await pg!.sql(`INSERT INTO public.nautilus_ext_test (key, value) VALUES ('outside/key', 'x')`);
      await waitFor('the outside key in the view', async () => describeNodes(await childrenOf(api, 'team')).includes('outside/'), 15_000);
      const settingsText = JSON.stringify(vscode.workspace.getConfiguration('nautilusRegistry'));
      if (password) {
        assert.ok(!settingsText.includes(password));
        assert.ok(!api._test.logLines().some((l) => l.includes(password)));
      }
      const item = api._test.provider.getTreeItem(api._test.provider.rootOf('team')!);
      assert.match(String(item.description), /PostgreSQL · postgres:\/\//);
      if (password) {
        assert.ok(!String(item.description).includes(password) && !JSON.stringify(item.tooltip).includes(password), 'never a password in the root');
      }
    });

    it('a server that goes away shows one Reconnect node under its root, the other roots keep working, and Reconnect brings the keys back', async function () {
      this.timeout(60_000);
      const relay = await startTcpRelay(pg!.url);
      try {
        assert.equal(await vscode.commands.executeCommand('nautilusRegistry.connectPostgres', { name: 'outage', url: relay.url, table: 'nautilus_ext_outage' }), true);
        const r = await api.getRegistry('outage');
        await r.store('outage/k', 'v');
        await (await api.getRegistry()).store('local/k', 'v');
        api._test.provider.refresh();
        assert.deepEqual(describeNodes(await childrenOf(api, 'outage')), ['outage/']);
        await relay.down();
        api._test.provider.refresh();
        const nodes = await waitFor(
          'the lost-connection node',
          async () => {
            const n = await childrenOf(api, 'outage');
            return n.length === 1 && n[0].kind === 'error' ? n : undefined;
          },
          20_000,
        );
        assert.equal(api._test.service.get('outage').status.state, 'lost');
        const item = api._test.provider.getTreeItem(nodes![0] as never);
        assert.equal(item.command?.command, 'nautilusRegistry.reconnect');
        const started = Date.now();
        assert.deepEqual(describeNodes(await children(api)), ['local/'], 'the workspace root is not blocked');
        assert.ok(Date.now() - started < 2000);
        api._test.statusBar.focus('outage');
        assert.match(api._test.statusBar.text, /disconnected/);
        api._test.statusBar.focus('workspace');
        await relay.up();
        assert.equal(await vscode.commands.executeCommand('nautilusRegistry.reconnect', { registry: 'outage' }), 'connected');
        assert.deepEqual(describeNodes(await childrenOf(api, 'outage')), ['outage/']);
        await (await api.getRegistry()).removePrefix('');
      } finally {
        await relay.close();
      }
    });

    it('a wrong server fails clearly under its own root: failed state, a Retry node, no toast storm', async function () {
      this.timeout(30_000);
      await setSettings({ connectTimeoutMs: 1000 });
      await setConnections([{ name: 'nowhere', backend: 'postgres', url: 'postgres://nobody@127.0.0.1:9/none' }]);
      await assert.rejects(api.getRegistry('nowhere'));
      await waitFor('failed', () => api._test.service.get('nowhere').status.state === 'failed');
      const nodes = await childrenOf(api, 'nowhere');
      assert.equal(nodes.length, 1);
      assert.equal(nodes[0].kind, 'error');
      assert.equal(api._test.provider.getTreeItem(nodes[0] as never).command?.command, 'nautilusRegistry.reconnect');
      assert.match(String(api._test.provider.getTreeItem(api._test.provider.rootOf('nowhere')!).contextValue), /^registry\.connection\.failed/);
      assert.equal(api._test.service.status.state, 'connected', 'the workspace registry is fine');
      await setSettings({ connectTimeoutMs: undefined });
      await setConnections(undefined);
    });
  });

  describe('Redis', () => {
    const url = process.env.NAUTILUS_TEST_REDIS_URL;

    before(function () {
      if (!url) {
        console.log('      skipped: NAUTILUS_TEST_REDIS_URL is not set (no Redis server for this run)');
        this.skip();
      }
    });

    after(async () => {
      await setConnections(undefined);
    });

    it('connects as a connection under a fresh key prefix', async function () {
      this.timeout(30_000);
      const prefix = `nautilus-ext-test:${Date.now()}:`;
      assert.equal(await vscode.commands.executeCommand('nautilusRegistry.connectRedis', { name: 'cache', url, keyPrefix: prefix }), true);
      const r = await api.getRegistry('cache');
      assert.equal(r.describe().backend, 'redis');
      await r.store('r/k', 'v');
      api._test.provider.refresh();
      assert.deepEqual(describeNodes(await childrenOf(api, 'cache')), ['r/']);
      await r.removePrefix('');
    });
  });
});

async function config_update(list: unknown[]): Promise<void> {
  await vscode.workspace.getConfiguration('nautilusRegistry').update('connections', list, vscode.ConfigurationTarget.Workspace);
}

describe('measurement: first tree children of a 100,000-key sqlite registry', () => {
  it('opening through the extension vs the floor (dist/registry.js opened and asked for children directly)', async function () {
    this.timeout(180_000);
    const api = await getApi();
    const r = await api.getRegistry();
    await r.removePrefix('');
    for (let c = 0; c < 100; c++) {
      await r.storeMany(Array.from({ length: 1000 }, (_, i) => ({ key: `bench/${String(c).padStart(2, '0')}/${i}`, value: `value ${c * 1000 + i}` })));
    }
    await r.storeMany(Array.from({ length: 50 }, (_, i) => ({ key: `top${i}`, value: String(i) })));
    const file = (r as unknown as { describe(): { location: string } }).describe().location;
    const ext = vscode.extensions.getExtension('nautilus.nautilus-registry')!;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = require(`${ext.extensionPath}/dist/registry.js`) as { openRegistry: typeof openRegistry };
    const pageSize = vscode.workspace.getConfiguration('nautilusRegistry').get<number>('pageSize', 200);
    // 15 rounds, not 5 or 9: on a busy machine the median of 5 moved by 2x between identical runs, and
    // the ratio of two medians of 9 still moved between 1.2x and 2x (each side's open took 4-40 ms).
    const rounds = 15;
    // The pause before each open: longer than the engine thread waits before its garbage collection
    // after an open (it waits for 300 ms without calls), so that the other side's collection, on a
    // thread of its own, does not land in this side's timed window (the machine may have 2 cores).
    const QUIET_MS = 500;
    const ext_ms: number[] = [];
    const floor_ms: number[] = [];
    let extTop: string[] = [];
    let floorTop: string[] = [];
    const measureExtension = async (): Promise<void> => {
      // Closed, left alone, reopened, first children of the view; timed from the moment the extension
      // starts opening. Like the floor, it opens only after its copy was closed and QUIET_MS passed:
      // it used to reopen at once after closing (reconnect), while the floor always had the pause.
      await api._test.service.workspace.close();
      await sleep(QUIET_MS);
      let t = 0;
      const sub = api._test.service.onDidChangeStatus((st) => {
        if (st.state === 'connecting' && t === 0) {
          t = performance.now();
        }
      });
      await api._test.service.reconnect();
      extTop = describeNodes(await children(api));
      ext_ms.push(performance.now() - t);
      sub.dispose();
    };
    const measureFloor = async (): Promise<void> => {
      // The same file opened with the core bundle, children() called directly (the extension's copy closed first).
      await api._test.service.workspace.close();
      await sleep(QUIET_MS);
      const t = performance.now();
      const direct = await core.openRegistry({ backend: 'sqlite', file, wasmPath: `${ext.extensionPath}/dist/sql-wasm.wasm` });
      const page = await direct.children('', '/', { limit: pageSize });
      floor_ms.push(performance.now() - t);
      floorTop = page.items.map((i) => i.key);
      await direct.close();
    };
    for (let round = 0; round < rounds; round++) {
      // Alternate the order, so neither side always runs right after the other closed the file.
      if (round % 2 === 0) {
        await measureExtension();
        await measureFloor();
      } else {
        await measureFloor();
        await measureExtension();
      }
    }
    assert.deepEqual(extTop, floorTop, 'the view shows what children() returns');
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `      first children of 100,050 keys: extension ${med(ext_ms).toFixed(1)} ms, floor ${med(floor_ms).toFixed(1)} ms, ratio ${(med(ext_ms) / med(floor_ms)).toFixed(2)} (median of ${rounds})`,
    );
    await (await api.getRegistry()).removePrefix('');
  });
});

describe('workspace trust (simulated in a trusted window)', () => {
  let api: NautilusRegistryApi;

  before(async () => {
    api = await getApi();
  });

  after(async () => {
    await api._test.service.setTrustOverride(undefined);
    await setConnections(undefined);
  });

  it('shows only the workspace registry when the workspace is not trusted, and says why', async () => {
    await setConnections([{ name: 'evil', backend: 'postgres', url: 'postgres://attacker@203.0.113.1:5432/x' }]);
    await api._test.service.setTrustOverride(false);
    assert.deepEqual(api.registryNames, ['workspace']);
    assert.ok(!(await roots(api)).some((n) => n.kind === 'registry'), 'alone, the workspace registry shows its keys at the top level');
    assert.equal((await api.getRegistry()).describe().backend, 'sqlite');
    assert.match(api._test.view.message ?? '', /Restricted Mode.*1 connection/);
    assert.ok(!api._test.logLines().some((l) => l.includes('203.0.113.1') && l.includes('Opening')), 'never tried the server');
    assert.equal(await vscode.commands.executeCommand('nautilusRegistry.addConnection', { name: 'x', backend: 'memory' }), undefined, 'no connections added in Restricted Mode');
    await api._test.service.setTrustOverride(undefined);
    assert.deepEqual(api.registryNames, ['workspace', 'evil'], 'trusted again: the connection is back');
  });

  it('declares the connection settings as restricted and machine-overridable', () => {
    const pkg = vscode.extensions.getExtension('nautilus.nautilus-registry')!.packageJSON;
    const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const key of ['connections', 'backend', 'postgres.url', 'postgres.schema', 'postgres.table', 'postgres.ssl', 'redis.url', 'redis.keyPrefix']) {
      assert.ok(restricted.includes(`nautilusRegistry.${key}`), `${key} is restricted`);
      assert.equal(pkg.contributes.configuration.properties[`nautilusRegistry.${key}`].scope, 'machine-overridable', `${key} scope`);
    }
  });
});
