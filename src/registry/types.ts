import type { RegistryErrorCode } from './errors';
import type { RegistryFileSystem } from './backends/sqliteFiles';

export interface StoreOptions {
  /** Time to live in milliseconds: a positive integer. Omitted: the key is permanent. */
  ttlMs?: number;
}

export interface Entry {
  key: string;
  value: string;
  ttlMs?: number;
}

export interface ListOptions {
  /** Only keys that start with this literal string. */
  prefix?: string;
  /**
   * Only keys strictly after this position in UTF-8 byte order (usually the `next` of the previous
   * page; any string, stored or not, except one with a lone surrogate or U+0000: INVALID_KEY).
   */
  after?: string;
  /** Page size, 1..10,000; default 1,000. */
  limit?: number;
}

export interface ListPage {
  keys: string[];
  /** The `after` of the next page; absent on the last page. */
  next?: string;
}

export interface ChildrenOptions {
  /**
   * Only items after this position (usually the `next` of the previous page); a position inside a
   * child folder goes on after that folder. The same strings as `ListOptions.after` are refused.
   */
  after?: string;
  /** Page size, 1..10,000; default 1,000. */
  limit?: number;
}

export interface ChildItem {
  kind: 'folder' | 'key';
  /** For a folder: its full prefix, ending in the separator. For a key: the full key. */
  key: string;
}

export interface ChildrenPage {
  items: ChildItem[];
  next?: string;
}

export interface RenameOptions {
  /** Replace an existing target instead of failing with ALREADY_EXISTS. */
  overwrite?: boolean;
}

/** What `inspect` tells about one key. */
export interface EntryInfo {
  key: string;
  value: string;
  /** Size of the value in bytes of UTF-8. */
  bytes: number;
  /** Epoch milliseconds when the key expires; absent for a permanent key. */
  expiresAt?: number;
}

export type ChangeKind = 'store' | 'remove' | 'removePrefix' | 'rename' | 'clear';

/**
 * One change to the registry.
 * - store / remove: `key`.
 * - removePrefix: `prefix` (every key under it is gone).
 * - rename: `from` and `to`; when a whole folder moved (`renamePrefix`), `prefix` is set too
 *   and `from`/`to` are prefixes.
 * - clear: anything may have changed (the registry was emptied, or a backend learned of changes
 *   too many or too coarse to name): re-read what you show.
 */
export interface RegistryChange {
  kind: ChangeKind;
  key?: string;
  prefix?: string;
  from?: string;
  to?: string;
  /** `local`: made through this RegistryStorage object. `external`: made by anyone else. */
  origin: 'local' | 'external';
}

export interface Disposable {
  dispose(): void;
}

export interface RegistryDescription {
  /** Backend name: memory, sqlite, postgres, redis. */
  backend: string;
  /** Where the data lives, for display: a file path, a redacted URL with schema/table, … Never a password. */
  location: string;
  /** True when this registry refuses writes (e.g. another process holds the file). */
  readOnly: boolean;
  /** Connection or health state for display. */
  state: 'open' | 'unavailable' | 'closed';
  /** Optional notes for the user, e.g. "TTL unsupported: column expires_at is missing". */
  notes?: string[];
}

/**
 * The one contract every backend implements.
 *
 * Durability and visibility of writes (store, storeMany, remove, removePrefix, rename,
 * renamePrefix, setTtl):
 * - A write's promise resolves only once the change is as durable as the backend makes it:
 *   sqlite, its journal record is synced (fdatasync) to the disk; postgres, its transaction
 *   committed. Such an acknowledged write survives a crash of the process or of the machine.
 *   redis: the server executed it; whether it survives a crash of the server is up to the
 *   server's persistence settings (appendonly, appendfsync). memory keeps nothing.
 * - A rejected write may or may not have been made; the error says why.
 * - Visibility on sqlite and memory: a write is applied in memory when the call is made, so every
 *   read through the same RegistryStorage object made after the call sees it, even before its
 *   promise resolves (read-your-own-writes for concurrent callers: `store(k, v)` then, without
 *   awaiting, `rename(k, …)` works, as it does on memory). Such a read returns a change that is
 *   not durable yet: a crash before the promise resolves loses the change although a read
 *   returned it. If the change cannot be saved, its promise rejects with UNAVAILABLE and the
 *   registry refuses every further call until it is opened again, so this process never serves
 *   the unsaved change again. Await the write before acting on its value outside the process.
 *   On postgres and redis a read sees a change once the server has it.
 * - onDidChange reports a local change only after its promise resolved (it is durable).
 */
export interface RegistryStorage {
  store(key: string, value: string, options?: StoreOptions): Promise<void>;
  retrieve(key: string): Promise<string | undefined>;
  retrieveMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** True when the key existed. */
  remove(key: string): Promise<boolean>;
  contains(key: string): Promise<boolean>;
  /** Value, size and expiry of one key, or undefined when it does not exist. */
  inspect(key: string): Promise<EntryInfo | undefined>;

  list(options?: ListOptions): Promise<ListPage>;
  children(prefix: string, separator: string, options?: ChildrenOptions): Promise<ChildrenPage>;
  count(prefix?: string): Promise<number>;

  /** All or nothing: one invalid entry stores none. */
  storeMany(entries: readonly Entry[]): Promise<void>;
  /** Removes every key that starts with `prefix` (all keys for ''); returns how many. */
  removePrefix(prefix: string): Promise<number>;
  rename(from: string, to: string, options?: RenameOptions): Promise<void>;
  /** Moves every key under `from` to the same key under `to`; all or nothing; returns how many. */
  renamePrefix(from: string, to: string, options?: RenameOptions): Promise<number>;
  /** Sets (ttlMs > 0) or clears (undefined) the expiry of an existing key. NOT_FOUND when it does not exist. */
  setTtl(key: string, ttlMs: number | undefined): Promise<void>;

  onDidChange(listener: (change: RegistryChange) => void): Disposable;
  describe(): RegistryDescription;
  close(): Promise<void>;
}

/** Receives the few things a backend has to tell that are not errors (fallbacks, recoveries). */
export interface RegistryLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface CommonConfig {
  /** Largest value accepted, in bytes of UTF-8. Default 16 MiB. */
  maxValueBytes?: number;
  logger?: RegistryLogger;
}

export interface MemoryConfig extends CommonConfig {
  backend: 'memory';
}

export interface SqliteConfig extends CommonConfig {
  backend: 'sqlite';
  /** Path of the SQLite database file. */
  file: string;
  /** Open read-only when another process holds the file, instead of failing with LOCKED. */
  readOnlyIfLocked?: boolean;
  /** How long to wait for another process to release the file before LOCKED (ms). Default 3000. */
  lockTimeoutMs?: number;
  /** Journal size that triggers compaction into the database file (bytes). Default 8 MiB; at most maxJournalBytes. */
  compactBytes?: number;
  /**
   * Hard limit of the journal (bytes), 4 KiB..1 GiB. Only reached while compaction keeps failing
   * (e.g. a full disk): changes that would grow the journal past it are refused with UNAVAILABLE,
   * reads go on. Default 1 GiB.
   */
  maxJournalBytes?: number;
  /** Where sql-wasm.wasm is; default: next to the running bundle, else from the sql.js package. */
  wasmPath?: string;
  /** The bytes of sql-wasm.wasm, instead of `wasmPath` (where there is no file system to read it from, e.g. a browser). */
  wasmBinary?: Uint8Array;
  /** The file-system seam; default: Node's fs. */
  fileSystem?: RegistryFileSystem;
  /**
   * Where the engine runs: `worker` (default) in a worker thread, so that loading, checking and
   * compacting a large database never blocks the caller's event loop; `inline` on the caller's thread.
   */
  thread?: 'worker' | 'inline';
  /**
   * Browser only: the source of the engine's Web Worker script (dist/web/sqliteThread.js), from
   * which the engine is started on a `blob:` URL, off the caller's thread. Without it, or where
   * Web Workers or blob: URLs are missing, the engine runs on the caller's thread (and the log says so).
   * Node ignores it (a worker_threads Worker runs dist/sqliteThread.js).
   */
  engineWorkerScript?: string;
  /**
   * Size limit of the database in MiB (default DEFAULT_MAX_DATABASE_MIB): a write that would grow
   * it past this fails with UNSUPPORTED, before anything is applied. sql.js holds the whole
   * database in memory, and a compaction briefly holds a second copy.
   */
  maxDatabaseMiB?: number;
}

export interface PostgresConfig extends CommonConfig {
  backend: 'postgres';
  /** postgres://user@host:port/db (a password here is accepted but never shown). */
  url: string;
  password?: string;
  schema?: string;
  table?: string;
  ssl?: boolean | { rejectUnauthorized?: boolean; ca?: string };
  /** Poll interval (ms) used when LISTEN/NOTIFY cannot be set up. Default 1000. */
  pollIntervalMs?: number;
  /** Connect timeout (ms). Default 5000. */
  connectTimeoutMs?: number;
}

export interface RedisConfig extends CommonConfig {
  backend: 'redis';
  /** redis://host:port[/db] */
  url: string;
  password?: string;
  /** Namespace of every key; default `nautilus:`. */
  keyPrefix?: string;
  db?: number;
  /** Connect timeout (ms). Default 5000. */
  connectTimeoutMs?: number;
  /**
   * Only when the server has no keyspace notifications: how often to look for keys written under
   * the prefix by non-Nautilus clients (ms, SCAN); 0 = only on open and after a reconnect. Default 10000.
   */
  rescanIntervalMs?: number;
}

export type RegistryConfig = MemoryConfig | SqliteConfig | PostgresConfig | RedisConfig;
export type BackendName = RegistryConfig['backend'];

export type { RegistryErrorCode };
