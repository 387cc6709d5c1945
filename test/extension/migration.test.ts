/** The old single-backend settings move into connections next to the workspace registry; nothing is lost. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { config, getApi, setConnections, setSettings, waitFor } from './helpers';

interface Entry {
  name: string;
  backend: string;
  [k: string]: unknown;
}

const connections = (): Entry[] => (config().inspect<Entry[]>('connections')?.workspaceValue ?? []) as Entry[];

describe('migration of the old backend settings', () => {
  after(async () => {
    await setSettings({ backend: undefined, 'postgres.url': undefined, 'postgres.table': undefined, 'postgres.ssl': undefined, 'redis.url': undefined, 'redis.keyPrefix': undefined });
    await setConnections(undefined);
  });

  it('a PostgreSQL backend becomes a connection with the same URL, table and SSL, and its saved password', async () => {
    const api = await getApi();
    const url = 'postgres://mig@127.0.0.1:9/olddb';
    await api._test.passwords.set('postgres', url, 'pw-migrated');
    await setSettings({ connectTimeoutMs: 500, 'postgres.url': url, 'postgres.table': 'old_table', 'postgres.ssl': true });
    await setSettings({ backend: 'postgres' });
    await waitFor('the migrated connection', () => connections().some((c) => c.name === 'PostgreSQL'));
    await waitFor('backend removed', () => config().inspect('backend')?.workspaceValue === undefined);
    const c = connections().find((x) => x.name === 'PostgreSQL')!;
    assert.deepEqual(c, { name: 'PostgreSQL', backend: 'postgres', url, schema: 'public', table: 'old_table', ssl: true });
    assert.equal(await api._test.passwords.getConnection('PostgreSQL'), 'pw-migrated');
    assert.equal(config().get('postgres.url'), url, 'the old settings stay as they were');
    await waitFor('the root', () => api.registryNames.includes('PostgreSQL'));
    assert.equal(api._test.service.workspace.status.backend, 'sqlite', 'the workspace registry stays the local one');
    assert.ok(api._test.service.migrated.some((m) => m.includes('"PostgreSQL"')));
    await api._test.passwords.delete('postgres', url);
    await setSettings({ connectTimeoutMs: undefined });
  });

  it('Redis (with its key prefix) and memory too; a second PostgreSQL gets a name of its own; sqlite just goes', async () => {
    await setSettings({ 'redis.url': 'redis://127.0.0.1:9', 'redis.keyPrefix': 'old:' });
    await setSettings({ backend: 'redis' });
    await waitFor('Redis', () => connections().some((c) => c.name === 'Redis'));
    assert.deepEqual(
      connections().find((c) => c.name === 'Redis'),
      { name: 'Redis', backend: 'redis', url: 'redis://127.0.0.1:9', keyPrefix: 'old:' },
    );
    await waitFor('backend removed', () => config().inspect('backend')?.workspaceValue === undefined);
    await setSettings({ backend: 'memory' });
    await waitFor('Memory', () => connections().some((c) => c.name === 'Memory'));
    await waitFor('backend removed', () => config().inspect('backend')?.workspaceValue === undefined);
    await setSettings({ backend: 'postgres' });
    await waitFor('PostgreSQL-2', () => connections().some((c) => c.name === 'PostgreSQL-2'));
    await waitFor('backend removed', () => config().inspect('backend')?.workspaceValue === undefined);
    const before = JSON.stringify(connections());
    await setSettings({ backend: 'sqlite' });
    await waitFor('backend removed', () => config().inspect('backend')?.workspaceValue === undefined);
    assert.equal(JSON.stringify(connections()), before, 'sqlite adds nothing: the workspace registry is always there');
    assert.deepEqual(
      connections().map((c) => c.name),
      ['PostgreSQL', 'Redis', 'Memory', 'PostgreSQL-2'],
    );
    assert.ok(vscode.workspace.getConfiguration('nautilusRegistry').get('redis.keyPrefix') === 'old:');
  });
});
