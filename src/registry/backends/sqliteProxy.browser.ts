/**
 * The browser build's stand-in for sqliteProxy.ts (esbuild substitutes it in the web bundle):
 * there are no worker_threads in a browser, so the engine runs on the caller's thread. In VS Code
 * for the Web that thread is the web worker extension host, never the window's UI thread.
 */
import type { RegistryStorage, SqliteConfig } from '../types';
import { openSqliteRegistry } from './sqlite';

export async function openSqliteWorkerRegistry(config: SqliteConfig): Promise<RegistryStorage> {
  return openSqliteRegistry({ ...config, thread: 'inline' });
}
