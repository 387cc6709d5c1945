/**
 * The sqlite backend: a real SQLite database file, worked on in memory with sql.js (WASM).
 *
 * - The working copy is an in-memory sql.js database. Every change is also appended as one framed,
 *   checksummed record to the journal `<file>.nautilus-log`, and a call resolves only once its
 *   record is synced (fdatasync). Concurrent writers share one append and one sync (group commit),
 *   so the cost of a durable write does not depend on the size of the registry.
 * - When the journal passes `compactBytes` (and on close), the database is exported and atomically
 *   written over `<file>` (temp, fsync, rename, fsync folder); the snapshot records the last journal
 *   sequence number it holds, and the journal is then cut down to the records after it. Writers go
 *   on during the write; they only wait for the export and for the short journal swap.
 * - On open, the journal's records after the snapshot's sequence number are replayed; the last
 *   append, torn by a crash anywhere inside it (never acknowledged), is dropped. Damage followed by
 *   an intact append gets CORRUPT and the files stay in place (they hold acknowledged changes).
 * - Journal (header) and snapshot (nautilus_meta `format`) carry a format version: a newer one gets
 *   UNSUPPORTED and nothing is touched. Format-1 journals (0.1.0) are read and rewritten.
 * - `<file>.nautilus-lock` keeps a second process (or a second open here) out: it gets LOCKED, or a
 *   read-only registry with `readOnlyIfLocked` (protocol in sqliteLock.ts). Side files are never
 *   named -journal, -wal or -shm, which SQLite itself would read.
 * - A database that cannot be read is never overwritten: it is moved aside and CORRUPT says where.
 * - If the files cannot be written at open (a full disk), the registry opens read-only and says why.
 * - If the journal cannot be written, the failing calls reject with UNAVAILABLE and the registry
 *   refuses every further call (its memory may hold a change that is not on disk) until reopened.
 *   A journal swap that fails after its rename is redone before anything is appended again.
 * - When compaction keeps failing, it is retried every compactBytes; the journal never passes
 *   maxJournalBytes: changes that would grow it further are refused with UNAVAILABLE.
 * - Reads see a change as soon as its call is made, before it is durable (see RegistryStorage).
 * - After a clean close (no journal) the integrity check runs after open: reads need not wait for
 *   it; the first append, compaction or close does (SqliteRegistry.verify).
 * - A change that would grow the database past maxDatabaseMiB is refused whole with UNSUPPORTED.
 * - openRegistry runs this engine in a worker thread (sqliteProxy.ts) unless `thread: 'inline'`.
 *
 * Every file access goes through the RegistryFileSystem seam (sqliteFiles.ts).
 */
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import { alreadyExists, BaseRegistry, movedKey, notFound } from '../base';
import type { RawEntry } from '../base';
import { describeCause, RegistryError } from '../errors';
import { prefixEnd } from '../keys';
import type { Entry, RegistryDescription, RegistryStorage, SqliteConfig } from '../types';
import { configField } from '../validation';
import { isHandedOver, replaceLeftUnchanged } from './sqliteFiles';
import type { FileAppender, FileLock, RegistryFileSystem } from './sqliteFiles';
import {
  decodeOps,
  encodeHeader,
  encodeJournal,
  encodePayload,
  frameBatch,
  HEADER_BYTES,
  JOURNAL_FORMAT,
  JournalCorruption,
  JournalUnsupported,
  parseJournal,
  RECORD_HEADER_BYTES,
  recordBytes,
} from './sqliteJournal';
import type { JournalOp } from './sqliteJournal';
import { locateSqlWasm, nodeFileSystem, readSqlWasm } from './sqliteNodeFiles';

export const DEFAULT_COMPACT_BYTES = 8 * 1024 * 1024;
/** The journal never grows past this (when compaction keeps failing, changes are refused instead). */
export const DEFAULT_MAX_JOURNAL_BYTES = 1024 * 1024 * 1024;
/** The snapshot format this version writes and reads (nautilus_meta `format`; a file without it is format 1 too). */
export const SNAPSHOT_FORMAT = 1;
export const DEFAULT_LOCK_TIMEOUT_MS = 3000;
export const JOURNAL_SUFFIX = '.nautilus-log';
export const LOCK_SUFFIX = '.nautilus-lock';
/**
 * Size limit of the database (maxDatabaseMiB). sql.js keeps the whole file in memory, grows it in
 * steps of 1/8 (old and new copy side by side while it grows), and a compaction exports a second
 * copy: a registry of N MiB needs about 2-3 N MiB of memory at its peaks (measured: bench/run.mjs).
 */
export const DEFAULT_MAX_DATABASE_MIB = 1024;
export const MAX_DATABASE_MIB = 3072;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registry(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS registry_expires ON registry(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS nautilus_meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;
const LIVE = '(expires_at IS NULL OR expires_at > ?)';

// ---- the engine -----------------------------------------------------------------------------

const engines = new Map<string, Promise<SqlJsStatic>>();

/** sql.js, initialized once per process (per wasm file; `wasmBinary`: bytes given by the caller, e.g. in a browser). */
function loadEngine(wasmPath: string, wasmBinary?: Uint8Array): Promise<SqlJsStatic> {
  const key = wasmBinary ? 'wasmBinary' : wasmPath;
  let engine = engines.get(key);
  if (!engine) {
    engine = (async () => {
      const wasm = wasmBinary ?? (await readSqlWasm(wasmPath));
      try {
        return await initSqlJs({ wasmBinary: wasm as unknown as ArrayBuffer });
      } catch (err) {
        throw new RegistryError('UNAVAILABLE', `Cannot start the SQLite engine from ${wasmPath}: ${describeCause(err)}.`, { cause: err });
      }
    })();
    engines.set(key, engine);
    engine.catch(() => engines.delete(key));
  }
  return engine;
}

// ---- helpers --------------------------------------------------------------------------------

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{32}$/.test(hex)) {
    return undefined;
  }
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}

function newDbId(): Uint8Array {
  const id = new Uint8Array(16);
  globalThis.crypto.getRandomValues(id);
  return id;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function asText(v: SqlValue): string {
  return typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
}

function asExpiry(v: SqlValue): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** A file name suffix for files moved aside: `.corrupt-20261125T171502Z`. */
function asideSuffix(): string {
  return '.corrupt-' + new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** One journal record: its sequence number and encoded changes. */
interface Pending {
  seq: number;
  payload: Uint8Array;
}

/** Records that share one append and one sync: one batch frame in the journal. */
class Batch {
  readonly records: Pending[] = [];
  /** The size of its frame in the journal. */
  bytes = RECORD_HEADER_BYTES;
  private settle?: { resolve(): void; reject(err: unknown): void };
  private promise?: Promise<void>;

  add(seq: number, payload: Uint8Array): void {
    this.records.push({ seq, payload });
    this.bytes += recordBytes(payload);
  }
  get done(): Promise<void> {
    if (!this.promise) {
      this.promise = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    }
    return this.promise;
  }
  resolve(): void {
    void this.done;
    this.settle!.resolve();
  }
  reject(err: unknown): void {
    void this.done;
    this.settle!.reject(err);
  }
}

interface Statements {
  get: Statement;
  expiry: Statement;
  put: Statement;
  del: Statement;
  ttl: Statement;
  /** [exclusive, inclusive] x [no end, end] */
  scan: Statement[];
  count: Statement[];
  entries: Statement[];
  delRange: Statement;
  delFrom: Statement;
  purge: Statement;
  setMeta: Statement;
  /** PRAGMA page_count and freelist_count, prepared once: executing them as SQL text on every write cost about as much as the write's own upsert. */
  pageCount: Statement;
  freePages: Statement;
  pageSize: number;
}

/** What loading the files produced. */
interface Loaded {
  db: Database;
  dbId: Uint8Array;
  snapshotSeq: number;
  lastSeq: number;
  /** The snapshot on disk must be rewritten (new file, or its schema was upgraded). */
  needSnapshot: boolean;
}

// ---- the registry ---------------------------------------------------------------------------

class SqliteRegistry extends BaseRegistry {
  private st!: Statements;
  private pending = new Batch();
  private flushQueued = false;
  /** Journal operations (flushes, the swap after compaction) run one after another on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private compaction: Promise<void> | undefined;
  /** While a compaction writes its snapshot: the records appended since with a sequence number after `after`. */
  private capture: { after: number; records: Pending[] } | undefined;
  private compactAt: number;
  /** Why the last compaction failed (cleared by one that succeeds). */
  private compactionError: unknown;
  private lastForcedCompaction = 0;
  /** Bytes of the batch being appended right now. */
  private inFlightBytes = 0;
  private failure: RegistryError | undefined;
  private readonly maxDatabaseBytes: number;
  /** Set while the last write was refused for the size limit: a note for describe(). */
  private full: string | undefined;
  /** The deferred integrity check (set by checkLater), and its run: every write to the files waits for it. */
  private pendingCheck: (() => string | undefined) | undefined;
  private checked: Promise<void> | undefined;

  constructor(
    config: SqliteConfig,
    private readonly file: string,
    private readonly files: RegistryFileSystem,
    private readonly db: Database,
    private readonly dbId: Uint8Array,
    private snapshotSeq: number,
    private lastSeq: number,
    private journalBytes: number,
    private appender: FileAppender | undefined,
    private readonly lock: FileLock | undefined,
    /** Set when read-only: why (the LOCKED message, or why the files cannot be written). */
    private readonly readOnlyReason: string | undefined,
    /** The code of a refused write when read-only: LOCKED (another holder) or UNAVAILABLE (the files cannot be written). */
    private readonly readOnlyCode: 'LOCKED' | 'UNAVAILABLE',
    private readonly compactBytes: number,
    private readonly maxJournalBytes: number,
  ) {
    super(config);
    this.compactAt = compactBytes;
    this.maxDatabaseBytes = (config.maxDatabaseMiB ?? DEFAULT_MAX_DATABASE_MIB) * 2 ** 20;
    this.prepare();
  }

  get logPath(): string {
    return this.file + JOURNAL_SUFFIX;
  }

  describe(): RegistryDescription {
    const d: RegistryDescription = {
      backend: 'sqlite',
      location: this.file,
      readOnly: this.readOnlyReason !== undefined,
      state: this.isClosed ? 'closed' : this.failure ? 'unavailable' : 'open',
    };
    if (this.readOnlyReason !== undefined) {
      d.notes = [`Read-only: ${this.readOnlyReason}`];
    } else if (this.failure) {
      d.notes = [this.failure.message];
    } else if (this.full) {
      d.notes = [this.full];
    }
    return d;
  }

  protected override checkOpen(): void {
    super.checkOpen();
    if (this.failure) {
      throw this.failure;
    }
  }

  private writable(): void {
    if (this.readOnlyReason !== undefined) {
      throw new RegistryError(this.readOnlyCode, `This registry is open read-only, so it cannot be changed. ${this.readOnlyReason}`);
    }
  }

  // ---- statements ---------------------------------------------------------------------------

  /** Sets the connection up and prepares the statements (again after every export, which frees them). */
  private prepare(): void {
    const db = this.db;
    db.run('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -2000');
    const range = (inclusive: boolean, end: boolean) => `key ${inclusive ? '>=' : '>'} ?${end ? ' AND key < ?' : ''}`;
    const variants = (make: (inclusive: boolean, end: boolean) => string) =>
      [false, true].flatMap((end) => [false, true].map((inclusive) => db.prepare(make(inclusive, end))));
    this.st = {
      get: db.prepare('SELECT value, expires_at FROM registry WHERE key = ?'),
      expiry: db.prepare('SELECT expires_at FROM registry WHERE key = ?'),
      put: db.prepare(
        'INSERT INTO registry(key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
      ),
      del: db.prepare('DELETE FROM registry WHERE key = ?'),
      ttl: db.prepare('UPDATE registry SET expires_at = ? WHERE key = ?'),
      // index 0: exclusive, no end; 1: inclusive, no end; 2: exclusive, end; 3: inclusive, end
      // No LIMIT clause: the scan steps only as many rows as it needs and resets (a bound LIMIT ?
      // made every skip-scan seek about five times slower in sql.js).
      scan: variants((inc, end) => `SELECT key FROM registry WHERE ${range(inc, end)} AND ${LIVE} ORDER BY key`),
      count: [false, true].map((end) => db.prepare(`SELECT count(*) FROM registry WHERE ${range(true, end)} AND ${LIVE}`)),
      entries: [false, true].map((end) =>
        db.prepare(`SELECT key, value, expires_at FROM registry WHERE ${range(true, end)} AND ${LIVE} ORDER BY key`),
      ),
      delRange: db.prepare('DELETE FROM registry WHERE key >= ? AND key < ?'),
      delFrom: db.prepare('DELETE FROM registry WHERE key >= ?'),
      purge: db.prepare('DELETE FROM registry WHERE expires_at <= ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO nautilus_meta(name, value) VALUES (?, ?)'),
      pageCount: db.prepare('PRAGMA page_count'),
      freePages: db.prepare('PRAGMA freelist_count'),
      pageSize: Number(db.exec('PRAGMA page_size')[0]?.values[0]?.[0] ?? 0),
    };
  }

  private row(stmt: Statement, params: SqlValue[]): SqlValue[] | undefined {
    try {
      stmt.bind(params);
      return stmt.step() ? stmt.get() : undefined;
    } finally {
      stmt.reset();
    }
  }

  private run(stmt: Statement, params: SqlValue[]): void {
    try {
      stmt.bind(params);
      stmt.step();
    } finally {
      stmt.reset();
    }
  }

  private rows(stmt: Statement, params: SqlValue[]): SqlValue[][] {
    const out: SqlValue[][] = [];
    try {
      stmt.bind(params);
      while (stmt.step()) {
        out.push(stmt.get());
      }
    } finally {
      stmt.reset();
    }
    return out;
  }

  /** Runs a read against the engine, turning an engine failure into UNAVAILABLE. */
  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (RegistryError.is(err)) {
        throw err;
      }
      throw new RegistryError('UNAVAILABLE', `The sqlite registry ${this.file} failed to ${what}: ${describeCause(err)}.`, { cause: err });
    }
  }

  /** The live row of a key; an expired one is dropped on the way (no journal record needed: it is invisible either way). */
  private live(key: string, now = Date.now()): { value: string; expiresAt?: number } | undefined {
    const r = this.row(this.st.get, [key]);
    if (!r) {
      return undefined;
    }
    const expiresAt = asExpiry(r[1]);
    if (expiresAt !== undefined && expiresAt <= now) {
      if (this.readOnlyReason === undefined) {
        this.run(this.st.del, [key]);
      }
      return undefined;
    }
    return expiresAt === undefined ? { value: asText(r[0]) } : { value: asText(r[0]), expiresAt };
  }

  private isLive(key: string, now = Date.now()): boolean {
    const r = this.row(this.st.expiry, [key]);
    if (!r) {
      return false;
    }
    const expiresAt = asExpiry(r[0]);
    return expiresAt === undefined || expiresAt > now;
  }

  /** Applies changes to the in-memory database, all or nothing. Shared by live writes and replay. */
  private apply(ops: readonly JournalOp[]): void {
    const atomic = ops.length > 1;
    if (atomic) {
      this.db.run('BEGIN');
    }
    try {
      for (const op of ops) {
        switch (op[0]) {
          case 'p':
            this.run(this.st.put, [op[1], op[2], op[3]]);
            break;
          case 'd':
            this.run(this.st.del, [op[1]]);
            break;
          case 'r': {
            const end = prefixEnd(op[1]);
            this.run(end === undefined ? this.st.delFrom : this.st.delRange, end === undefined ? [op[1]] : [op[1], end]);
            break;
          }
          case 't':
            this.run(this.st.ttl, [op[2], op[1]]);
            break;
        }
      }
      if (atomic) {
        this.db.run('COMMIT');
      }
    } catch (err) {
      if (atomic) {
        try {
          this.db.run('ROLLBACK');
        } catch {
          // the error below says what went wrong
        }
      }
      throw err;
    }
  }

  /** Starts a compaction right away when the journal found on open is already large. */
  afterOpen(): void {
    this.maybeCompact();
  }

  /**
   * Defers the integrity check of the database: it runs before the first journal append,
   * compaction or close writes anything, or shortly after open when the registry is only read.
   */
  checkLater(check: () => string | undefined): void {
    this.pendingCheck = check;
    const timer = setTimeout(() => void this.verify(), 200);
    (timer as { unref?: () => void }).unref?.();
  }

  /** Runs the deferred integrity check once; a damaged database is moved aside and the registry stops with CORRUPT. */
  private verify(): Promise<void> {
    const check = this.pendingCheck;
    if (!check) {
      return this.checked ?? Promise.resolve();
    }
    this.pendingCheck = undefined;
    this.checked = (async () => {
      const problem = check();
      if (problem === undefined) {
        return;
      }
      let where = 'it could not be moved aside';
      try {
        const suffix = asideSuffix();
        const moved = await this.files.moveAside(this.file, suffix);
        const movedLog = await this.files.moveAside(this.logPath, suffix).catch(() => undefined);
        where = `It was moved to ${moved} and nothing was overwritten.${movedLog ? ` Its journal was moved along to ${movedLog}.` : ''}`;
      } catch (err) {
        where = `It could not be moved aside (${describeCause(err)}), and nothing was written to it.`;
      }
      this.failure ??= new RegistryError(
        'CORRUPT',
        `The registry database ${this.file} cannot be read: ${problem}. ${where} Changes made since it was opened were not saved.` +
          ' Opening the registry again starts an empty one; the moved file may be recoverable with SQLite tools.',
      );
      this.logger.error(this.failure.message);
    })();
    return this.checked;
  }

  // ---- durable writes -------------------------------------------------------------------------

  /**
   * Applies a change in memory and queues its journal record in the same synchronous step (so
   * memory and journal see changes in the same order); resolves once the record is synced.
   */
  private commit(ops: readonly JournalOp[]): Promise<void> {
    let payload: Uint8Array;
    try {
      payload = encodePayload(ops);
    } catch (err) {
      throw new RegistryError('UNAVAILABLE', `The sqlite registry ${this.file} could not make the change: ${describeCause(err)}.`, { cause: err });
    }
    this.checkRoom(payload);
    this.checkCeiling(ops, payload);
    try {
      this.apply(ops);
    } catch (err) {
      // Nothing was applied.
      throw new RegistryError('UNAVAILABLE', `The sqlite registry ${this.file} could not make the change: ${describeCause(err)}.`, { cause: err });
    }
    try {
      const seq = this.lastSeq + 1;
      this.pending.add(seq, payload);
      this.lastSeq = seq;
    } catch (err) {
      throw this.fail(err, 'journal a change'); // applied in memory but not journaled: stop serving
    }
    this.scheduleFlush();
    return this.pending.done;
  }

  /**
   * Refuses a change that would grow the journal past maxJournalBytes (only possible while
   * compaction keeps failing), before anything is applied: reads and later writes go on.
   */
  private checkRoom(payload: Uint8Array): void {
    const size = recordBytes(payload) + RECORD_HEADER_BYTES;
    if (size > this.maxJournalBytes - HEADER_BYTES) {
      throw new RegistryError(
        'INVALID_VALUE',
        `This change is ${size} bytes in the journal, more than its limit of ${this.maxJournalBytes} bytes (maxJournalBytes): split it into smaller changes.`,
      );
    }
    const queued = this.journalBytes + this.inFlightBytes + this.pending.bytes + recordBytes(payload);
    if (queued <= this.maxJournalBytes) {
      return;
    }
    this.maybeCompact(true);
    const why =
      this.compactionError === undefined
        ? `a compaction into ${this.file} is running`
        : `compacting it into ${this.file} keeps failing (last: ${describeCause(this.compactionError)})`;
    throw new RegistryError(
      'UNAVAILABLE',
      `The journal ${this.logPath} has reached its limit of ${this.maxJournalBytes} bytes (maxJournalBytes) because ${why}. ` +
        'This change was not made; reads go on, and changes are accepted again as soon as a compaction succeeds (it is retried on every refused change). Free disk space if it is full.',
    );
  }

  /**
   * Refuses a change that could grow the database past maxDatabaseMiB, before anything is applied
   * (removals always pass: they are how a full registry gets room again).
   */
  private checkCeiling(ops: readonly JournalOp[], payload: Uint8Array): void {
    if (!ops.some((op) => op[0] === 'p')) {
      this.full = undefined;
      return;
    }
    const pages = (stmt: Statement) => Number(this.row(stmt, [])?.[0] ?? 0);
    const used = (pages(this.st.pageCount) - pages(this.st.freePages)) * this.st.pageSize;
    // New rows take about their encoded size in table pages, plus half-full pages after splits.
    this.full = undefined;
    if (used + payload.length * 2 > this.maxDatabaseBytes) {
      this.full = `The registry is full (limit ${this.maxDatabaseBytes / 2 ** 20} MiB): writes that add data fail; remove keys, raise maxDatabaseMiB or use PostgreSQL.`;
      throw new RegistryError(
        'UNSUPPORTED',
        `The sqlite registry ${this.file} is full: it holds ${(used / 2 ** 20).toFixed(0)} MiB, and this change would take it past its limit of ` +
          `${this.maxDatabaseBytes / 2 ** 20} MiB (maxDatabaseMiB; in VS Code the setting nautilusRegistry.sqlite.maxDatabaseMiB). Nothing was changed. ` +
          'The sqlite backend holds the whole database in memory; for a registry this large use PostgreSQL, or remove keys to make room.',
      );
    }
  }

  private scheduleFlush(): void {
    if (!this.flushQueued) {
      this.flushQueued = true;
      // flush settles its batch itself; the catch only keeps the chain going whatever happens.
      this.chain = this.chain.then(() => this.flush()).catch((err: unknown) => void this.fail(err));
    }
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending;
    if (batch.records.length === 0) {
      return;
    }
    this.pending = new Batch();
    await this.verify();
    if (this.failure) {
      batch.reject(this.failure);
      return;
    }
    let data: Uint8Array;
    this.inFlightBytes = batch.bytes;
    try {
      if (!this.appender) {
        throw new Error('the journal is not open');
      }
      data = frameBatch(
        batch.records[0].seq,
        batch.records.map((r) => r.payload),
      );
      await this.appender.append(data);
      await this.appender.sync();
    } catch (err) {
      batch.reject(this.fail(err));
      return;
    } finally {
      this.inFlightBytes = 0;
    }
    this.journalBytes += data.length;
    if (this.capture) {
      const after = this.capture.after;
      for (const r of batch.records) {
        if (r.seq > after) {
          this.capture.records.push(r);
        }
      }
    }
    batch.resolve();
    this.maybeCompact();
  }

  /** The journal cannot be written: reject, and refuse every further call until reopened. */
  private fail(err: unknown, doing = `save a change to ${this.logPath}`): RegistryError {
    if (!this.failure) {
      this.failure = new RegistryError(
        'UNAVAILABLE',
        `Could not ${doing}: ${describeCause(err)}. The change may or may not have been saved;` +
          ' every change acknowledged before is safe. The registry stops here: fix the cause (e.g. free disk space) and open it again.',
        { cause: err },
      );
      this.logger.error(this.failure.message);
    }
    return this.failure;
  }

  // ---- compaction -----------------------------------------------------------------------------

  /** Starts a compaction when the journal has grown enough (or, forced, when it is at its limit: at most 4 times a second). */
  private maybeCompact(force = false): void {
    if (this.compaction || this.failure || this.isClosed || this.readOnlyReason !== undefined) {
      return;
    }
    if (force) {
      if (Date.now() - this.lastForcedCompaction < 250) {
        return;
      }
      this.lastForcedCompaction = Date.now();
    } else if (this.journalBytes < this.compactAt) {
      return;
    }
    this.compaction = this.compact()
      .catch((err: unknown) => this.compactionFailed(err, 'unexpectedly'))
      .finally(() => (this.compaction = undefined));
  }

  /** A compaction failed and nothing is lost (the journal keeps every change): try again once the journal has grown by compactBytes. */
  private compactionFailed(err: unknown, doing: string): void {
    this.compactionError = err;
    this.compactAt = this.journalBytes + this.compactBytes;
    this.logger.warn(
      `Compaction of ${this.file} failed (${doing}): ${describeCause(err)}. The journal keeps every change; compaction is tried again after another ${this.compactBytes} bytes` +
        ` (changes are refused once the journal reaches ${this.maxJournalBytes} bytes).`,
    );
  }

  /** The database as a file image holding every change up to `seq` (frees and re-prepares statements). */
  private exportImage(seq: number): Uint8Array {
    this.run(this.st.purge, [Date.now()]);
    this.run(this.st.setMeta, ['journal_seq', String(seq)]);
    this.run(this.st.setMeta, ['format', String(SNAPSHOT_FORMAT)]);
    try {
      return this.db.export();
    } finally {
      try {
        this.prepare();
      } catch (err) {
        // export closes and reopens the engine's database; if it did not come back, stop here.
        // eslint-disable-next-line no-unsafe-finally
        throw this.fail(err, 'reopen the in-memory database after an export');
      }
    }
  }

  private async compact(): Promise<void> {
    const seq = this.lastSeq;
    const started = Date.now();
    let image: Uint8Array;
    try {
      image = this.exportImage(seq); // the only part that holds writers up
    } catch (err) {
      this.compactionFailed(err, 'exporting the database');
      return;
    }
    const exported = Date.now();
    this.capture = { after: seq, records: [] };
    try {
      // Even when this fails after its rename (the new snapshot may or may not be there after a
      // crash), the journal still holds every change, so either snapshot replays to the same state.
      await this.files.replace(this.file, image);
    } catch (err) {
      this.capture = undefined;
      this.compactionFailed(err, 'writing the database file');
      return;
    }
    this.snapshotSeq = seq;
    const written = Date.now();
    // Cut the journal down to the records after the snapshot; no append runs meanwhile.
    const swap = this.chain.then(() => this.swapJournal()).catch((err: unknown) => void this.fail(err));
    this.chain = swap;
    await swap;
    const done = Date.now();
    this.logger.info(
      `Compacted ${this.file} (${image.length} bytes) in ${done - started} ms: export ${exported - started} ms, write ${written - exported} ms, journal swap ${done - written} ms.`,
    );
  }

  private async swapJournal(): Promise<void> {
    const capture = this.capture;
    this.capture = undefined;
    if (!capture || this.failure) {
      return;
    }
    const data = encodeJournal(this.dbId, capture.records);
    try {
      await this.files.replace(this.logPath, data);
    } catch (err) {
      if (replaceLeftUnchanged(err)) {
        // It failed before touching the journal: the old one is still whole and in use.
        this.compactionFailed(err, 'shortening the journal');
        return;
      }
      // The rename may have happened (and not be durable), or not: the file our appender writes
      // to may no longer be the journal, and a crash may bring either back. Nothing is appended
      // until one replace has succeeded; both contents hold every change after the snapshot.
      const old = this.appender;
      this.appender = undefined;
      await old?.close().catch(() => undefined);
      this.logger.warn(`Replacing the journal ${this.logPath} failed after it may have taken effect (${describeCause(err)}); writing it again.`);
      try {
        await this.files.replace(this.logPath, data);
      } catch (err2) {
        this.fail(err2, `re-establish the journal ${this.logPath} after a failed swap (${describeCause(err)}), so whether it is on disk is unknown`);
        return;
      }
    }
    const old = this.appender;
    this.appender = undefined;
    await old?.close().catch(() => undefined);
    try {
      this.appender = await this.files.openAppender(this.logPath);
    } catch (err) {
      this.fail(err, `reopen the journal ${this.logPath} after compaction`);
      return;
    }
    this.journalBytes = data.length;
    this.compactAt = this.compactBytes;
    this.compactionError = undefined;
  }

  // ---- primitives -----------------------------------------------------------------------------

  protected async doStore(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    this.writable();
    await this.commit([['p', key, value, ttlMs === undefined ? null : Date.now() + ttlMs]]);
  }

  protected async doRetrieveMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return this.guard('read', () => {
      const now = Date.now();
      return keys.map((k) => this.live(k, now)?.value);
    });
  }

  protected async doInspect(key: string): Promise<RawEntry | undefined> {
    return this.guard('read', () => this.live(key));
  }

  protected async doRemove(key: string): Promise<boolean> {
    this.writable();
    if (!this.guard('read', () => this.live(key))) {
      return false;
    }
    await this.commit([['d', key]]);
    return true;
  }

  protected async doContains(key: string): Promise<boolean> {
    return this.guard('read', () => this.isLive(key));
  }

  protected async scanKeys(from: string, inclusive: boolean, prefix: string, limit: number): Promise<string[]> {
    return this.guard('list keys', () => {
      const end = prefixEnd(prefix);
      const stmt = this.st.scan[(inclusive ? 1 : 0) + (end === undefined ? 0 : 2)];
      const params: SqlValue[] = end === undefined ? [from, Date.now()] : [from, end, Date.now()];
      const out: string[] = [];
      try {
        stmt.bind(params);
        while (out.length < limit && stmt.step()) {
          out.push(asText(stmt.get()[0]));
        }
      } finally {
        stmt.reset();
      }
      return out;
    });
  }

  protected async doCount(prefix: string): Promise<number> {
    return this.guard('count keys', () => {
      const end = prefixEnd(prefix);
      const r = this.row(this.st.count[end === undefined ? 0 : 1], end === undefined ? [prefix, Date.now()] : [prefix, end, Date.now()]);
      return Number(r?.[0] ?? 0);
    });
  }

  /** Live entries under a prefix, in order. */
  private entriesUnder(prefix: string): { key: string; value: string; expiresAt: number | null }[] {
    const end = prefixEnd(prefix);
    const rows = this.rows(this.st.entries[end === undefined ? 0 : 1], end === undefined ? [prefix, Date.now()] : [prefix, end, Date.now()]);
    return rows.map((r) => ({ key: asText(r[0]), value: asText(r[1]), expiresAt: asExpiry(r[2]) ?? null }));
  }

  protected async doStoreMany(entries: readonly Entry[]): Promise<void> {
    this.writable();
    const now = Date.now();
    await this.commit(entries.map((e): JournalOp => ['p', e.key, e.value, e.ttlMs === undefined ? null : now + e.ttlMs]));
  }

  protected async doRemovePrefix(prefix: string): Promise<number> {
    this.writable();
    // Count and delete in one synchronous step, so that no other change slips in between.
    const end = prefixEnd(prefix);
    const n = this.guard('count keys', () =>
      Number(this.row(this.st.count[end === undefined ? 0 : 1], end === undefined ? [prefix, Date.now()] : [prefix, end, Date.now()])?.[0] ?? 0),
    );
    if (n > 0) {
      await this.commit([['r', prefix]]);
    }
    return n;
  }

  protected async doRename(from: string, to: string, overwrite: boolean): Promise<void> {
    this.writable();
    const now = Date.now();
    const entry = this.guard('read', () => this.live(from, now));
    if (!entry) {
      throw notFound(from);
    }
    if (!overwrite && this.guard('read', () => this.isLive(to, now))) {
      throw alreadyExists(to);
    }
    await this.commit([
      ['d', from],
      ['p', to, entry.value, entry.expiresAt ?? null],
    ]);
  }

  protected async doRenamePrefix(from: string, to: string, overwrite: boolean): Promise<number> {
    this.writable();
    const entries = this.guard('read', () => this.entriesUnder(from));
    if (entries.length === 0) {
      return 0;
    }
    const moves = entries.map((e) => ({ ...e, target: movedKey(e.key, from, to) }));
    if (!overwrite) {
      const now = Date.now();
      for (const m of moves) {
        if (!m.target.startsWith(from) && this.guard('read', () => this.isLive(m.target, now))) {
          throw alreadyExists(m.target);
        }
      }
    }
    await this.commit([['r', from], ...moves.map((m): JournalOp => ['p', m.target, m.value, m.expiresAt])]);
    return moves.length;
  }

  protected async doSetTtl(key: string, ttlMs: number | undefined): Promise<boolean> {
    this.writable();
    const now = Date.now();
    if (!this.guard('read', () => this.isLive(key, now))) {
      return false;
    }
    await this.commit([['t', key, ttlMs === undefined ? null : now + ttlMs]]);
    return true;
  }

  protected async doClose(): Promise<void> {
    try {
      if (this.readOnlyReason === undefined) {
        await this.finishWrites();
      }
    } finally {
      try {
        this.db.close();
      } finally {
        await this.lock?.release();
      }
    }
  }

  /** Waits for queued writes and a running compaction, then folds the journal into the database file. */
  private async finishWrites(): Promise<void> {
    await this.verify();
    this.scheduleFlush();
    await this.chain;
    await this.compaction;
    await this.chain;
    try {
      if (!this.failure && (this.lastSeq !== this.snapshotSeq || this.journalBytes > HEADER_BYTES)) {
        const image = this.exportImage(this.lastSeq);
        await this.files.replace(this.file, image);
        this.snapshotSeq = this.lastSeq;
      }
      await this.appender?.close();
      this.appender = undefined;
      if (!this.failure) {
        await this.files.remove(this.logPath); // the database file now holds everything
      }
    } catch (err) {
      this.logger.warn(`Closing ${this.file}: could not fold the journal into the database (${describeCause(err)}). Nothing is lost: the journal is replayed on the next open.`);
    } finally {
      await this.appender?.close().catch(() => undefined);
    }
  }
}

// ---- opening --------------------------------------------------------------------------------

export function validateSqliteConfig(config: SqliteConfig): void {
  configField.string(config, 'file');
  configField.boolean(config, 'readOnlyIfLocked');
  configField.integer(config, 'lockTimeoutMs', 0, 600_000);
  configField.integer(config, 'compactBytes', 1, 2 ** 30);
  configField.integer(config, 'maxJournalBytes', 4096, 2 ** 30);
  if ((config.compactBytes ?? DEFAULT_COMPACT_BYTES) > (config.maxJournalBytes ?? DEFAULT_MAX_JOURNAL_BYTES)) {
    throw configField.error('compactBytes', `must not be larger than maxJournalBytes (${config.maxJournalBytes ?? DEFAULT_MAX_JOURNAL_BYTES})`);
  }
  configField.string(config, 'wasmPath', { optional: true });
  configField.string(config, 'engineWorkerScript', { optional: true });
  const wasmBinary = (config as { wasmBinary?: unknown }).wasmBinary;
  if (wasmBinary !== undefined && !(wasmBinary instanceof Uint8Array)) {
    throw configField.error('wasmBinary', 'must be the bytes of sql-wasm.wasm (a Uint8Array)');
  }
  configField.integer(config, 'maxDatabaseMiB', 1, MAX_DATABASE_MIB);
  const thread = (config as { thread?: unknown }).thread;
  if (thread !== undefined && thread !== 'worker' && thread !== 'inline') {
    throw configField.error('thread', `must be "worker" or "inline" (got ${JSON.stringify(thread)})`);
  }
  const fsys = (config as { fileSystem?: unknown }).fileSystem;
  if (fsys !== undefined) {
    const needed = ['read', 'openAppender', 'replace', 'moveAside', 'remove', 'lock'];
    const f = fsys as Record<string, unknown> | null;
    const missing = typeof f === 'object' && f !== null ? needed.filter((m) => typeof f[m] !== 'function') : needed;
    if (missing.length > 0) {
      throw configField.error('fileSystem', `must implement ${needed.join(', ')} (missing: ${missing.join(', ')})`);
    }
  }
}

/** Checks the SQLite header; a problem is returned as text. */
function sqliteHeaderProblem(bytes: Uint8Array): string | undefined {
  const magic = 'SQLite format 3\u0000';
  if (bytes.length < 100 || new TextDecoder('latin1').decode(bytes.subarray(0, 16)) !== magic) {
    return 'it is not an SQLite database (no SQLite header)';
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rawPage = view.getUint16(16);
  const pageSize = rawPage === 1 ? 65536 : rawPage;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    return `its header is damaged (page size ${rawPage})`;
  }
  if (bytes.length % pageSize !== 0) {
    return `it is ${bytes.length} bytes long, not a whole number of ${pageSize}-byte pages (cut short?)`;
  }
  const pages = view.getUint32(28);
  if (view.getUint32(24) === view.getUint32(92) && pages * pageSize > bytes.length) {
    return `it is cut short: its header says ${pages} pages of ${pageSize} bytes, the file holds ${bytes.length / pageSize}`;
  }
  return undefined;
}

class Unreadable extends Error {
  constructor(
    readonly which: 'database' | 'journal',
    readonly reason: string,
    /** The file may hold acknowledged changes that nothing else has: leave it in place instead of moving it aside. */
    readonly keep = false,
  ) {
    super(reason);
  }
}

function newerVersion(file: string, what: string, found: string, reads: string): RegistryError {
  return new RegistryError(
    'UNSUPPORTED',
    `The registry ${what} ${file} was written by a newer version of Nautilus Registry (${found}; this version reads ${reads}). ` +
      'It was left untouched: open it with that newer version, or update the extension.',
  );
}

/** PRAGMA quick_check: what SQLite finds wrong with the database, or undefined when it is whole. */
function integrityProblem(db: Database): string | undefined {
  try {
    const check = db.exec('PRAGMA quick_check');
    const verdict = check[0]?.values.map((v) => String(v[0])) ?? [];
    if (verdict.length !== 1 || verdict[0] !== 'ok') {
      throw new Error(verdict.slice(0, 3).join('; ') || 'no result');
    }
    return undefined;
  } catch (err) {
    return `SQLite finds it damaged (${describeCause(err)})`;
  }
}

/**
 * The file image as sql.js should be given it. sql.js puts it into its in-memory file system with
 * `slice`, a copy: at 1,000,000 keys 250 MB of memory that is new to the process, which on a VM that
 * backs memory only when first touched took 1.2 s of a 2.5 s open. An image the seam let go of
 * (markHandedOver) can belong to that file system instead: a view of it whose `slice` is `subarray`
 * takes the path Emscripten's own `canOwn` takes. SQLite then writes into those bytes; nobody else
 * holds them. test/sqlite/files.test.ts checks that sql.js still takes the image without a copy.
 */
export function imageForSqlJs(bytes: Uint8Array): Uint8Array {
  if (!isHandedOver(bytes)) {
    return bytes;
  }
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  Object.defineProperty(view, 'slice', { value: view.subarray, configurable: true });
  return view;
}

/** `deferCheck`: leave the integrity check to the registry, which runs it before its first write (see SqliteRegistry.verify). */
function loadFiles(SQL: SqlJsStatic, file: string, dbBytes: Uint8Array | undefined, logBytes: Uint8Array | undefined, deferCheck = false): Loaded {
  let db: Database;
  let needSnapshot = false;
  if (dbBytes === undefined || dbBytes.length === 0) {
    if (logBytes !== undefined) {
      throw new Unreadable('journal', `its database ${file} is missing, so its changes cannot be replayed`);
    }
    db = new SQL.Database();
    needSnapshot = true;
  } else {
    const problem = sqliteHeaderProblem(dbBytes);
    if (problem) {
      throw new Unreadable('database', problem);
    }
    try {
      db = new SQL.Database(imageForSqlJs(dbBytes));
    } catch (err) {
      throw new Unreadable('database', `SQLite cannot open it (${describeCause(err)})`);
    }
    const damage = deferCheck ? undefined : integrityProblem(db);
    if (damage !== undefined) {
      db.close();
      throw new Unreadable('database', damage);
    }
  }
  try {
    // A newer version's snapshot is refused before anything else looks at its schema.
    const hasMeta = db.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'nautilus_meta'").length > 0;
    const format = hasMeta ? db.exec("SELECT value FROM nautilus_meta WHERE name = 'format'")[0]?.values[0]?.[0] : undefined;
    if (format !== undefined && String(format) !== String(SNAPSHOT_FORMAT)) {
      throw newerVersion(file, 'database', `snapshot format ${String(format).slice(0, 20)}`, `format ${SNAPSHOT_FORMAT}`);
    }
    // The schema: ours, an empty database, or a database of someone else (left alone).
    const tables = db.exec("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    const names = (tables[0]?.values ?? []).map((v) => String(v[0]));
    const foreign = names.filter((n) => n !== 'registry' && n !== 'nautilus_meta');
    if (!names.includes('registry') && foreign.length > 0) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `${file} is an SQLite database of another application (it holds ${foreign.slice(0, 5).join(', ')} but no registry table); it was left untouched. Choose another file.`,
      );
    }
    if (names.includes('registry')) {
      const cols = (db.exec('PRAGMA table_info(registry)')[0]?.values ?? []).map((v) => String(v[1]));
      if (!cols.includes('key') || !cols.includes('value')) {
        throw new RegistryError(
          'INVALID_CONFIG',
          `${file} has a table named registry without key and value columns (it has ${cols.join(', ')}); it was left untouched. Choose another file.`,
        );
      }
      if (!cols.includes('expires_at')) {
        db.run('ALTER TABLE registry ADD COLUMN expires_at INTEGER');
        needSnapshot = true;
      }
    }
    if (!names.includes('registry') || !names.includes('nautilus_meta')) {
      needSnapshot = true;
    }
    db.run(SCHEMA);
    const meta = (name: string) => {
      const r = db.exec('SELECT value FROM nautilus_meta WHERE name = ?', [name]);
      return r[0]?.values[0]?.[0];
    };
    let dbId = fromHex(String(meta('db_id') ?? ''));
    if (!dbId) {
      dbId = newDbId();
      db.run('INSERT OR REPLACE INTO nautilus_meta(name, value) VALUES (?, ?)', ['db_id', toHex(dbId)]);
      needSnapshot = true;
    }
    const seqText = meta('journal_seq');
    const snapshotSeq = seqText === undefined ? 0 : Number(seqText);
    if (!Number.isSafeInteger(snapshotSeq) || snapshotSeq < 0) {
      throw new Unreadable('database', `its nautilus_meta table holds a bad journal_seq (${String(seqText)})`);
    }
    return { db, dbId, snapshotSeq, lastSeq: snapshotSeq, needSnapshot };
  } catch (err) {
    db.close();
    if (err instanceof Unreadable || RegistryError.is(err)) {
      throw err;
    }
    throw new Unreadable('database', `SQLite cannot read it (${describeCause(err)})`);
  }
}

/** Opens (creating when missing) the sqlite registry described by `config`. */
export async function openSqliteRegistry(config: SqliteConfig): Promise<RegistryStorage> {
  validateSqliteConfig(config);
  const file = config.file;
  const logPath = file + JOURNAL_SUFFIX;
  const files = config.fileSystem ?? nodeFileSystem();
  const SQL = await loadEngine(config.wasmBinary ? 'wasmBinary' : locateSqlWasm(config.wasmPath), config.wasmBinary);
  let lock: FileLock | undefined;
  let readOnlyReason: string | undefined;
  try {
    lock = await files.lock(file + LOCK_SUFFIX, config.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  } catch (err) {
    if (RegistryError.is(err, 'LOCKED') && config.readOnlyIfLocked) {
      readOnlyReason = err.message;
    } else if (RegistryError.is(err)) {
      throw err;
    } else {
      throw new RegistryError('UNAVAILABLE', `Cannot lock ${file}: ${describeCause(err)}.`, { cause: err });
    }
  }
  const readOnly = readOnlyReason !== undefined;
  try {
    return await openLocked(config, SQL, files, file, logPath, lock, readOnlyReason, readOnly);
  } catch (err) {
    await lock?.release().catch(() => undefined);
    if (RegistryError.is(err)) {
      throw err;
    }
    throw new RegistryError('UNAVAILABLE', `Cannot open the registry ${file}: ${describeCause(err)}.`, { cause: err });
  }
}

async function openLocked(
  config: SqliteConfig,
  SQL: SqlJsStatic,
  files: RegistryFileSystem,
  file: string,
  logPath: string,
  lock: FileLock | undefined,
  readOnlyReason: string | undefined,
  readOnly: boolean,
): Promise<RegistryStorage> {
  const logger = config.logger;
  // The journal first, then the database: a compaction by another process in between can only
  // make the database newer than the journal's start, never leave a gap.
  const logBytes = await files.read(logPath);
  const dbBytes = await files.read(file);

  let loaded: Loaded | undefined;
  /** What the journal must be rewritten to: after a torn tail, when it is format 1, or when it ends before the snapshot. */
  let journalRewrite: Uint8Array | undefined;
  let journalTorn = 0;
  let deferCheck = false;
  try {
    // A journal of a newer format is refused before anything is read, changed or moved.
    let journal: ReturnType<typeof parseJournal> | undefined;
    let journalProblem: Unreadable | undefined;
    if (logBytes !== undefined) {
      try {
        journal = parseJournal(logBytes);
      } catch (err) {
        if (err instanceof JournalUnsupported) {
          throw newerVersion(logPath, 'journal', err.message, `formats 1 to ${JOURNAL_FORMAT}`);
        }
        if (!(err instanceof JournalCorruption)) {
          throw err;
        }
        // Damage after the header may hit acknowledged changes: keep the file where it is.
        journalProblem = new Unreadable('journal', err.reason, err.kind === 'records');
      }
    }
    // After a clean close there is no journal, nothing to replay and nothing to rewrite: the
    // integrity check of a large database (about 1 s at 1,000,000 keys) then need not delay the
    // first read. It still runs before anything could overwrite the file (SqliteRegistry.verify).
    deferCheck = logBytes === undefined && !readOnly && (dbBytes?.length ?? 0) > 0;
    loaded = loadFiles(SQL, file, dbBytes, logBytes, deferCheck);
    if (deferCheck && loaded.needSnapshot) {
      deferCheck = false; // the upgrade below writes the file: check now
      const problem = integrityProblem(loaded.db);
      if (problem !== undefined) {
        throw new Unreadable('database', problem);
      }
    }
    const db = loaded;
    if (journalProblem) {
      throw journalProblem;
    }
    if (journal) {
      try {
        if (!sameBytes(journal.dbId, db.dbId)) {
          throw new Unreadable('journal', `it belongs to another database than ${file} (database id ${toHex(journal.dbId)}, expected ${toHex(db.dbId)})`);
        }
        const fresh = journal.records.filter((r) => r.seq > db.snapshotSeq);
        if (fresh.length > 0 && fresh[0].seq !== db.snapshotSeq + 1) {
          throw new Unreadable(
            'journal',
            `it continues at change ${fresh[0].seq} but the database holds changes up to ${db.snapshotSeq} only (changes are missing; was an older copy of the database put back?)`,
            true,
          );
        }
        if (fresh.length > 0) {
          replayInto(db.db, fresh.map((r) => r.payload));
          db.lastSeq = fresh[fresh.length - 1].seq;
        }
        journalTorn = journal.tornBytes;
        const last = journal.records[journal.records.length - 1]?.seq ?? db.snapshotSeq;
        if (journalTorn > 0 || journal.format !== JOURNAL_FORMAT || last < db.snapshotSeq) {
          // Keep only whole records after the snapshot, in this version's format, so that new
          // records follow on without a gap (a crash during compaction can leave a journal that
          // ends before the snapshot's last change) and never after torn bytes.
          journalRewrite = encodeJournal(db.dbId, fresh);
        }
      } catch (err) {
        if (err instanceof Unreadable) {
          throw err;
        }
        throw new Unreadable('journal', `a change in it cannot be replayed (${describeCause(err)})`, true);
      }
    }
  } catch (err) {
    loaded?.db.close();
    if (!(err instanceof Unreadable)) {
      throw err;
    }
    const path = err.which === 'database' ? file : logPath;
    if (readOnly) {
      throw new RegistryError(
        'CORRUPT',
        `The registry ${err.which} ${path} cannot be read: ${err.reason}. It was left in place because another process has it open.`,
      );
    }
    if (err.keep) {
      throw new RegistryError(
        'CORRUPT',
        `The registry journal ${path} cannot be read: ${err.reason}. It holds changes that were acknowledged, so it was left in place and nothing was changed;` +
          ` the registry does not open until it is dealt with. Keep a copy of ${path} and of ${file}; to go on with the database as of its last` +
          ` compaction (without the changes in the journal), move ${path} away.`,
      );
    }
    const suffix = asideSuffix();
    const moved = await files.moveAside(path, suffix);
    let also = '';
    if (err.which === 'database' && logBytes !== undefined) {
      const movedLog = await files.moveAside(logPath, suffix);
      also = ` Its journal was moved along to ${movedLog}.`;
    }
    const next =
      err.which === 'database'
        ? 'Opening the registry again starts an empty one; the moved file may be recoverable with SQLite tools.'
        : `The database ${file} itself was not changed; opening the registry again continues from it (changes made after its last compaction are only in the moved journal).`;
    throw new RegistryError('CORRUPT', `The registry ${err.which} ${path} cannot be read: ${err.reason}. It was moved to ${moved} and nothing was overwritten.${also} ${next}`);
  }

  const dbId = loaded.dbId;
  let journalBytes = HEADER_BYTES;
  let appender: FileAppender | undefined;
  let readOnlyCode: 'LOCKED' | 'UNAVAILABLE' = 'LOCKED';
  if (!readOnly) {
    try {
      if (loaded.needSnapshot) {
        // New or upgraded database: write it first, then a fresh journal that goes with it.
        loaded.db.run('INSERT OR REPLACE INTO nautilus_meta(name, value) VALUES (?, ?)', ['journal_seq', String(loaded.lastSeq)]);
        loaded.db.run('INSERT OR REPLACE INTO nautilus_meta(name, value) VALUES (?, ?)', ['format', String(SNAPSHOT_FORMAT)]);
        await files.replace(file, loaded.db.export());
        loaded.snapshotSeq = loaded.lastSeq;
        await files.replace(logPath, encodeHeader(dbId));
      } else if (logBytes === undefined) {
        await files.replace(logPath, encodeHeader(dbId));
      } else if (journalRewrite) {
        if (journalTorn > 0) {
          logger?.warn(`${logPath}: dropped ${journalTorn} bytes of an interrupted write at its end (a change that was never acknowledged).`);
        }
        await files.replace(logPath, journalRewrite);
        journalBytes = journalRewrite.length;
      } else {
        journalBytes = logBytes.length;
      }
      appender = await files.openAppender(logPath);
    } catch (err) {
      // Typically a full disk. Everything was read, and every file still holds what it held (a
      // replace is atomic): serve it read-only rather than not at all.
      await appender?.close().catch(() => undefined);
      appender = undefined;
      readOnlyReason =
        `The registry files of ${file} cannot be written: ${describeCause(err)}. Everything saved before is shown, read-only;` +
        ' free disk space (or fix the cause) and open the registry again to make changes.';
      readOnlyCode = 'UNAVAILABLE';
      logger?.error(readOnlyReason);
    }
  }
  const registry = new SqliteRegistry(
    config,
    file,
    files,
    loaded.db,
    dbId,
    loaded.snapshotSeq,
    loaded.lastSeq,
    journalBytes,
    appender,
    lock,
    readOnlyReason,
    readOnlyCode,
    config.compactBytes ?? DEFAULT_COMPACT_BYTES,
    config.maxJournalBytes ?? DEFAULT_MAX_JOURNAL_BYTES,
  );
  if (deferCheck) {
    const db = loaded.db;
    registry.checkLater(() => integrityProblem(db));
  }
  registry.afterOpen();
  return registry;
}

function replayInto(db: Database, payloads: readonly Uint8Array[]): void {
  const put = db.prepare(
    'INSERT INTO registry(key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
  );
  const del = db.prepare('DELETE FROM registry WHERE key = ?');
  const delRange = db.prepare('DELETE FROM registry WHERE key >= ? AND key < ?');
  const delFrom = db.prepare('DELETE FROM registry WHERE key >= ?');
  const ttl = db.prepare('UPDATE registry SET expires_at = ? WHERE key = ?');
  db.run('BEGIN');
  try {
    for (const p of payloads) {
      for (const op of decodeOps(p)) {
        switch (op[0]) {
          case 'p':
            put.run([op[1], op[2], op[3]]);
            break;
          case 'd':
            del.run([op[1]]);
            break;
          case 'r': {
            const end = prefixEnd(op[1]);
            if (end === undefined) {
              delFrom.run([op[1]]);
            } else {
              delRange.run([op[1], end]);
            }
            break;
          }
          case 't':
            ttl.run([op[2], op[1]]);
            break;
        }
      }
    }
    db.run('COMMIT');
  } catch (err) {
    db.run('ROLLBACK');
    throw err;
  } finally {
    for (const s of [put, del, delRange, delFrom, ttl]) {
      s.free();
    }
  }
}
