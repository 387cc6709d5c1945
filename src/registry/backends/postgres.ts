import { RegistryError } from '../errors';
import type { PostgresConfig, RegistryStorage } from '../types';

// Placeholder until the backend lands.
export async function openPostgresRegistry(config: PostgresConfig): Promise<RegistryStorage> {
  void config;
  throw new RegistryError('UNSUPPORTED', 'The postgres backend is not available yet.');
}
