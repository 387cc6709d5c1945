import { RegistryError } from '../errors';
import type { RedisConfig, RegistryStorage } from '../types';

// Placeholder until the backend lands.
export async function openRedisRegistry(config: RedisConfig): Promise<RegistryStorage> {
  void config;
  throw new RegistryError('UNSUPPORTED', 'The redis backend is not available yet.');
}
