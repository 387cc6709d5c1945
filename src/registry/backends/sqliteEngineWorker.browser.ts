/**
 * The browser build's sqliteEngineWorker.ts (esbuild substitutes it in the web bundles): the engine
 * runs in a nested Web Worker, started from a `blob:` URL made of the engine script the caller hands
 * in (`engineWorkerScript`: dist/web/sqliteThread.js, read by the extension from its own folder;
 * VS Code's web worker extension host refuses workers from extension URLs but runs blob: ones).
 * Where there is no Worker, no blob: URL, no script, or the script does not start, the engine runs
 * on the caller's thread instead (sqliteProxy.ts says so in the log).
 */
import type { SqliteConfig } from '../types';
import { webEngineWorker } from './sqliteTransport';
import type { EngineWorker, WebWorkerLike } from './sqliteTransport';

interface BrowserGlobals {
  Worker?: new (url: string, options?: { name?: string }) => WebWorkerLike;
  Blob?: new (parts: string[], options: { type: string }) => unknown;
  URL?: { createObjectURL?(blob: unknown): string };
}

/** How long the first Web Worker may take to load its script and say so. */
const PROBE_MS = 15_000;

/** The script the blob: URL was made of, the URL, and whether a worker from it started. */
let made: { script: string; url: string; works: Promise<string | undefined> } | undefined;
/** The worker that proved the URL works, handed to the first registry that opens. */
let spare: EngineWorker | undefined;

function newWorker(url: string, onReady?: () => void): EngineWorker {
  const g = globalThis as BrowserGlobals;
  return webEngineWorker(new g.Worker!(url, { name: 'nautilus-sqlite-engine' }), onReady);
}

function probe(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let worker: EngineWorker;
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve(`the engine's Web Worker did not start within ${PROBE_MS / 1000} s`);
    }, PROBE_MS);
    try {
      worker = newWorker(url, () => {
        clearTimeout(timer);
        worker.removeAllListeners();
        spare = worker;
        resolve(undefined);
      });
    } catch (err) {
      clearTimeout(timer);
      resolve(`a Web Worker cannot be started from a blob: URL here (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    worker.on('error', (err) => {
      clearTimeout(timer);
      resolve(`the engine's Web Worker did not start (${err instanceof Error ? err.message : String(err)})`);
    });
  });
}

export async function engineWorkerUnavailable(config: SqliteConfig): Promise<string | undefined> {
  const script = config.engineWorkerScript;
  if (script === undefined) {
    return 'no engine script was given (engineWorkerScript)';
  }
  const g = globalThis as BrowserGlobals;
  if (typeof g.Worker !== 'function') {
    return 'this host has no Web Worker';
  }
  if (typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') {
    return 'this host cannot make blob: URLs';
  }
  if (made?.script !== script) {
    let url: string;
    try {
      url = g.URL.createObjectURL(new g.Blob([script], { type: 'text/javascript' }));
    } catch (err) {
      return `this host cannot make blob: URLs (${err instanceof Error ? err.message : String(err)})`;
    }
    // The URL stays valid for the life of this host: every registry that opens starts a worker from it.
    made = { script, url, works: probe(url) };
  }
  return made.works;
}

export function startEngineWorker(config: SqliteConfig, _limits?: unknown): EngineWorker {
  if (!made || made.script !== config.engineWorkerScript) {
    throw new Error('engineWorkerUnavailable() was not asked first');
  }
  const worker = spare;
  spare = undefined;
  return worker ?? newWorker(made.url);
}
