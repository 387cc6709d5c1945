import { openRegistry } from '../../src/registry';
import type { PostgresConfig, RegistryStorage } from '../../src/registry/types';
import { freshTableName, sharedTestPostgres } from '../support/postgres';
import type { TestPostgres } from '../support/postgres';
import { describeConformance } from './suite';

// Each open() gets its own table in the run's database (created by the backend itself);
// cleanup drops the test's tables. openPeer opens a second registry on the same table.
let pg: TestPostgres | undefined;
const configs = new Map<RegistryStorage, PostgresConfig>();
let tables: string[] = [];

async function server(): Promise<TestPostgres> {
  pg ??= await sharedTestPostgres();
  return pg;
}

describeConformance('postgres', {
  async open(options) {
    const s = await server();
    const table = freshTableName('conf');
    tables.push(table);
    const config: PostgresConfig = { backend: 'postgres', url: s.url, table, pollIntervalMs: 500, ...options };
    const r = await openRegistry(config);
    configs.set(r, config);
    return r;
  },
  async openPeer(registry) {
    const config = configs.get(registry);
    if (!config) {
      throw new Error('openPeer: not a registry of this harness');
    }
    const peer = await openRegistry({ ...config });
    configs.set(peer, config);
    return peer;
  },
  async cleanup() {
    configs.clear();
    const s = await server();
    for (const t of tables.splice(0)) {
      await s.sql(`DROP TABLE IF EXISTS public."${t}"`);
    }
    tables = [];
  },
});
