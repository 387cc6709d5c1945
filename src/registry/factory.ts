import { MemoryRegistry } from './backends/memory';
import type { RegistryConfig, RegistryStorage } from './types';
import { validateCommonConfig } from './validation';

/**
 * Opens a registry on the backend the config names. Server backends are loaded only when asked
 * for, so that a sqlite or memory registry never pays for the pg and redis clients.
 * A new backend is one new file under backends/ plus one case here.
 */
export async function openRegistry(config: RegistryConfig): Promise<RegistryStorage> {
  validateCommonConfig(config);
  switch (config.backend) {
    case 'memory':
      return new MemoryRegistry(config);
    case 'sqlite':
      return config.thread === 'inline'
        ? (await import('./backends/sqlite')).openSqliteRegistry(config)
        : (await import('./backends/sqliteProxy')).openSqliteWorkerRegistry(config);
    case 'postgres':
      return (await import('./backends/postgres')).openPostgresRegistry(config);
    case 'redis':
      return (await import('./backends/redis')).openRedisRegistry(config);
  }
}
