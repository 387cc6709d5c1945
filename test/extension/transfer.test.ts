/**
 * Copy and move across registries and backends: the workspace's sqlite, a memory connection and
 * PostgreSQL (PGlite unless NAUTILUS_TEST_POSTGRES_URL is set), through the commands and drag and
 * drop; conflicts; cancel halfway; a server that goes away halfway.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import type { TransferReport } from '../../src/extension/transfer/transfer';
import type { RegistryStorage } from '../../src/registry';
import { startTcpRelay, startTestPostgres } from '../support/postgres';
import type { TcpRelay, TestPostgres } from '../support/postgres';
import { childrenOf, describeNodes, freshRegistry, getApi, setConnections, waitFor } from './helpers';

const cmd = <T>(name: string, ...args: unknown[]): Thenable<T> => vscode.commands.executeCommand<T>(`nautilusRegistry.${name}`, ...args);

describe('copy and move between registries', function () {
  this.timeout(120_000);
  let api: NautilusRegistryApi;
  let pg: TestPostgres;
  let relay: TcpRelay;
  let ws: RegistryStorage;
  const table = `nautilus_ext_transfer_${Date.now().toString(36)}`;

  before(async () => {
    api = await getApi();
    pg = await startTestPostgres();
    relay = await startTcpRelay(pg.url);
    await setConnections([
      { name: 'scratch', backend: 'memory' },
      { name: 'pg', backend: 'postgres', url: pg.url, table },
      { name: 'pgrelay', backend: 'postgres', url: relay.url, table: `${table}_relay` },
    ]);
  });

  beforeEach(async () => {
    ws = await freshRegistry();
    for (const name of ['scratch', 'pg', 'pgrelay']) {
      await (await api.getRegistry(name)).removePrefix('');
    }
  });

  after(async () => {
    await setConnections(undefined);
    await relay.close();
    await pg.close();
    await freshRegistry();
  });

  it('Copy to Registry: a sqlite folder into PostgreSQL, TTLs carried over, the rows visible with SQL', async () => {
    await ws.storeMany([
      { key: 'team/api/url', value: 'https://example.test' },
      { key: 'team/api/timeout', value: '30' },
      { key: 'team/db/name', value: 'nautilus' },
      { key: 'other', value: 'stays home' },
    ]);
    await ws.store('team/session', 'short-lived', { ttlMs: 3_600_000 });
    const report = await cmd<TransferReport>('copyToRegistry', { registry: 'workspace', folders: ['team/'], to: 'pg' });
    assert.equal(report.copied, 4);
    assert.equal(report.total, 4);
    assert.deepEqual(report.skipped, []);
    const list = await pg.sql<{ key: string; value: string; expires_at: unknown }>(`SELECT key, value, expires_at FROM public."${table}" ORDER BY key`);
    assert.deepEqual(
      list.map((r) => [r.key, r.value]),
      [
        ['team/api/timeout', '30'],
        ['team/api/url', 'https://example.test'],
        ['team/db/name', 'nautilus'],
        ['team/session', 'short-lived'],
      ],
    );
    assert.ok(list.find((r) => r.key === 'team/session')!.expires_at !== null, 'the TTL carried over');
    assert.equal(await ws.count(), 5, 'a copy leaves the source as it was');
    api._test.provider.refresh();
    assert.deepEqual(describeNodes(await childrenOf(api, 'pg')), ['team/']);
  });

  it('conflicts: skip keeps what the target has, replace overwrites; the report says why each key was skipped', async () => {
    await ws.storeMany([
      { key: 'c/1', value: 'new' },
      { key: 'c/2', value: 'new' },
    ]);
    const mem = await api.getRegistry('scratch');
    await mem.store('c/1', 'old');
    let report = await cmd<TransferReport>('copyToRegistry', { folders: 'c/', to: 'scratch', conflict: 'skip' });
    assert.deepEqual([report.copied, report.skipped.length], [1, 1]);
    assert.equal(report.skipped[0].key, 'c/1');
    assert.match(report.skipped[0].reason, /exists in the target/);
    assert.equal(await mem.retrieve('c/1'), 'old');
    report = await cmd<TransferReport>('copyToRegistry', { keys: ['c/1'], to: 'scratch', conflict: 'replace' });
    assert.deepEqual([report.copied, report.replaced], [1, 1]);
    assert.equal(await mem.retrieve('c/1'), 'new');
    await assert.rejects(Promise.resolve(cmd('copyToRegistry', { keys: ['c/1'], to: 'scratch', conflict: 'ask' })), /replace" or "skip/);
    await assert.rejects(Promise.resolve(cmd('copyToRegistry', { keys: ['c/1'], to: 'nope' })), /no registry named "nope"/);
  });

  it('drag and drop across roots: PostgreSQL → memory → sqlite, moving; each key leaves the source once the target holds it', async () => {
    const p = await api.getRegistry('pg');
    await p.storeMany(Array.from({ length: 30 }, (_, i) => ({ key: `dnd/k${String(i).padStart(2, '0')}`, value: String(i) })));
    const dnd = api._test.dragAndDrop;
    let report = (await dnd.dropAcross([{ kind: 'folder', key: 'dnd/', registry: 'pg' }], 'scratch', 'inbox/', { move: true, policy: 'replace' }))!;
    assert.deepEqual([report.copied, report.removed], [30, 30]);
    assert.equal(await p.count(), 0);
    const mem = await api.getRegistry('scratch');
    assert.equal(await mem.count('inbox/dnd/'), 30);
    report = (await dnd.dropAcross([{ kind: 'key', key: 'inbox/dnd/k07', registry: 'scratch' }], 'workspace', '', { move: true, policy: 'replace' }))!;
    assert.equal(report.copied, 1);
    assert.equal(await ws.retrieve('k07'), '7');
    assert.equal(await mem.contains('inbox/dnd/k07'), false);
    api._test.provider.refresh();
    await waitFor('the views', async () => describeNodes(await childrenOf(api, 'scratch')).join() === 'inbox/');
  });

  it('cancel halfway (a token from code): the batches written stay, the rest is untouched, nothing is lost', async () => {
    await ws.storeMany(Array.from({ length: 5000 }, (_, i) => ({ key: `bulk/${String(i).padStart(5, '0')}`, value: `v${i}` })));
    const mem = await api.getRegistry('scratch');
    const cts = new vscode.CancellationTokenSource();
    const sub = mem.onDidChange(() => cts.cancel());
    try {
      const report = await cmd<TransferReport>('moveToRegistry', { folders: ['bulk/'], to: 'scratch', conflict: 'replace', token: cts.token });
      assert.equal(report.cancelled, true);
      assert.ok(report.copied > 0 && report.copied < 5000, `copied ${report.copied}`);
      assert.equal(report.removed, report.copied);
      assert.equal((await mem.count('bulk/')) + (await ws.count('bulk/')), 5000, 'every key is on exactly one side');
    } finally {
      sub.dispose();
      cts.dispose();
    }
  });

  it('a server that goes away halfway through a move: the report says where it stopped, both sides stay consistent', async () => {
    await ws.storeMany(Array.from({ length: 10_000 }, (_, i) => ({ key: `big/${String(i).padStart(5, '0')}`, value: `v${i}` })));
    const target = await api.getRegistry('pgrelay');
    let downed = false;
    const sub = target.onDidChange(() => {
      if (!downed) {
        downed = true;
        void relay.down();
      }
    });
    let report: TransferReport;
    try {
      report = await cmd<TransferReport>('moveToRegistry', { folders: ['big/'], to: 'pgrelay', conflict: 'replace' });
    } finally {
      sub.dispose();
      await relay.up();
    }
    assert.ok(report.failed, `the transfer stopped: ${JSON.stringify({ ...report, skipped: report.skipped.length })}`);
    assert.ok(report.copied > 0 && report.copied < 10_000);
    assert.equal(report.removed, report.copied, 'only what the target holds left the source');
    assert.equal(await ws.count('big/'), 10_000 - report.copied);
    assert.equal(await ws.contains(report.failed!.stoppedAt), true, 'the key where it stopped is still in the source');
    await api._test.service.get('pgrelay').reconnect();
    const again = await api.getRegistry('pgrelay');
    assert.equal(await again.count('big/'), report.copied, 'the target holds exactly what left the source');
  });
});
