/**
 * The channel between the sqlite proxy (sqliteProxy.ts) and its engine, whatever carries it: a
 * `worker_threads` Worker on Node, a Web Worker in a browser. The proxy talks to it as to Node's
 * Worker (the subset below); `webEngineWorker` gives a Web Worker that shape. No Node API here.
 */
import { isHandedOver } from './sqliteFiles';
import type { FromEngine, ToEngine } from './sqliteProtocol';

/** What the proxy uses of a worker (Node's Worker has it as it is). */
export interface EngineWorker {
  postMessage(message: ToEngine): void;
  on(event: 'message', listener: (message: FromEngine) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  /** The worker is gone (it died or was terminated); after it, nothing more arrives. */
  on(event: 'exit', listener: (code: number) => void): unknown;
  removeAllListeners(): unknown;
  /** Node: whether the worker keeps the process alive. No-ops in a browser. */
  ref(): void;
  unref(): void;
  terminate(): Promise<unknown>;
}

/** The first message of the web engine script (sqliteThread.web.ts): it loaded and listens. Not part of the protocol. */
export const WEB_ENGINE_READY = 'nautilus-sqlite-engine-ready';

/** Smaller replies are copied: moving a buffer costs about as much as copying a small one. */
const TRANSFER_MIN_BYTES = 256 * 1024;

/** The part of a browser's Worker used here. */
export interface WebWorkerLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string; preventDefault?(): void }) => void) | null;
  onmessageerror: ((event: unknown) => void) | null;
}

/**
 * A Web Worker as an EngineWorker. A Web Worker has no 'exit' event: an uncaught error in it or a
 * message that cannot be read counts as its death (it is terminated, 'error' then 'exit' fire), and
 * terminate() fires 'exit' as Node's does.
 */
export function webEngineWorker(worker: WebWorkerLike, onReady?: () => void): EngineWorker & { readonly kind: 'web' } {
  const listeners = { message: new Set<(m: FromEngine) => void>(), error: new Set<(e: unknown) => void>(), exit: new Set<(c: number) => void>() };
  let dead = false;
  const die = (code: number, err?: unknown): void => {
    if (dead) {
      return;
    }
    dead = true;
    worker.terminate();
    if (err !== undefined) {
      [...listeners.error].forEach((l) => l(err));
    }
    [...listeners.exit].forEach((l) => l(code));
  };
  worker.onmessage = (event) => {
    if (event.data === WEB_ENGINE_READY) {
      onReady?.();
      return;
    }
    if (!dead) {
      [...listeners.message].forEach((l) => l(event.data as FromEngine));
    }
  };
  worker.onerror = (event) => {
    event.preventDefault?.();
    die(1, new Error(`the engine's Web Worker failed: ${event.message || 'an uncaught error (or its script could not be loaded)'}`));
  };
  worker.onmessageerror = () => die(1, new Error('a message from the engine could not be read (messageerror)'));
  return {
    kind: 'web',
    postMessage: (message) => {
      // A large file image the seam let go of moves to the engine instead of being copied (a copy
      // of 20 MB took 0.2-0.5 s of the extension host's thread in code-server).
      if (message.t === 'fsReply' && message.ok && isHandedOver(message.v) && message.v.byteLength >= TRANSFER_MIN_BYTES) {
        worker.postMessage(message, [message.v.buffer]);
      } else {
        worker.postMessage(message);
      }
    },
    on(event: 'message' | 'error' | 'exit', listener: (arg: never) => void) {
      (listeners[event] as Set<unknown>).add(listener);
      return this;
    },
    removeAllListeners() {
      listeners.message.clear();
      listeners.error.clear();
      listeners.exit.clear();
      return this;
    },
    ref() {},
    unref() {},
    async terminate() {
      // Like Node's: 'exit' fires before the promise settles.
      die(1);
      return 1;
    },
  };
}
