import { RegistryError } from './errors';
import { childOf, compareKeys, prefixEnd, utf8Length } from './keys';
import type {
  ChildItem,
  ChildrenOptions,
  ChildrenPage,
  CommonConfig,
  Disposable,
  Entry,
  EntryInfo,
  ListOptions,
  ListPage,
  RegistryChange,
  RegistryDescription,
  RegistryLogger,
  RegistryStorage,
  RenameOptions,
  StoreOptions,
} from './types';
import {
  DEFAULT_MAX_VALUE_BYTES,
  validateAfter,
  validateEntries,
  validateKey,
  validateLimit,
  validatePrefix,
  validateSeparator,
  validateTtl,
  showKey,
  validateValue,
} from './validation';

const silentLogger: RegistryLogger = { info() {}, warn() {}, error() {} };

/** Stored data of one key as a backend returns it to the base class. */
export interface RawEntry {
  value: string;
  expiresAt?: number;
}

/**
 * Everything the contract requires that does not depend on where the data lives: argument
 * validation, the closed state, change events, paging, and `children` by skip-scan over an
 * ordered `scanKeys` primitive. A backend implements the `do*` primitives with arguments that are
 * already valid, and may override `list`/`children` where it can do better.
 */
export abstract class BaseRegistry implements RegistryStorage {
  protected readonly maxValueBytes: number;
  protected readonly logger: RegistryLogger;
  private readonly listeners = new Set<(change: RegistryChange) => void>();
  private closing: Promise<void> | undefined;

  constructor(config: CommonConfig) {
    this.maxValueBytes = config.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.logger = config.logger ?? silentLogger;
  }

  // ---- primitives ---------------------------------------------------------------------------
  protected abstract doStore(key: string, value: string, ttlMs: number | undefined): Promise<void>;
  protected abstract doRetrieveMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  protected abstract doInspect(key: string): Promise<RawEntry | undefined>;
  protected abstract doRemove(key: string): Promise<boolean>;
  protected abstract doContains(key: string): Promise<boolean>;
  /**
   * Up to `limit` live keys in order that start with `prefix` and sort at or after `from`
   * (strictly after when `inclusive` is false). `from` is never before `prefix`.
   */
  protected abstract scanKeys(from: string, inclusive: boolean, prefix: string, limit: number): Promise<string[]>;
  protected abstract doCount(prefix: string): Promise<number>;
  /** Entries are valid and distinct. All or nothing. */
  protected abstract doStoreMany(entries: readonly Entry[]): Promise<void>;
  protected abstract doRemovePrefix(prefix: string): Promise<number>;
  /** Throws NOT_FOUND / ALREADY_EXISTS. Keeps the expiry. */
  protected abstract doRename(from: string, to: string, overwrite: boolean): Promise<void>;
  /**
   * Checks every moved key with `movedKey` first (INVALID_KEY wins over a conflict), then throws
   * ALREADY_EXISTS when a target outside `from` exists and overwrite is false. All or nothing.
   */
  protected abstract doRenamePrefix(from: string, to: string, overwrite: boolean): Promise<number>;
  /** False when the key does not exist. */
  protected abstract doSetTtl(key: string, ttlMs: number | undefined): Promise<boolean>;
  protected abstract doClose(): Promise<void>;
  abstract describe(): RegistryDescription;

  // ---- state and events ---------------------------------------------------------------------
  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  protected checkOpen(): void {
    if (this.closing) {
      throw new RegistryError('CLOSED', `The ${this.describe().backend} registry is closed; open it again to use it.`);
    }
  }

  onDidChange(listener: (change: RegistryChange) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Delivers a change to every listener; a throwing listener is logged, never breaks the caller. */
  protected emit(change: RegistryChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.logger.error(`A change listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  protected get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.doClose().finally(() => this.listeners.clear());
    }
    return this.closing;
  }

  // ---- the contract -------------------------------------------------------------------------
  async store(key: string, value: string, options?: StoreOptions): Promise<void> {
    this.checkOpen();
    validateKey(key);
    validateValue(value, this.maxValueBytes, key);
    const ttl = validateTtl(options?.ttlMs, key);
    await this.doStore(key, value, ttl);
    this.emit({ kind: 'store', key, origin: 'local' });
  }

  async retrieve(key: string): Promise<string | undefined> {
    this.checkOpen();
    validateKey(key);
    return (await this.doRetrieveMany([key]))[0];
  }

  async retrieveMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    this.checkOpen();
    if (!Array.isArray(keys)) {
      throw new RegistryError('INVALID_KEY', 'retrieveMany expects an array of keys.');
    }
    keys.forEach((k, i) => validateKey(k, `Key ${i}`));
    if (keys.length === 0) {
      return [];
    }
    return this.doRetrieveMany(keys);
  }

  async inspect(key: string): Promise<EntryInfo | undefined> {
    this.checkOpen();
    validateKey(key);
    const raw = await this.doInspect(key);
    if (!raw) {
      return undefined;
    }
    const info: EntryInfo = { key, value: raw.value, bytes: utf8Length(raw.value) };
    if (raw.expiresAt !== undefined) {
      info.expiresAt = raw.expiresAt;
    }
    return info;
  }

  async remove(key: string): Promise<boolean> {
    this.checkOpen();
    validateKey(key);
    const existed = await this.doRemove(key);
    if (existed) {
      this.emit({ kind: 'remove', key, origin: 'local' });
    }
    return existed;
  }

  async contains(key: string): Promise<boolean> {
    this.checkOpen();
    validateKey(key);
    return this.doContains(key);
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    this.checkOpen();
    const prefix = options.prefix ?? '';
    validatePrefix(prefix);
    const after = validateAfter(options.after, 'list');
    const limit = validateLimit(options.limit, 'list');
    let from = prefix;
    let inclusive = true;
    if (after !== undefined && compareKeys(after, prefix) >= 0) {
      if (!after.startsWith(prefix)) {
        return { keys: [] }; // after sorts past every key with this prefix
      }
      from = after;
      inclusive = false;
    }
    const keys = await this.scanKeys(from, inclusive, prefix, limit + 1);
    if (keys.length > limit) {
      keys.length = limit;
      return { keys, next: keys[limit - 1] };
    }
    return { keys };
  }

  async children(prefix: string, separator: string, options: ChildrenOptions = {}): Promise<ChildrenPage> {
    this.checkOpen();
    validatePrefix(prefix);
    validateSeparator(separator);
    const after = validateAfter(options.after, 'children');
    const limit = validateLimit(options.limit, 'children');
    return this.childrenScan(prefix, separator, after, limit);
  }

  /**
   * Where a children page starts: at `prefix`, just after the key `after`, or past everything
   * inside the child folder that is or holds `after` (that folder sorts at or before `after`, so
   * it is not shown again). Undefined when `after` lies past every key under `prefix`.
   */
  protected childrenStart(prefix: string, separator: string, after: string | undefined): { from: string; inclusive: boolean } | undefined {
    if (after === undefined || compareKeys(after, prefix) < 0) {
      return { from: prefix, inclusive: true };
    }
    if (!after.startsWith(prefix)) {
      return undefined;
    }
    const at = childOf(prefix, separator, after);
    if (at.kind === 'folder') {
      const end = prefixEnd(at.key);
      return end === undefined ? undefined : { from: end, inclusive: true }; // skip everything inside the folder
    }
    return { from: after, inclusive: false };
  }

  /**
   * Skip-scan: read keys in small ordered batches; when a key opens a child folder, every later
   * key of that folder is skipped by seeking to the folder's end. A level with F folders and K
   * direct keys costs about F + K/batch seeks, whatever the folders hold.
   */
  protected async childrenScan(prefix: string, separator: string, after: string | undefined, limit: number): Promise<ChildrenPage> {
    const items: ChildItem[] = [];
    const start = this.childrenStart(prefix, separator, after);
    if (start === undefined) {
      return { items };
    }
    let { from, inclusive } = start;
    const want = limit + 1;
    // Adaptive batches: one key per seek while folders follow each other (exactly the seeks a
    // skip-scan needs), growing fourfold while a run of plain keys goes on.
    let batch = Math.min(want, 16);
    for (;;) {
      const keys = await this.scanKeys(from, inclusive, prefix, batch);
      if (keys.length === 0) {
        break;
      }
      let skipTo: string | undefined;
      let openFolder: string | undefined;
      for (const k of keys) {
        if (openFolder !== undefined && k.startsWith(openFolder)) {
          continue;
        }
        openFolder = undefined;
        const item = childOf(prefix, separator, k);
        items.push(item);
        if (items.length === want) {
          break;
        }
        if (item.kind === 'folder') {
          openFolder = item.key;
        }
      }
      if (items.length === want || keys.length < batch) {
        break;
      }
      if (openFolder !== undefined) {
        skipTo = prefixEnd(openFolder);
        if (skipTo === undefined) {
          break;
        }
        from = skipTo;
        inclusive = true;
        batch = 1;
      } else {
        from = keys[keys.length - 1];
        inclusive = false;
        batch = Math.min(want - items.length, Math.max(4, batch * 4), 256);
      }
    }
    if (items.length > limit) {
      items.length = limit;
      return { items, next: items[limit - 1].key };
    }
    return { items };
  }

  async count(prefix = ''): Promise<number> {
    this.checkOpen();
    validatePrefix(prefix);
    return this.doCount(prefix);
  }

  async storeMany(entries: readonly Entry[]): Promise<void> {
    this.checkOpen();
    const valid = validateEntries(entries, this.maxValueBytes);
    if (valid.length === 0) {
      return;
    }
    await this.doStoreMany(valid);
    for (const e of valid) {
      this.emit({ kind: 'store', key: e.key, origin: 'local' });
    }
  }

  async removePrefix(prefix: string): Promise<number> {
    this.checkOpen();
    validatePrefix(prefix);
    const n = await this.doRemovePrefix(prefix);
    if (n > 0) {
      this.emit(prefix === '' ? { kind: 'clear', origin: 'local' } : { kind: 'removePrefix', prefix, origin: 'local' });
    }
    return n;
  }

  async rename(from: string, to: string, options: RenameOptions = {}): Promise<void> {
    this.checkOpen();
    validateKey(from, 'Source key');
    validateKey(to, 'Target key');
    if (from === to) {
      if (!(await this.doContains(from))) {
        throw notFound(from);
      }
      return;
    }
    await this.doRename(from, to, options.overwrite === true);
    this.emit({ kind: 'rename', from, to, origin: 'local' });
  }

  async renamePrefix(from: string, to: string, options: RenameOptions = {}): Promise<number> {
    this.checkOpen();
    validateKey(from, 'Source prefix');
    validatePrefix(to, 'Target prefix');
    if (from === to) {
      return this.doCount(from);
    }
    const n = await this.doRenamePrefix(from, to, options.overwrite === true);
    if (n > 0) {
      this.emit({ kind: 'rename', from, to, prefix: from, origin: 'local' });
    }
    return n;
  }

  async setTtl(key: string, ttlMs: number | undefined): Promise<void> {
    this.checkOpen();
    validateKey(key);
    const ttl = validateTtl(ttlMs, key);
    if (!(await this.doSetTtl(key, ttl))) {
      throw notFound(key);
    }
    this.emit({ kind: 'store', key, origin: 'local' });
  }
}

export function notFound(key: string): RegistryError {
  return new RegistryError('NOT_FOUND', `Key ${showKey(key)} does not exist.`);
}

export function alreadyExists(key: string): RegistryError {
  return new RegistryError(
    'ALREADY_EXISTS',
    `Key ${showKey(key)} already exists; pass { overwrite: true } to replace it.`,
  );
}

/**
 * The key every key under `from` gets under `to`, checked against the key rules; throws
 * INVALID_KEY naming the first key that would become too long.
 */
export function movedKey(key: string, from: string, to: string): string {
  const moved = to + key.slice(from.length);
  validateKey(moved, `Moved key (from ${showKey(key, 40)})`);
  return moved;
}
