/**
 * The PostgreSQL backend: one table shared by many clients, through `pg` (a Pool for queries and
 * one dedicated connection that LISTENs for the change trigger's notifications).
 *
 * - Compatible with the seed's table `registry(key TEXT PRIMARY KEY, value TEXT NOT NULL)`: an
 *   existing table is used as it is (without expires_at, TTL fails with UNSUPPORTED). A missing
 *   table is created with `key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL, expires_at TIMESTAMPTZ`.
 * - Ordering is UTF-8 byte order: comparisons and ORDER BY use the key as is when its collation
 *   is "C", else `key COLLATE "C"` (served by an extra index when the table is ours to change).
 * - External changes: statement-level triggers with transition tables NOTIFY one message per
 *   statement; own changes are recognised by the sender's backend pid. Where the trigger cannot be
 *   installed (or on PGlite, which delivers a NOTIFY only to the connection that caused it), the
 *   registry polls a fingerprint of the table instead and reports coarse 'clear' events.
 * - Connection loss: calls fail fast with UNAVAILABLE; the pool reconnects on the next call, the
 *   listener reconnects with backoff and then reports 'clear' (changes may have been missed).
 */
import { Client, Pool } from 'pg';
import type { ClientConfig, PoolClient, PoolConfig, QueryResult, QueryResultRow } from 'pg';
import { alreadyExists, BaseRegistry, movedKey, notFound } from '../base';
import type { RawEntry } from '../base';
import { describeCause, RegistryError } from '../errors';
import type { RegistryErrorCode } from '../errors';
import { childOf, prefixEnd } from '../keys';
import { redactSecrets, redactUrl } from '../redact';
import type { ChildItem, ChildrenPage, Entry, PostgresConfig, RegistryDescription, RegistryStorage } from '../types';
import { configField } from '../validation';
import {
  byteOrderIndexName,
  byteOrderIndexSql,
  channelFor,
  createTableSql,
  createTriggersSql,
  expiryIndexSql,
  NOTIFY_FUNCTION,
  notifyFunctionSql,
  quoteIdent,
  Statements,
  TRIGGERS,
} from './postgresSql';
import type { Stmt, TableShape } from './postgresSql';

const DEFAULT_TABLE = 'registry';
const DEFAULT_APP_NAME = 'nautilus-registry';
/** Rows per storeMany statement, and a soft cap on the bytes of one statement. */
const MANY_ROWS = 5000;
const MANY_BYTES = 8 * 1024 * 1024;
const QUERY_TIMEOUT_MS = 60_000;
/** The listener proves its connection alive this often (a silent connection receives no NOTIFY). */
const HEARTBEAT_MS = 30_000;

type Bound = 'none' | 'end' | 'startsWith';

/** Runs a prepared statement on a transaction's connection. */
function run(c: PoolClient, s: Stmt, values: unknown[]): Promise<QueryResult> {
  return c.query(namedStatements.get(c) === false ? { text: s.text, values } : { name: s.name, text: s.text, values });
}

/**
 * Connections of registries whose server shares prepared statements between connections
 * (PGlite: every connection is the same session), where statements must stay unnamed.
 */
const namedStatements = new WeakMap<PoolClient, boolean>();

/** How a prefix is matched: a byte-order range [prefix, prefixEnd) or, when there is no end, starts_with. */
function prefixBound(prefix: string): { bound: Bound; params: string[] } {
  if (prefix === '') {
    return { bound: 'none', params: [] };
  }
  const end = prefixEnd(prefix);
  return end === undefined ? { bound: 'startsWith', params: [prefix, prefix] } : { bound: 'end', params: [prefix, end] };
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  '57P01', // admin_shutdown (pg_terminate_backend, server stop)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
]);

function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) {
    return false;
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) {
    return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended|ended unexpectedly|Client was closed|connect ECONN|read ECONNRESET|socket hang up|Query read timeout/i.test(
    err.message,
  );
}

/** Connection settings from the config: the password travels separately, never inside a URL we keep. */
interface Connection {
  base: ClientConfig;
  /** For display: the URL without any password. */
  shownUrl: string;
  secrets: string[];
}

function connectionFrom(config: PostgresConfig): Connection {
  const url = configField.string(config, 'url')!;
  const password = configField.string(config, 'password', { optional: true, nonEmpty: false });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw configField.error('url', `must be a postgres:// or postgresql:// URL (got ${JSON.stringify(redactUrl(url))})`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw configField.error('url', `must start with postgres:// or postgresql:// (got ${JSON.stringify(parsed.protocol)})`);
  }
  const secrets: string[] = [];
  if (password) {
    secrets.push(password, encodeURIComponent(password));
  }
  if (parsed.password) {
    secrets.push(parsed.password);
    try {
      secrets.push(decodeURIComponent(parsed.password));
    } catch {
      // not percent-encoded: the raw form is already listed
    }
  }
  const ssl = (config as { ssl?: unknown }).ssl;
  if (ssl !== undefined && typeof ssl !== 'boolean' && (typeof ssl !== 'object' || ssl === null || Array.isArray(ssl))) {
    throw configField.error('ssl', 'must be true, false or { rejectUnauthorized?, ca? }');
  }
  if (typeof ssl === 'object' && ssl !== null) {
    configField.boolean(ssl, 'rejectUnauthorized');
    configField.string(ssl, 'ca', { optional: true });
  }
  const connectTimeoutMs = configField.integer(config, 'connectTimeoutMs', 100, 600_000) ?? 5000;
  // The password given in the config wins over one in the URL (pg lets the URL override fields).
  const noPassword = new URL(url);
  noPassword.password = '';
  const base: ClientConfig = {
    connectionString: password !== undefined ? noPassword.toString() : url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // A server that stops answering (network partition) must not hang a call for the minutes TCP
    // takes to notice: a query without an answer for this long fails as UNAVAILABLE.
    query_timeout: QUERY_TIMEOUT_MS,
  };
  if (password !== undefined) {
    base.password = password;
  }
  if (ssl !== undefined) {
    base.ssl = ssl as ClientConfig['ssl'];
  }
  if (!parsed.searchParams.has('application_name')) {
    base.application_name = DEFAULT_APP_NAME;
  }
  return { base, shownUrl: redactUrl(noPassword.toString()), secrets };
}

interface SetupResult {
  shape: TableShape;
  notes: string[];
  /** Why LISTEN/NOTIFY is not used; undefined when it is. */
  pollReason?: string;
  /** Warn about the fallback through the logger (not for PGlite, where polling is expected). */
  warnPoll: boolean;
  /** Prepared statements are per connection (false on PGlite, where all connections are one session). */
  named: boolean;
  /** Why TTL is unsupported: 'missing' column, or the column's other type. */
  ttlProblem?: string;
}

class PostgresRegistry extends BaseRegistry {
  private readonly sql: Statements;
  private readonly location: string;
  private readonly notes: string[];
  private readonly channel: string;
  private readonly ourPids = new Set<number>();
  private readonly pollIntervalMs: number;
  private readonly named: boolean;
  private readonly ttlProblem: string | undefined;
  /** Why the server is unreachable right now (undefined: fine). */
  private poolProblem: string | undefined;
  private listener: Client | undefined;
  private listenerUp = false;
  private listenerRetry: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastFingerprint: string | undefined;
  private pollFailed = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    config: PostgresConfig,
    private readonly pool: Pool,
    private readonly conn: Connection,
    setup: SetupResult,
  ) {
    super(config);
    this.sql = new Statements(setup.shape);
    this.named = setup.named;
    this.ttlProblem = setup.ttlProblem;
    this.notes = setup.notes;
    this.location = `${conn.shownUrl} (table ${setup.shape.schema}.${setup.shape.table})`;
    this.channel = channelFor(setup.shape.schema, setup.shape.table);
    this.pollIntervalMs = configField.integer(config, 'pollIntervalMs', 50, 600_000) ?? 1000;
    pool.on('connect', (c) => {
      const pid = (c as unknown as { processID?: number }).processID;
      if (typeof pid === 'number') {
        this.ourPids.add(pid);
      }
    });
    pool.on('remove', (c) => {
      const pid = (c as unknown as { processID?: number }).processID;
      if (typeof pid === 'number') {
        // Later notifications of this pid may still be in flight: forget it a little later.
        setTimeout(() => this.ourPids.delete(pid), 5000).unref();
      }
    });
    if (setup.pollReason !== undefined) {
      if (setup.warnPoll) {
        this.logger.warn(this.redact(`PostgreSQL registry ${this.location}: ${setup.pollReason}; changes by other clients are found by polling every ${this.pollIntervalMs} ms.`));
      }
    }
  }

  /** Pids of the pool's connections that were open before the pool reported them (the setup client). */
  addPid(pid: number | undefined): void {
    if (typeof pid === 'number') {
      this.ourPids.add(pid);
    }
  }

  // ---- errors and state ---------------------------------------------------------------------

  private redact(message: string): string {
    return redactSecrets(message, this.conn.secrets);
  }

  /** Any failure as a RegistryError with a redacted message (the original is kept, redacted, as cause). */
  private fail(err: unknown, what: string): RegistryError {
    if (RegistryError.is(err)) {
      return err;
    }
    const cause = this.redact(describeCause(err));
    const pgCode = err instanceof Error ? (err as { code?: unknown }).code : undefined;
    const redactedCause = Object.assign(new Error(cause), { code: pgCode });
    let code: RegistryErrorCode = 'UNAVAILABLE';
    let message: string;
    if (isConnectionError(err)) {
      this.poolProblem = cause;
      this.probeUntilBack(250);
      message = `PostgreSQL at ${this.location} is unavailable (${what}): ${cause}. Retry when the server is back (the registry reconnects by itself).`;
    } else if (pgCode === '23505') {
      code = 'ALREADY_EXISTS';
      message = `${what}: a key already exists: ${cause}.`;
    } else if (pgCode === '42501') {
      message = `PostgreSQL at ${this.location} refused ${what}: ${cause}. Ask the table's owner for SELECT, INSERT, UPDATE and DELETE.`;
    } else if (pgCode === '42P01' || pgCode === '3F000') {
      message = `PostgreSQL at ${this.location}: the registry table is gone (${what}): ${cause}. Reopen the registry to create it again.`;
    } else if (typeof pgCode === 'string' && (pgCode.startsWith('22') || pgCode === '54000')) {
      code = 'INVALID_VALUE';
      message = `PostgreSQL at ${this.location} cannot store this (${what}): ${cause}.`;
    } else if (pgCode === '40001' || pgCode === '40P01' || pgCode === '55P03') {
      code = 'LOCKED';
      message = `PostgreSQL at ${this.location}: ${what} ran into a concurrent change (${cause}); retry.`;
    } else {
      message = `PostgreSQL at ${this.location} failed ${what}: ${cause}.`;
    }
    return new RegistryError(code, this.redact(message), { cause: redactedCause });
  }

  private ok(): void {
    this.poolProblem = undefined;
  }

  private probeTimer: NodeJS.Timeout | undefined;

  /** While the server is unreachable, checks now and then so that describe() turns 'open' again by itself. */
  private probeUntilBack(delay: number): void {
    if (this.probeTimer || this.isClosed) {
      return;
    }
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      if (this.isClosed || this.poolProblem === undefined) {
        return;
      }
      this.pool.query('SELECT 1').then(
        () => this.ok(),
        () => this.probeUntilBack(Math.min(delay * 2, 5000)),
      );
    }, delay);
    this.probeTimer.unref();
  }

  private async q<R extends QueryResultRow = QueryResultRow>(s: Stmt, values: unknown[], what: string): Promise<QueryResult<R>> {
    try {
      const r = await this.pool.query<R>(this.named ? { name: s.name, text: s.text, values } : { text: s.text, values });
      this.ok();
      return r;
    } catch (err) {
      throw this.fail(err, what);
    }
  }

  /** Runs `fn` in one transaction on one connection; rolls back on any failure. */
  private async tx<T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.fail(err, what);
    }
    namedStatements.set(client, this.named);
    // A checked-out client has no error listener of the pool's: a connection dying mid-transaction
    // would otherwise throw from an event emitter. The failing query reports it.
    let broken = false;
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      this.ok();
      return out;
    } catch (err) {
      broken ||= isConnectionError(err);
      if (!broken) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
      }
      throw this.fail(err, what);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  private unsupportedTtl(): RegistryError {
    const { schema, table } = this.sql.shape;
    const t = `${quoteIdent(schema)}.${quoteIdent(table)}`;
    return new RegistryError(
      'UNSUPPORTED',
      this.ttlProblem === 'missing'
        ? `TTL needs column expires_at, which table ${schema}.${table} lacks (a table made for the seed registry). ` +
            `Add it with: ALTER TABLE ${t} ADD COLUMN expires_at timestamptz; then reopen the registry.`
        : `TTL needs column expires_at of type timestamptz; in table ${schema}.${table} it is ${this.ttlProblem}. ` +
            `Change it with ALTER TABLE ${t} ALTER COLUMN expires_at TYPE timestamptz …; then reopen the registry.`,
    );
  }

  describe(): RegistryDescription {
    let state: RegistryDescription['state'] = 'open';
    if (this.isClosed) {
      state = 'closed';
    } else if (this.poolProblem !== undefined || (this.listener !== undefined && !this.listenerUp) || this.pollFailed) {
      state = 'unavailable';
    }
    const d: RegistryDescription = { backend: 'postgres', location: this.location, readOnly: false, state };
    const notes = [...this.notes];
    if (state === 'unavailable' && this.poolProblem !== undefined) {
      notes.push(`Unavailable: ${this.poolProblem}`);
    }
    if (notes.length > 0) {
      d.notes = notes;
    }
    return d;
  }

  // ---- change feed --------------------------------------------------------------------------

  startListening(): Promise<void> {
    return this.connectListener(true);
  }

  private async connectListener(first: boolean): Promise<void> {
    const client = new Client({ ...this.conn.base });
    client.on('error', () => this.listenerLost(client));
    client.on('end', () => this.listenerLost(client));
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) {
        this.onNotification(msg.processId, msg.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (err) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      if (first) {
        throw this.fail(err, 'LISTEN for changes');
      }
      throw err;
    }
    this.listener = client;
    this.listenerUp = true;
    const heartbeat = setInterval(() => {
      if (this.listener !== client || !this.listenerUp) {
        clearInterval(heartbeat);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer to the heartbeat')), 10_000);
        timer.unref();
      });
      Promise.race([client.query('SELECT 1'), late])
        .catch(() => this.listenerLost(client))
        .finally(() => clearTimeout(timer));
    }, HEARTBEAT_MS);
    heartbeat.unref();
  }

  private listenerLost(client: Client): void {
    if (this.listener !== client || !this.listenerUp) {
      return;
    }
    this.listenerUp = false;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.isClosed) {
      return;
    }
    this.logger.warn(this.redact(`PostgreSQL registry ${this.location}: lost the change listener connection; reconnecting.`));
    this.scheduleListenerRetry(100);
  }

  private scheduleListenerRetry(delay: number): void {
    this.listenerRetry = setTimeout(async () => {
      this.listenerRetry = undefined;
      if (this.isClosed) {
        return;
      }
      try {
        await this.connectListener(false);
      } catch (err) {
        if (!this.isClosed) {
          this.poolProblem = this.redact(describeCause(err));
          this.scheduleListenerRetry(Math.min(delay * 2, 5000));
        }
        return;
      }
      if (this.isClosed) {
        await this.listener?.end().catch(() => undefined);
        return;
      }
      this.poolProblem = undefined;
      this.logger.info(this.redact(`PostgreSQL registry ${this.location}: change listener reconnected.`));
      // Anything may have changed while we were not listening.
      this.emit({ kind: 'clear', origin: 'external' });
    }, delay);
    this.listenerRetry.unref();
  }

  private onNotification(pid: number, payload: string | undefined): void {
    if (this.ourPids.has(pid) || this.isClosed) {
      return;
    }
    let msg: { op?: unknown; key?: unknown; from?: unknown; to?: unknown } = {};
    try {
      msg = JSON.parse(payload ?? '{}') as typeof msg;
    } catch {
      // not ours to parse: report a coarse change
    }
    if ((msg.op === 'store' || msg.op === 'remove') && typeof msg.key === 'string') {
      this.emit({ kind: msg.op, key: msg.key, origin: 'external' });
    } else if (msg.op === 'rename' && typeof msg.from === 'string' && typeof msg.to === 'string') {
      this.emit({ kind: 'rename', from: msg.from, to: msg.to, origin: 'external' });
    } else {
      this.emit({ kind: 'clear', origin: 'external' });
    }
  }

  async startPolling(): Promise<void> {
    this.lastFingerprint = await this.fingerprint();
    this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
    this.pollTimer.unref();
  }

  /**
   * Expired rows are invisible to every call; a sweep a second after opening and then every
   * hour deletes them so that they do not pile up (one DELETE, served by the partial index on
   * expires_at in tables this backend created).
   */
  startSweeping(): void {
    if (!this.sql.shape.ttl) {
      return;
    }
    const sweep = () => {
      if (!this.isClosed) {
        this.q(this.sql.sweep(), [], 'remove expired keys').catch(() => undefined);
      }
    };
    const first = setTimeout(() => {
      sweep();
      this.sweepTimer = setInterval(sweep, 3_600_000);
      this.sweepTimer.unref();
    }, 1000);
    first.unref();
    this.sweepTimer = first;
  }

  private async fingerprint(): Promise<string> {
    const r = await this.q<{ fp: string }>(this.sql.fingerprint(), [], 'poll for changes');
    return r.rows[0].fp;
  }

  /**
   * One poll: a changed fingerprint is reported as an external 'clear'. The fingerprint cannot
   * tell our own writes from others', so a change of ours is reported too: a spurious 'clear'
   * costs a re-read, a missed external change would leave a stale view. After a failed poll, the
   * first good one reports 'clear' as well (anything may have changed meanwhile).
   */
  private async poll(): Promise<void> {
    if (this.polling || this.isClosed) {
      return;
    }
    this.polling = true;
    try {
      let fp: string;
      try {
        fp = await this.fingerprint();
      } catch {
        this.pollFailed = true;
        return;
      }
      const recovered = this.pollFailed;
      this.pollFailed = false;
      const changed = fp !== this.lastFingerprint;
      this.lastFingerprint = fp;
      if (this.isClosed) {
        return;
      }
      if (recovered || changed) {
        this.emit({ kind: 'clear', origin: 'external' });
      }
    } finally {
      this.polling = false;
    }
  }

  // ---- primitives ---------------------------------------------------------------------------

  protected async doStore(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    if (ttlMs !== undefined && !this.sql.shape.ttl) {
      throw this.unsupportedTtl();
    }
    await this.q(this.sql.store(ttlMs !== undefined), ttlMs === undefined ? [key, value] : [key, value, ttlMs], 'store');
  }

  protected async doRetrieveMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 1) {
      const r = await this.q<{ value: string }>(this.sql.retrieve(), [keys[0]], 'retrieve');
      return [r.rows[0]?.value];
    }
    const r = await this.q<{ key: string; value: string }>(this.sql.retrieveMany(), [keys], 'retrieveMany');
    const byKey = new Map(r.rows.map((row) => [row.key, row.value]));
    return keys.map((k) => byKey.get(k));
  }

  protected async doInspect(key: string): Promise<RawEntry | undefined> {
    const r = await this.q<{ value: string; expires_ms: number | null }>(this.sql.inspect(), [key], 'inspect');
    const row = r.rows[0];
    if (!row) {
      return undefined;
    }
    return row.expires_ms === null ? { value: row.value } : { value: row.value, expiresAt: row.expires_ms };
  }

  protected async doRemove(key: string): Promise<boolean> {
    const r = await this.q<{ live: boolean }>(this.sql.remove(), [key], 'remove');
    return r.rows.length > 0 && r.rows[0].live;
  }

  protected async doContains(key: string): Promise<boolean> {
    const r = await this.q(this.sql.contains(), [key], 'contains');
    return r.rows.length > 0;
  }

  protected async scanKeys(from: string, inclusive: boolean, prefix: string, limit: number): Promise<string[]> {
    const { bound, params } = prefixBound(prefix);
    const values = bound === 'none' ? [from, limit] : [from, params[1], limit];
    const r = await this.q<{ key: string }>(this.sql.scan(inclusive, bound), values, 'list');
    return r.rows.map((row) => row.key);
  }

  /** One recursive skip-scan query instead of the base class's round trip per seek. */
  protected override async childrenScan(prefix: string, separator: string, after: string | undefined, limit: number): Promise<ChildrenPage> {
    const separatorEnd = prefixEnd(separator);
    if (separatorEnd === undefined) {
      return super.childrenScan(prefix, separator, after, limit); // only U+10FFFF: a folder has no end to seek to
    }
    const start = this.childrenStart(prefix, separator, after);
    if (start === undefined) {
      return { items: [] };
    }
    const { from, inclusive } = start;
    const { bound, params } = prefixBound(prefix);
    const values: unknown[] = [from, prefix, separator, separatorEnd, limit + 1];
    if (bound === 'end') {
      values.push(params[1]);
    }
    const r = await this.q<{ k: string }>(this.sql.children(inclusive, bound), values, 'children');
    const items: ChildItem[] = r.rows.map((row) => childOf(prefix, separator, row.k));
    if (items.length > limit) {
      items.length = limit;
      return { items, next: items[limit - 1].key };
    }
    return { items };
  }

  protected async doCount(prefix: string): Promise<number> {
    const { bound, params } = prefixBound(prefix);
    const r = await this.q<{ n: number }>(this.sql.count(bound), params, 'count');
    return r.rows[0].n;
  }

  protected async doStoreMany(entries: readonly Entry[]): Promise<void> {
    const ttl = this.sql.shape.ttl;
    if (!ttl && entries.some((e) => e.ttlMs !== undefined)) {
      throw this.unsupportedTtl();
    }
    // Chunks by rows and bytes; arrays keep each statement at 2-3 parameters whatever its size.
    const chunks: unknown[][] = [];
    let keys: string[] = [];
    let values: string[] = [];
    let ttls: (number | null)[] = [];
    let bytes = 0;
    const flush = () => {
      if (keys.length > 0) {
        chunks.push(ttl ? [keys, values, ttls] : [keys, values]);
        keys = [];
        values = [];
        ttls = [];
        bytes = 0;
      }
    };
    for (const e of entries) {
      keys.push(e.key);
      values.push(e.value);
      ttls.push(e.ttlMs ?? null);
      bytes += e.key.length + e.value.length + 16;
      if (keys.length >= MANY_ROWS || bytes >= MANY_BYTES) {
        flush();
      }
    }
    flush();
    const s = this.sql.storeMany();
    if (chunks.length === 1) {
      await this.q(s, chunks[0], 'storeMany'); // one statement is one transaction
      return;
    }
    await this.tx('storeMany', async (c) => {
      for (const params of chunks) {
        await run(c, s, params);
      }
    });
  }

  protected async doRemovePrefix(prefix: string): Promise<number> {
    const { bound, params } = prefixBound(prefix);
    const r = await this.q<{ n: number }>(this.sql.removePrefix(bound), params, 'removePrefix');
    return r.rows[0].n;
  }

  protected async doRename(from: string, to: string, overwrite: boolean): Promise<void> {
    const s = this.sql;
    await this.tx('rename', async (c) => {
      const src = await run(c, s.lockLive(), [from]);
      if (src.rowCount === 0) {
        throw notFound(from);
      }
      if (overwrite) {
        await run(c, s.deleteKey(), [to]);
      } else {
        if (s.shape.ttl) {
          await run(c, s.dropExpired(), [to]); // an expired target does not block a rename
        }
        const exists = await run(c, s.contains(), [to]);
        if ((exists.rowCount ?? 0) > 0) {
          throw alreadyExists(to);
        }
      }
      try {
        await run(c, s.renameKey(), [from, to]);
      } catch (err) {
        if ((err as { code?: unknown }).code === '23505') {
          throw alreadyExists(to); // created meanwhile by another client
        }
        throw err;
      }
    });
  }

  protected async doRenamePrefix(from: string, to: string, overwrite: boolean): Promise<number> {
    const s = this.sql;
    const { bound, params } = prefixBound(from);
    if (bound === 'none') {
      throw new RegistryError('INVALID_KEY', 'Source prefix must not be empty.');
    }
    return this.tx('renamePrefix', async (c) => {
      if (s.shape.ttl) {
        await run(c, s.dropExpiredUnder(bound), params);
      }
      if (to.length > from.length) {
        const longest = await run(c, s.longestUnder(bound), params);
        if (longest.rows.length > 0) {
          movedKey(longest.rows[0].key as string, from, to);
        }
      } else if (to === '' && ((await run(c, s.contains(), [from])).rowCount ?? 0) > 0) {
        movedKey(from, from, to); // the key equal to the prefix would become empty: INVALID_KEY
      }
      if (!overwrite) {
        const conflict = await run(c, s.firstConflict(bound), [...params, to]);
        if (conflict.rows.length > 0) {
          throw alreadyExists(conflict.rows[0].key as string);
        }
      }
      await run(c, s.deleteTargets(bound), [...params, to]);
      const moved = await run(c, s.moveUnder(bound), [...params, to]);
      return moved.rowCount ?? 0;
    });
  }

  protected async doSetTtl(key: string, ttlMs: number | undefined): Promise<boolean> {
    if (!this.sql.shape.ttl) {
      if (ttlMs !== undefined) {
        throw this.unsupportedTtl();
      }
      return this.doContains(key); // keys of a table without expiry are all permanent
    }
    const r = await this.q(this.sql.setTtl(), [ttlMs ?? null, key], 'setTtl');
    return (r.rowCount ?? 0) > 0;
  }

  protected async doClose(): Promise<void> {
    clearTimeout(this.probeTimer);
    clearTimeout(this.sweepTimer);
    clearInterval(this.sweepTimer);
    if (this.pollTimer) {
      clearInterval(this.pollTimer);
    }
    if (this.listenerRetry) {
      clearTimeout(this.listenerRetry);
    }
    const listener = this.listener;
    this.listenerUp = false;
    if (listener) {
      listener.removeAllListeners('notification');
      await listener.end().catch(() => undefined);
    }
    await this.pool.end().catch(() => undefined);
  }
}

// ---- opening: validate, connect, find or create the table, install the trigger ---------------

/**
 * Why the registry refuses a database's encoding, or undefined when it is fine.
 *
 * The contract orders keys by UTF-8 bytes, and every range (prefixes, folders, pages) is computed
 * in that order. COLLATE "C" compares bytes in the database's encoding: in UTF8 that is exactly
 * UTF-8 byte order; in SQL_ASCII the bytes are the UTF-8 the registry wrote (PostgreSQL converts
 * nothing), so order and ranges hold as well (the SQL never counts characters to build a bound).
 * In any other encoding (EUC_JP, LATIN1, WIN1252, …) the byte order differs from Unicode order,
 * and keys with characters the encoding lacks cannot be stored at all. A correct fallback would
 * order by convert_to(key, 'UTF8'), which cannot be indexed without creating an IMMUTABLE wrapper
 * function in the user's database, so every page would sort the table; and it would still refuse
 * such keys. So the registry refuses these databases and says what to do instead.
 */
export function encodingProblem(database: string, serverEncoding: string, clientEncoding: string): string | undefined {
  if (clientEncoding.toUpperCase() !== 'UTF8') {
    return (
      `The connection to PostgreSQL database "${database}" uses client_encoding ${clientEncoding}, but the registry reads and writes UTF-8. ` +
      `Remove the client_encoding setting (options=-c client_encoding=… in the URL, ALTER ROLE … SET client_encoding, or a pooler's setting) so that it is UTF8.`
    );
  }
  if (serverEncoding === 'UTF8' || serverEncoding === 'SQL_ASCII') {
    return undefined;
  }
  return (
    `PostgreSQL database "${database}" has encoding ${serverEncoding}; the registry needs a UTF8 database. ` +
    `In ${serverEncoding}, COLLATE "C" orders keys by their ${serverEncoding} bytes, not in the UTF-8 byte order every backend uses, ` +
    `so prefixes, folders and pages would select the wrong keys, and keys with characters ${serverEncoding} lacks could not be stored. ` +
    `Nothing was changed in "${database}". Create a UTF8 database (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0) and point url at it; ` +
    `an existing database keeps its encoding, so move existing data over with pg_dump and pg_restore.`
  );
}

interface ColumnInfo {
  attname: string;
  typ: string;
  collname: string | null;
}

async function setupTable(c: PoolClient, schemaIn: string | undefined, table: string): Promise<SetupResult> {
  const notes: string[] = [];
  const server = await c.query<{ v: string; schema: string | null; dbcoll: string | null; dbprov: string | null; db: string; senc: string; cenc: string }>(
    `SELECT version() AS v, current_schema() AS schema,
            d.datcollate AS dbcoll, to_jsonb(d) ->> 'datlocprovider' AS dbprov, d.datname::text AS db,
            current_setting('server_encoding') AS senc, current_setting('client_encoding') AS cenc
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  const info = server.rows[0];
  // Before anything is created: a database the registry cannot serve correctly is left untouched.
  const encoding = encodingProblem(info.db, info.senc, info.cenc);
  if (encoding) {
    throw new RegistryError('UNSUPPORTED', encoding);
  }
  if (info.senc === 'SQL_ASCII') {
    notes.push(
      `Database "${info.db}" has encoding SQL_ASCII: PostgreSQL keeps the UTF-8 the registry writes as plain bytes and checks nothing; ` +
        'a key another client wrote in another encoding shows with U+FFFD in place of its bad bytes and cannot be opened.',
    );
  }
  const pglite = /PGlite/i.test(info.v);
  const schema = schemaIn ?? info.schema;
  if (!schema) {
    throw new RegistryError('INVALID_CONFIG', 'Registry configuration: schema is not set and the server has no current schema (search_path is empty); set schema.');
  }
  await c.query('BEGIN');
  try {
    // One set-up at a time per schema, so that two clients opening together do not race on DDL.
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`nautilus-registry:${schema}`]);
    const ns = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (ns.rowCount === 0) {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    }
    const rel = await c.query<{ oid: number; relkind: string; mine: boolean }>(
      `SELECT c.oid::int AS oid, c.relkind::text AS relkind, pg_has_role(c.relowner, 'USAGE') AS mine
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    let created = false;
    if (rel.rowCount === 0) {
      await c.query(createTableSql(schema, table));
      await c.query(expiryIndexSql(schema, table));
      created = true;
    }
    const relInfo = created
      ? (
          await c.query<{ oid: number; relkind: string; mine: boolean }>(
            `SELECT c.oid::int AS oid, c.relkind::text AS relkind, TRUE AS mine FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2`,
            [schema, table],
          )
        ).rows[0]
      : rel.rows[0];
    const where = `${schema}.${table}`;
    if (relInfo.relkind !== 'r' && relInfo.relkind !== 'p') {
      throw new RegistryError('INVALID_CONFIG', `Registry configuration: table ${where} is not a table (relkind ${relInfo.relkind}); name a table.`);
    }
    const cols = await c.query<ColumnInfo>(
      `SELECT a.attname::text AS attname, format_type(a.atttypid, a.atttypmod) AS typ, co.collname::text AS collname
         FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`,
      [relInfo.oid],
    );
    const col = new Map(cols.rows.map((r) => [r.attname, r]));
    const isText = (t: string | undefined) => t === 'text' || (t ?? '').startsWith('character varying');
    if (!isText(col.get('key')?.typ) || !isText(col.get('value')?.typ)) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `Registry configuration: table ${where} exists but is not a registry table (it needs text columns key and value; ` +
          `it has ${cols.rows.map((r) => `${r.attname} ${r.typ}`).join(', ') || 'no columns'}). Choose another table name.`,
      );
    }
    const unique = await c.query(
      `SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = $1 AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = 'key'`,
      [relInfo.oid],
    );
    if (unique.rowCount === 0) {
      throw new RegistryError('INVALID_CONFIG', `Registry configuration: table ${where} has no primary key or unique index on key; add one (ALTER TABLE … ADD PRIMARY KEY (key)).`);
    }
    const exp = col.get('expires_at');
    const ttl = exp !== undefined && exp.typ === 'timestamp with time zone';
    if (!ttl) {
      notes.push(
        exp === undefined
          ? `TTL unsupported: table ${where} has no expires_at column (a seed table); reads and writes work.`
          : `TTL unsupported: column expires_at of ${where} is ${exp.typ}, not timestamp with time zone.`,
      );
    }
    const byteColl = (name: string | null | undefined) => name === 'C' || name === 'POSIX';
    const keyColl = col.get('key')!.collname;
    const keyIsByteOrdered =
      byteColl(keyColl) || (keyColl === 'default' && byteColl(info.dbcoll) && (info.dbprov === null || info.dbprov === 'c'));
    // Trigger and (for a non-C key) a byte-order index: only where we may change the table.
    let pollReason: string | undefined;
    let warnPoll = true;
    const triggers = await c.query<{ tgname: string }>('SELECT tgname::text AS tgname FROM pg_trigger WHERE tgrelid = $1', [relInfo.oid]);
    const have = new Set(triggers.rows.map((r) => r.tgname));
    const fnOk = await c.query('SELECT to_regprocedure($1) IS NOT NULL AS ok', [`${quoteIdent(schema)}.${NOTIFY_FUNCTION}()`]);
    const needTrigger = !TRIGGERS.every((t) => have.has(t)) || !fnOk.rows[0].ok;
    if (needTrigger || !keyIsByteOrdered) {
      await c.query('SAVEPOINT nautilus_extras');
      try {
        if (needTrigger) {
          if (!fnOk.rows[0].ok) {
            await c.query(notifyFunctionSql(schema));
          }
          const all = createTriggersSql(schema, table);
          for (let i = 0; i < TRIGGERS.length; i++) {
            if (!have.has(TRIGGERS[i])) {
              await c.query(all[i]);
            }
          }
        }
        if (!keyIsByteOrdered) {
          const idx = await c.query(
            `SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
               JOIN pg_collation co ON co.oid = i.indcollation[0]
              WHERE i.indrelid = $1 AND a.attname = 'key' AND co.collname IN ('C', 'POSIX')`,
            [relInfo.oid],
          );
          if (idx.rowCount === 0) {
            await c.query(byteOrderIndexSql(schema, table));
            notes.push(`Column key of ${where} is not COLLATE "C": created index ${byteOrderIndexName(schema, table)} on (key COLLATE "C") for ordered scans.`);
          }
        }
        await c.query('RELEASE SAVEPOINT nautilus_extras');
      } catch (err) {
        await c.query('ROLLBACK TO SAVEPOINT nautilus_extras');
        const cause = describeCause(err);
        if (needTrigger) {
          pollReason = `cannot install the change trigger on ${where} (${cause})`;
          notes.push(`Changes by other clients: found by polling (the change trigger could not be installed: ${cause}).`);
        }
        if (!keyIsByteOrdered) {
          notes.push(`Column key of ${where} is not COLLATE "C" and no index on (key COLLATE "C") could be created (${cause}): listing scans the table.`);
        }
      }
    }
    await c.query('COMMIT');
    if (pglite && pollReason === undefined) {
      pollReason = 'PGlite delivers NOTIFY only to the connection that caused it';
      warnPoll = false;
      notes.push('Changes by other clients: found by polling (PGlite delivers NOTIFY only to the connection that caused it).');
    }
    if (created) {
      notes.push(`Created table ${where}.`);
    }
    const ttlProblem = ttl ? undefined : exp === undefined ? 'missing' : exp.typ;
    return { shape: { schema, table, ttl, keyIsByteOrdered }, notes, pollReason, warnPoll, named: !pglite, ttlProblem };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Opens (and if needed creates) a PostgreSQL registry. */
export async function openPostgresRegistry(config: PostgresConfig): Promise<RegistryStorage> {
  if (typeof config !== 'object' || config === null) {
    throw new RegistryError('INVALID_CONFIG', 'Registry configuration must be an object.');
  }
  const conn = connectionFrom(config);
  const schema = configField.identifier(config, 'schema');
  const table = configField.identifier(config, 'table') ?? DEFAULT_TABLE;
  configField.integer(config, 'pollIntervalMs', 50, 600_000);
  const poolConfig: PoolConfig = { ...conn.base, max: 10, idleTimeoutMillis: 30_000 };
  const pool = new Pool(poolConfig);
  // An idle connection that dies (server restart, pg_terminate_backend) is dropped by the pool;
  // the next call opens a new one. Without this handler the error would crash the process.
  pool.on('error', () => undefined);
  const shownUrl = conn.shownUrl;
  const failOpen = (err: unknown): RegistryError => {
    if (RegistryError.is(err)) {
      return new RegistryError(err.code, redactSecrets(err.message, conn.secrets));
    }
    const cause = redactSecrets(describeCause(err), conn.secrets);
    const pgCode = err instanceof Error ? (err as { code?: unknown }).code : undefined;
    const causeErr = Object.assign(new Error(cause), { code: pgCode });
    if (isConnectionError(err)) {
      return new RegistryError('UNAVAILABLE', `Cannot connect to PostgreSQL at ${shownUrl}: ${cause}.`, { cause: causeErr });
    }
    if (typeof pgCode === 'string' && (pgCode.startsWith('28') || pgCode === '3D000')) {
      return new RegistryError('INVALID_CONFIG', `Cannot open PostgreSQL at ${shownUrl}: ${cause}. Check url and password.`, { cause: causeErr });
    }
    if (pgCode === '42501') {
      return new RegistryError('UNAVAILABLE', `PostgreSQL at ${shownUrl} refused to set up the registry table: ${cause}.`, { cause: causeErr });
    }
    return new RegistryError('UNAVAILABLE', `Cannot open the registry in PostgreSQL at ${shownUrl}: ${cause}.`, { cause: causeErr });
  };
  let registry: PostgresRegistry;
  let setup: SetupResult;
  try {
    const client = await pool.connect();
    let broken = false;
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      setup = await setupTable(client, schema, table);
    } catch (err) {
      broken ||= isConnectionError(err);
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
    registry = new PostgresRegistry(config, pool, conn, setup);
    registry.addPid((client as unknown as { processID?: number }).processID);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw failOpen(err);
  }
  try {
    if (setup.pollReason === undefined) {
      await registry.startListening();
    } else {
      await registry.startPolling();
    }
    registry.startSweeping();
  } catch (err) {
    await registry.close().catch(() => undefined);
    throw failOpen(err);
  }
  return registry;
}
