/**
 * Entry of the sqlite engine's Web Worker in a browser (dist/web/sqliteThread.js, a classic script
 * built by esbuild.mjs; started from a blob: URL by sqliteEngineWorker.browser.ts). The engine has no
 * files of its own here: it reaches them through the proxy's seam (`remoteFs`), and gets the bytes of
 * sql-wasm.wasm in the open message (`wasmBinary`).
 */
import { openSqliteRegistry } from './sqlite';
import type { FromEngine, ToEngine } from './sqliteProtocol';
import { serveSqlite } from './sqliteServe';
import { WEB_ENGINE_READY } from './sqliteTransport';

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}
interface Channel {
  port1: { onmessage: (() => void) | null };
  port2: { postMessage(message: unknown): void };
}

const scope = globalThis as unknown as WorkerScope;

/** Runs a function after the messages already queued (Node's setImmediate): a MessageChannel, not a clamped timer. */
function deferrer(): ((fn: () => void) => void) | undefined {
  const C = (globalThis as unknown as { MessageChannel?: new () => Channel }).MessageChannel;
  if (typeof C !== 'function') {
    return undefined;
  }
  const channel = new C();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  return (fn) => {
    queue.push(fn);
    channel.port2.postMessage(0);
  };
}

serveSqlite(
  {
    post: (message: FromEngine) => scope.postMessage(message),
    onMessage: (handler: (message: ToEngine) => void) => scope.addEventListener('message', (event) => handler(event.data as ToEngine)),
  },
  { open: openSqliteRegistry, defer: deferrer() },
);
scope.postMessage(WEB_ENGINE_READY);
