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
import type { ChildItem, ChildrenPage, RegistryChange, RegistryDescription, SqliteConfig } from '../types';
import type { ChildrenWithValues } from '../withValues';
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

/** Calls the engine answers itself: a page with its keys' values (withValues.ts), one message each way. */
export const CHILDREN_WITH_VALUES_CALL = 'childrenWithValues';
export const LIST_WITH_VALUES_CALL = 'listWithValues';
/** What a call message may name. */
export type CallMethod = ForwardedMethod | typeof CHILDREN_WITH_VALUES_CALL | typeof LIST_WITH_VALUES_CALL;

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
  | { t: 'call'; id: number; m: CallMethod; a: unknown[] }
  | { t: 'close'; id: number }
  | { t: 'fsReply'; id: number; ok: true; v: unknown }
  | { t: 'fsReply'; id: number; ok: false; err: PortableError };

export type FromEngine =
  | { t: 'batch'; msgs: FromEngine[] }
  | { t: 'opened'; d: RegistryDescription }
  | { t: 'openFailed'; err: PortableError }
  | { t: 'reply'; id: number; ok: true; v: unknown; d?: RegistryDescription; packed?: Packing }
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

/** A call waiting for its reply. */
export interface Waiting {
  resolve(v: unknown): void;
  reject(err: unknown): void;
}

/** A reply as it settles a waiting call: a call's reply or a file operation's (fsReply). */
export type SettlingReply =
  | { id: number; ok: true; v: unknown; packed?: Packing }
  | { id: number; ok: false; err: PortableError };

/** Settles (and forgets) the call `reply` answers, with its unpacked value or its error; false when none waited. */
export function settleReply(waiting: Map<number, Waiting>, reply: SettlingReply): boolean {
  const w = waiting.get(reply.id);
  if (!w) {
    return false;
  }
  waiting.delete(reply.id);
  if (!reply.ok) {
    w.reject(fromPortable(reply.err));
  } else if (reply.packed === 'children') {
    w.resolve(unpackChildren(reply.v as PackedChildrenPage));
  } else if (reply.packed === 'childrenWithValues') {
    const { page, values } = reply.v as { page: PackedChildrenPage; values: (string | undefined)[] };
    w.resolve({ page: unpackChildren(page), values } satisfies ChildrenWithValues);
  } else {
    w.resolve(reply.v);
  }
  return true;
}

/**
 * A children page as it crosses the boundary: its keys in one string, each after a kind letter
 * (f: folder, k: key) and separated by U+0000, which no key holds. A structured clone of one
 * string costs a small fraction of a clone of a hundred `{ kind, key }` objects, which dominated
 * the hop of a children page (bench/worker.mjs).
 */
export interface PackedChildrenPage {
  s: string;
  n: number;
  next?: string;
}

/** How a reply's value travels when it is not as it is. */
export type Packing = 'children' | 'childrenWithValues';

/** The reply's value and how it is packed: a children page packed (also with its values), anything else as it is. */
export function packReplyValue(m: CallMethod, v: unknown): { v: unknown; packed?: Packing } {
  if (m === CHILDREN_WITH_VALUES_CALL) {
    const { page, values } = v as ChildrenWithValues;
    const packed = packChildren(page);
    return packed ? { v: { page: packed, values }, packed: 'childrenWithValues' } : { v };
  }
  if (m !== 'children') {
    return { v };
  }
  const packed = packChildren(v as ChildrenPage);
  return packed ? { v: packed, packed: 'children' } : { v };
}

/** A children page as one string; undefined for a page that holds a key with U+0000. */
function packChildren(page: ChildrenPage): PackedChildrenPage | undefined {
  const parts: string[] = new Array<string>(page.items.length);
  for (let i = 0; i < page.items.length; i++) {
    const { kind, key } = page.items[i];
    if (key.includes('\0')) {
      return undefined; // not a valid key, but a file written elsewhere may hold one: sent as it is
    }
    parts[i] = (kind === 'folder' ? 'f' : 'k') + key;
  }
  const packed: PackedChildrenPage = { s: parts.join('\0'), n: parts.length };
  if (page.next !== undefined) {
    packed.next = page.next;
  }
  return packed;
}

function unpackChildren(p: PackedChildrenPage): ChildrenPage {
  const parts = p.n === 0 ? [] : p.s.split('\0');
  const items: ChildItem[] = new Array<ChildItem>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    items[i] = { kind: parts[i].charCodeAt(0) === 102 /* f */ ? 'folder' : 'key', key: parts[i].slice(1) };
  }
  const page: ChildrenPage = { items };
  if (p.next !== undefined) {
    page.next = p.next;
  }
  return page;
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
