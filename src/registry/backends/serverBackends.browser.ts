/**
 * The browser build's stand-in for the PostgreSQL and Redis backends (esbuild.mjs substitutes it
 * for postgres.ts and redis.ts in the web bundle): a browser cannot open a TCP connection, so they
 * fail with one clear UNSUPPORTED error instead of pulling pg and redis into the bundle.
 */
import { RegistryError } from '../errors';
import type { PostgresConfig, RedisConfig, RegistryStorage } from '../types';

export function serverBackendUnavailable(name: 'PostgreSQL' | 'Redis'): RegistryError {
  return new RegistryError(
    'UNSUPPORTED',
    `${name} needs a network connection that a browser cannot open: use VS Code Desktop or a Remote window (SSH, WSL, a dev container, Codespaces) to connect to it. In the browser the registry keeps its keys in SQLite or in memory.`,
  );
}

export async function openPostgresRegistry(_config: PostgresConfig): Promise<RegistryStorage> {
  throw serverBackendUnavailable('PostgreSQL');
}

export async function openRedisRegistry(_config: RedisConfig): Promise<RegistryStorage> {
  throw serverBackendUnavailable('Redis');
}
