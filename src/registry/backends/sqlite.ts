import { RegistryError } from '../errors';
import type { SqliteConfig, RegistryStorage } from '../types';

// Placeholder until the backend lands.
export async function openSqliteRegistry(config: SqliteConfig): Promise<RegistryStorage> {
  void config;
  throw new RegistryError('UNSUPPORTED', 'The sqlite backend is not available yet.');
}
