/**
 * Whether nobody holds a sqlite registry's lock right now: a registry opened read-only (another
 * window or tab had it) uses it to notice that the other one closed, and to reopen writable.
 */
import { RegistryError } from '../errors';
import type { SqliteConfig } from '../types';

/** Takes the lock without waiting and lets go of it at once: true when it was free. Loads nothing until called. */
export async function sqliteLockIsFree(config: Pick<SqliteConfig, 'file' | 'fileSystem'>): Promise<boolean> {
  const { LOCK_SUFFIX } = await import('./sqlite');
  const files = config.fileSystem ?? (await import('./sqliteNodeFiles')).nodeFileSystem();
  try {
    const lock = await files.lock(config.file + LOCK_SUFFIX, 0);
    await lock.release();
    return true;
  } catch (err) {
    if (RegistryError.is(err, 'LOCKED')) {
      return false;
    }
    throw err;
  }
}
