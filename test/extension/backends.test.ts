/**
 * Switching backends by settings: memory, sqlite (in the workspace storage folder), PostgreSQL
 * (the machine's server when NAUTILUS_TEST_POSTGRES_URL is set, else PGlite), Redis (when
 * NAUTILUS_TEST_REDIS_URL is set). Passwords go to secret storage, never to settings or the log.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import type { openRegistry } from '../../src/registry';
import { startTcpRelay, startTestPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { children, describeNodes, freshMemory, getApi, setSettings, sleep, useBackend, waitFor } from './helpers';

describe('backends from settings', () => {
  let api: NautilusRegistryApi;

  before(async () => {
    api = await getApi();
  });

  after(async () => {
    await freshMemory();
  });

  it('memory: a fresh registry each time it opens', async () => {
    const r = await useBackend('memory');
    await r.store('m', '1');
    await api._test.service.reconnect();
    assert.equal(await (await api.getRegistry()).count(), 0);
    assert.ok(api._test.service.status.notes.some((n) => /memory/i.test(n)), 'the UI says memory is temporary');
  });

  it('sqlite: lives in the workspace storage folder and survives a reopen', async () => {
    const r = await useBackend('sqlite');
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

  it('status bar shows backend, key count and state', async () => {
    const r = await useBackend('memory');
    await api._test.service.reconnect();
    await (await api.getRegistry()).storeMany([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    await api._test.statusBar.refreshCount();
    assert.match(api._test.statusBar.text, /Memory · 2 keys/);
    assert.ok(r);
  });

  describe('PostgreSQL', () => {
    let pg: TestPostgres | undefined;

    before(async function () {
      this.timeout(60_000);
      pg = await startTestPostgres();
      console.log(`      using ${pg.label}`);
    });

    after(async () => {
      await setSettings({ backend: 'memory', 'postgres.url': undefined, 'postgres.table': undefined });
      await api._test.passwords.delete('postgres', pg?.url ?? 'postgres://x@y/z');
      await pg?.close();
    });

    it('connects from settings, shows shared keys and follows changes from another client', async function () {
      this.timeout(60_000);
      const url = new URL(pg!.url);
      const password = url.password || undefined;
      url.password = '';
      // The password (if the server needs one) goes through the Connect command into secret storage.
      const connected = await vscode.commands.executeCommand('nautilusRegistry.connectPostgres', {
        url: url.toString(),
        password,
        table: 'nautilus_ext_test',
      });
      assert.equal(connected, true);
      const r = await api.getRegistry();
      assert.equal(r.describe().backend, 'postgres');
      assert.equal(api._test.service.status.state, 'connected');
      await r.store('shared/one', '1');
      api._test.provider.refresh();
      assert.deepEqual(describeNodes(await children(api)), ['shared/']);
      // Another client writes straight into the table: the view follows by itself (a server notifies;
      // on PGlite the registry polls the table).
      await pg!.sql(`INSERT INTO public.nautilus_ext_test (key, value) VALUES ('outside/key', 'x')`);
      await waitFor('the outside key in the view', async () => describeNodes(await children(api)).includes('outside/'), 15_000);
      const settingsText = JSON.stringify(vscode.workspace.getConfiguration('nautilusRegistry'));
      if (password) {
        assert.ok(!settingsText.includes(password));
        assert.ok(!api._test.logLines().some((l) => l.includes(password)));
      }
    });

    it('a server that goes away shows one Reconnect node (not an error per folder), and Reconnect brings the keys back', async function () {
      this.timeout(60_000);
      const relay = await startTcpRelay(pg!.url);
      try {
        assert.equal(
          await vscode.commands.executeCommand('nautilusRegistry.connectPostgres', { url: relay.url, table: 'nautilus_ext_outage', target: 'workspace' }),
          true,
        );
        const r = await api.getRegistry();
        await r.store('outage/k', 'v');
        api._test.provider.refresh();
        assert.deepEqual(describeNodes(await children(api)), ['outage/']);
        await relay.down();
        api._test.provider.refresh();
        const nodes = await waitFor(
          'the lost-connection node',
          async () => {
            const n = await children(api);
            return n.length === 1 && n[0].kind === 'error' ? n : undefined;
          },
          20_000,
        );
        assert.equal(api._test.service.status.state, 'lost');
        const item = api._test.provider.getTreeItem(nodes![0] as never);
        assert.equal(item.command?.command, 'nautilusRegistry.reconnect');
        assert.match(api._test.statusBar.text, /disconnected/);
        await relay.up();
        assert.equal(await vscode.commands.executeCommand('nautilusRegistry.reconnect'), 'connected');
        assert.deepEqual(describeNodes(await children(api)), ['outage/']);
      } finally {
        await relay.close();
      }
    });

    it('a wrong server fails clearly: failed state, not-connected welcome, no toast storm', async function () {
      this.timeout(30_000);
      await setSettings({ 'postgres.url': 'postgres://nobody@127.0.0.1:9/none', connectTimeoutMs: 1000, backend: 'postgres' });
      await assert.rejects(api.getRegistry());
      await waitFor('failed', () => api._test.service.status.state === 'failed');
      assert.deepEqual(await children(api), [], 'an empty tree shows the not-connected welcome view');
      assert.match(api._test.view.message ?? '', /Could not open the postgres registry/);
      await setSettings({ connectTimeoutMs: undefined });
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
      await setSettings({ backend: 'memory', 'redis.url': undefined, 'redis.keyPrefix': undefined });
    });

    it('connects from settings under a fresh key prefix', async function () {
      this.timeout(30_000);
      const prefix = `nautilus-ext-test:${Date.now()}:`;
      assert.equal(await vscode.commands.executeCommand('nautilusRegistry.connectRedis', { url, keyPrefix: prefix }), true);
      const r = await api.getRegistry();
      assert.equal(r.describe().backend, 'redis');
      await r.store('r/k', 'v');
      api._test.provider.refresh();
      assert.deepEqual(describeNodes(await children(api)), ['r/']);
      await r.removePrefix('');
    });
  });
});

describe('measurement: first tree children of a 100,000-key sqlite registry', () => {
  it('opening through the extension vs the floor (dist/registry.js opened and asked for children directly)', async function () {
    this.timeout(180_000);
    const api = await getApi();
    const r = await useBackend('sqlite');
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
    const rounds = 5;
    const ext_ms: number[] = [];
    const floor_ms: number[] = [];
    let extTop: string[] = [];
    let floorTop: string[] = [];
    const measureExtension = async (): Promise<void> => {
      // Close, reopen from settings, first children of the view; timed from the moment the
      // extension starts opening (the settings round trip is not counted).
      await setSettings({ backend: 'memory' });
      await api.getRegistry();
      await sleep(200);
      let t = 0;
      const sub = api._test.service.onDidChangeStatus((st) => {
        if (st.state === 'connecting' && t === 0) {
          t = performance.now();
        }
      });
      await setSettings({ backend: 'sqlite' });
      await api.getRegistry();
      extTop = describeNodes(await children(api));
      ext_ms.push(performance.now() - t);
      sub.dispose();
    };
    const measureFloor = async (): Promise<void> => {
      // The same file opened with the core bundle, children() called directly.
      await setSettings({ backend: 'memory' });
      await api.getRegistry();
      await sleep(200);
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
      `      first children of 100,050 keys: extension ${med(ext_ms).toFixed(0)} ms, floor ${med(floor_ms).toFixed(0)} ms, ratio ${(med(ext_ms) / med(floor_ms)).toFixed(2)} (median of ${rounds})`,
    );
    await setSettings({ backend: 'sqlite' });
    await (await api.getRegistry()).removePrefix('');
    await setSettings({ backend: 'memory' });
  });
});

describe('workspace trust (simulated in a trusted window)', () => {
  let api: NautilusRegistryApi;

  before(async () => {
    api = await getApi();
  });

  after(async () => {
    await api._test.service.setTrustOverride(undefined);
    await setSettings({ backend: 'memory', 'postgres.url': undefined });
  });

  it('uses only the local registry when the workspace is not trusted, and says so', async () => {
    await api._test.service.setTrustOverride(false);
    await setSettings({ backend: 'postgres', 'postgres.url': 'postgres://attacker@203.0.113.1:5432/x' });
    const r = await api.getRegistry();
    assert.equal(r.describe().backend, 'sqlite');
    assert.equal(api._test.service.status.requested, 'postgres');
    assert.equal(api._test.service.status.backend, 'sqlite');
    assert.ok(api._test.service.status.notes.some((n) => n.includes('Restricted Mode')));
    assert.match(api._test.view.message ?? '', /Restricted Mode/);
    assert.ok(!api._test.logLines().some((l) => l.includes('203.0.113.1') && l.includes('Opening')), 'never tried the server');
  });

  it('declares the connection settings as restricted and machine-overridable', () => {
    const pkg = vscode.extensions.getExtension('nautilus.nautilus-registry')!.packageJSON;
    const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const key of ['backend', 'postgres.url', 'postgres.schema', 'postgres.table', 'postgres.ssl', 'redis.url', 'redis.keyPrefix']) {
      assert.ok(restricted.includes(`nautilusRegistry.${key}`), `${key} is restricted`);
      assert.equal(pkg.contributes.configuration.properties[`nautilusRegistry.${key}`].scope, 'machine-overridable', `${key} scope`);
    }
  });
});
