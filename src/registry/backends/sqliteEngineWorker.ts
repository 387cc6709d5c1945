/**
 * Starts the sqlite engine's worker on Node: a `worker_threads` Worker running sqliteThread.js.
 * The browser build has sqliteEngineWorker.browser.ts in its place (a Web Worker from a blob: URL).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';
import type { SqliteConfig } from '../types';
import type { EngineWorker } from './sqliteTransport';

/** Where the worker script is: next to this module (dist/ after esbuild, out/… after tsc). */
export function sqliteWorkerScript(): string {
  return path.join(__dirname, 'sqliteThread.js');
}

/** Why the engine cannot run in a worker here (then it runs on the caller's thread); undefined: it can. Always can on Node. */
export async function engineWorkerUnavailable(_config: SqliteConfig): Promise<string | undefined> {
  return undefined;
}

/** `limits`: V8 heap limits, set only by a test (setWorkerLimitsForTests in sqliteProxy.ts). */
export function startEngineWorker(_config: SqliteConfig, limits?: ResourceLimits): EngineWorker {
  return new Worker(sqliteWorkerScript(), { execArgv: [], ...(limits ? { resourceLimits: limits } : {}) });
}
