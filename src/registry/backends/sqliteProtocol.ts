/**
 * The message protocol between a registry proxy (on the thread that uses the registry) and the
 * sqlite engine (on its own thread). Plain data only (structured clone), no Node API: the same
 * messages work over a `worker_threads` port or a Web Worker's `postMessage`.
 *
 * One call of the contract is one message each way: a children page or a 200-key retrieveMany
 * crosses the boundary once; calls made in the same turn of the event loop (64 concurrent stores)
 * and the replies ready together travel as one `batch`. Change events travel before the reply of
 * the call that caused them, so listeners see them in the same order as with an in-thread registry.
 */
import { RegistryError } from '../errors';
import type { RegistryErrorCode } from '../errors';
import type { RegistryChange, RegistryDescription, SqliteConfig } from '../types';
import { markReplaceUnchanged, replaceLeftUnchanged } from './sqliteFiles';

/** The methods of RegistryStorage that are forwarded as calls. */
export const FORWARDED_METHODS = [
  'store',
  'retrieve',
  'retrieveMany',
  'remove',
  'contains',
  'inspect',
  'list',
  'children',
  'count',
  'storeMany',
  'removePrefix',
  'rename',
  'renamePrefix',
  'setTtl',
] as const;
export type ForwardedMethod = (typeof FORWARDED_METHODS)[number];

/** The sqlite config without what cannot cross a thread boundary (the logger, a file-system object). */
export type PortableSqliteConfig = Omit<SqliteConfig, 'logger' | 'fileSystem'>;

/** How the engine gets its lock: the proxy takes it (it outlives engine restarts) and says how it went. */
export type LockGrant = { held: true; holder: string } | { held: false; error: PortableError };

/** An error as data. */
export interface PortableError {
  /** Set for a RegistryError. */
  code?: RegistryErrorCode;
  name: string;
  message: string;
  /** A system error's code (ENOSPC, EIO, …): the engine reacts to some of them. */
  sysCode?: string;
  /** A failed `replace` that surely left the file as it was (markReplaceUnchanged). */
  unchanged?: boolean;
}

/** The file-system operations the engine may ask the proxy for, when the files are reached through the proxy's seam. */
export type RemoteFsOp =
  | { op: 'read'; path: string }
  | { op: 'openAppender'; path: string }
  | { op: 'append'; handle: number; data: Uint8Array }
  | { op: 'sync'; handle: number }
  | { op: 'closeAppender'; handle: number }
  | { op: 'replace'; path: string; data: Uint8Array }
  | { op: 'moveAside'; path: string; suffix: string }
  | { op: 'remove'; path: string };

export type ToEngine =
  | { t: 'batch'; msgs: ToEngine[] }
  | { t: 'open'; config: PortableSqliteConfig; lock: LockGrant; remoteFs: boolean }
  | { t: 'call'; id: number; m: ForwardedMethod; a: unknown[] }
  | { t: 'close'; id: number }
  | { t: 'fsReply'; id: number; ok: true; v: unknown }
  | { t: 'fsReply'; id: number; ok: false; err: PortableError };

export type FromEngine =
  | { t: 'batch'; msgs: FromEngine[] }
  | { t: 'opened'; d: RegistryDescription }
  | { t: 'openFailed'; err: PortableError }
  | { t: 'reply'; id: number; ok: true; v: unknown; d?: RegistryDescription }
  | { t: 'reply'; id: number; ok: false; err: PortableError; d?: RegistryDescription }
  | { t: 'event'; c: RegistryChange }
  | { t: 'desc'; d: RegistryDescription }
  | { t: 'log'; level: 'info' | 'warn' | 'error'; text: string }
  | { t: 'fs'; id: number; req: RemoteFsOp };

/** One end of a message channel: a worker_threads port, a Web Worker, or `self` inside one. */
export interface MessagePortLike<In, Out> {
  post(message: Out): void;
  onMessage(handler: (message: In) => void): void;
}

export function toPortable(err: unknown): PortableError {
  if (RegistryError.is(err)) {
    return { code: err.code, name: err.name, message: err.message };
  }
  if (err instanceof Error) {
    const sysCode = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message || err.name,
      ...(typeof sysCode === 'string' ? { sysCode } : {}),
      ...(replaceLeftUnchanged(err) ? { unchanged: true } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** A RegistryError for a RegistryError that crossed the boundary; a plain Error otherwise. */
export function fromPortable(p: PortableError): Error {
  if (p.code !== undefined) {
    return new RegistryError(p.code, p.message);
  }
  const err = new Error(p.message);
  err.name = p.name;
  if (p.sysCode !== undefined) {
    (err as { code?: string }).code = p.sysCode;
  }
  return p.unchanged ? markReplaceUnchanged(err) : err;
}

/**
 * Sends messages in batches: everything posted until `defer` runs its callback, or until
 * `flush()`, goes as one message (a single message goes as itself). Order is kept.
 */
export function batchingSender<M extends { t: string }>(
  post: (message: M | { t: 'batch'; msgs: M[] }) => void,
  defer: (fn: () => void) => void,
): { send(message: M): void; flush(): void } {
  let queue: M[] = [];
  const flush = () => {
    if (queue.length > 0) {
      const msgs = queue;
      queue = [];
      post(msgs.length === 1 ? msgs[0] : { t: 'batch', msgs });
    }
  };
  return {
    send(message) {
      queue.push(message);
      if (queue.length === 1) {
        defer(flush);
      }
    },
    flush,
  };
}
