import { randomBytes } from 'node:crypto';
import { createClient, ErrorReply, TimeoutError } from 'redis';
import { alreadyExists, BaseRegistry, movedKey, notFound } from '../base';
import type { RawEntry } from '../base';
import { describeCause, RegistryError } from '../errors';
import { prefixEnd } from '../keys';
import { redactSecrets, redactUrl } from '../redact';
import type { ChildItem, ChildrenPage, Entry, RedisConfig, RegistryChange, RegistryDescription, RegistryStorage } from '../types';
import { configField, loneSurrogateAt, MAX_KEY_BYTES, showKey, validatePrefix } from '../validation';
import type { LuaScript } from './redisScripts';
import {
  ADOPT,
  CHILDREN,
  COUNT_RANGE,
  INSPECT,
  REMOVE,
  REMOVE_RANGE,
  RENAME,
  RENAME_PREFIX,
  SCAN_RANGE,
  SET_TTL,
} from './redisScripts';

type RedisClient = ReturnType<typeof createClient>;

/** The channel Nautilus writers publish change messages to when the server has no keyspace notifications. */
export function redisChangeChannel(db: number): string {
  return `nautilus-registry:changes:${db}`;
}

/** The sorted set that orders the registry's keys; U+0000 never occurs in a registry key. */
export function redisIndexKey(keyPrefix: string): string {
  return `${keyPrefix}\u0000index`;
}

/** A literal string as a Redis glob (SCAN MATCH, PSUBSCRIBE): `* ? [ ] \` match only themselves. */
export function redisGlobEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

const COUNT_CHUNK = 5_000;
/** A point command not answered within this fails with UNAVAILABLE (the server hangs or the network is gone). */
const POINT_TIMEOUT_MS = 5_000;
/** Commands over whole prefixes or thousands of keys. */
const BULK_TIMEOUT_MS = 120_000;
const SCAN_COUNT = 1_000;
/** Changes naming more keys than this are announced as one 'clear'. */
const MAX_NAMED_CHANGES = 1_000;
/** Keyspace events that leave a string value under the key / that remove the key. */
const STORE_EVENTS = new Set(['set', 'setrange', 'incrby', 'incrbyfloat', 'append', 'rename_to', 'copy_to', 'restore', 'move_to', 'expire', 'persist']);
const REMOVE_EVENTS = new Set(['del', 'expired', 'evicted', 'rename_from', 'move_from']);

interface ParsedConfig {
  url: string;
  display: string;
  username?: string;
  password?: string;
  secrets: string[];
  db: number;
  keyPrefix: string;
  connectTimeoutMs: number;
  rescanIntervalMs: number;
}

function parseConfig(config: RedisConfig): ParsedConfig {
  const raw = configField.string(config, 'url')!;
  const password = configField.string(config, 'password', { optional: true, nonEmpty: false });
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw configField.error('url', `must be a URL like redis://host:6379/0 (got ${JSON.stringify(redactUrl(raw))})`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw configField.error('url', `must start with redis:// or rediss:// (got ${JSON.stringify(redactUrl(raw))})`);
  }
  if (!u.hostname) {
    throw configField.error('url', `must name a host (got ${JSON.stringify(redactUrl(raw))})`);
  }
  const secrets: string[] = [];
  const urlPassword = u.password ? decodeURIComponent(u.password) : undefined;
  for (const s of [password, urlPassword, u.password]) {
    if (s) {
      secrets.push(s, encodeURIComponent(s));
    }
  }
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  let db = configField.integer(config, 'db', 0, 1_000_000);
  const path = u.pathname.replace(/^\/+/, '');
  if (path !== '') {
    if (!/^\d{1,7}$/.test(path)) {
      throw configField.error('url', `may only end in a database number like /0 (got ${JSON.stringify(redactUrl(raw))})`);
    }
    if (db !== undefined && db !== Number(path)) {
      throw configField.error('db', `(${db}) contradicts the database in url (${path})`);
    }
    db = Number(path);
  }
  db ??= 0;
  const keyPrefix = configField.string(config, 'keyPrefix', { optional: true, nonEmpty: false }) ?? 'nautilus:';
  try {
    validatePrefix(keyPrefix, 'keyPrefix');
  } catch (err) {
    throw configField.error('keyPrefix', `is not usable: ${(err as Error).message.replace(/\.$/, '')}`);
  }
  const connectTimeoutMs = configField.integer(config, 'connectTimeoutMs', 100, 600_000) ?? 5_000;
  const rescanIntervalMs = configField.integer(config, 'rescanIntervalMs', 0, 86_400_000) ?? 10_000;
  // The client gets the URL without credentials; they go in separate options.
  const bare = new URL(u.toString());
  bare.username = '';
  bare.password = '';
  bare.pathname = '';
  const display = `${redactUrl(raw).replace(/\/\d*$/, '')}/${db} keyPrefix ${JSON.stringify(keyPrefix)}`;
  return {
    url: bare.toString(),
    display,
    username,
    password: password ?? urlPassword,
    secrets,
    db,
    keyPrefix,
    connectTimeoutMs,
    rescanIntervalMs,
  };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Whether a key read back from Redis (another client wrote it) is a valid registry key. Cheaper
 * than validateKey: a string decoded from UTF-8 is always well-formed (bad bytes become U+FFFD,
 * and such a key then does not match the Redis key, so adoption skips it).
 */
function isValidKey(key: string): boolean {
  return key.length > 0 && !CONTROL.test(key) && (key.length * 3 <= MAX_KEY_BYTES || Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES);
}

/**
 * A lower bound for ZRANGE BYLEX. Redis compares UTF-8 bytes; a lone surrogate (possible in a
 * caller's `after`) has no UTF-8 form, so it is replaced by the well-formed bound that selects
 * exactly the keys compareKeys puts after it. Undefined: no key can follow.
 */
export function lexLowerBound(from: string, inclusive: boolean): string | undefined {
  const at = loneSurrogateAt(from);
  if (at < 0) {
    return (inclusive ? '[' : '(') + from;
  }
  const c = from.charCodeAt(at);
  const head = from.slice(0, at);
  if (c <= 0xdbff) {
    // A lone high surrogate sorts just before the code points it starts.
    return '[' + head + String.fromCharCode(c, 0xdc00);
  }
  // A lone low surrogate sorts after every well-formed string that starts with `head`.
  const end = prefixEnd(head);
  return end === undefined ? undefined : '[' + end;
}

function lexUpperBound(prefix: string): string {
  const end = prefixEnd(prefix);
  return end === undefined ? '+' : '(' + end;
}

type FeedMode = 'keyspace' | 'channel';

interface FeedItem {
  change: RegistryChange;
  /** Members to adopt into the index before the change is told. */
  adopt?: string[];
  /** Adopt by SCAN under this full Redis prefix before telling (another Nautilus with another keyPrefix moved keys). */
  sweep?: string;
}

/** A change message on the shared channel (keys and prefixes are full Redis keys). */
interface ChangeMessage {
  /** Writer id. */
  w: string;
  /** Writer's keyPrefix. */
  p: string;
  op: 'store' | 'remove' | 'removePrefix' | 'rename' | 'renamePrefix' | 'many';
  k?: string[];
  x?: string;
  f?: string;
  t?: string;
}

/**
 * The Redis backend. See redisScripts.ts for the data layout. One connection for commands, one
 * for change notifications; both reconnect by themselves, and commands issued while the
 * connection is down fail at once with UNAVAILABLE (no offline queue).
 */
export class RedisRegistry extends BaseRegistry {
  readonly clientName: string;
  private readonly id: string;
  private readonly kp: string;
  private readonly idx: string;
  private readonly markerChannel: string;
  private readonly changeChannel: string;
  private readonly ownMessageStart: string;
  private client!: RedisClient;
  private sub!: RedisClient;
  private mode: FeedMode = 'channel';
  private modeNote: string | undefined;
  private ever = false;
  private down = false;
  private lastCause: unknown;
  private recovering: Promise<void> | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private suppress = false;
  private suppressTimer: NodeJS.Timeout | undefined;
  private pendingFeed: FeedItem[] = [];
  private feedScheduled = false;
  private feedChain: Promise<void> = Promise.resolve();
  private warnedInvalid = false;

  private constructor(
    config: RedisConfig,
    private readonly cfg: ParsedConfig,
  ) {
    super(config);
    this.id = randomBytes(8).toString('hex');
    this.clientName = `nautilus-registry-${this.id}`;
    this.kp = cfg.keyPrefix;
    this.idx = redisIndexKey(cfg.keyPrefix);
    this.markerChannel = `nautilus-registry:echo:${this.id}`;
    this.changeChannel = redisChangeChannel(cfg.db);
    this.ownMessageStart = `{"w":${JSON.stringify(this.id)},`;
  }

  /** The namespace of this registry's keys in Redis. */
  get keyPrefix(): string {
    return this.kp;
  }

  static async open(config: RedisConfig): Promise<RedisRegistry> {
    const r = new RedisRegistry(config, parseConfig(config));
    try {
      await r.connect();
    } catch (err) {
      await r.teardown();
      throw err;
    }
    return r;
  }

  // ---- connection --------------------------------------------------------------------------

  private redact(message: string): string {
    return redactSecrets(message, this.cfg.secrets);
  }

  private async connect(): Promise<void> {
    const cfg = this.cfg;
    const reconnectStrategy = (retries: number, cause: Error): number | Error => {
      this.lastCause = cause;
      if (!this.ever || this.isClosed) {
        return new Error('gave up');
      }
      return Math.min(50 * 2 ** retries, 1_000);
    };
    this.client = createClient({
      url: cfg.url,
      username: cfg.username,
      password: cfg.password,
      database: cfg.db,
      name: this.clientName,
      disableOfflineQueue: true,
      socket: { connectTimeout: cfg.connectTimeoutMs, reconnectStrategy },
    });
    this.client.on('error', (err: unknown) => this.onConnectionError(err));
    this.client.on('ready', () => this.onReady());
    try {
      await this.client.connect();
    } catch (err) {
      throw this.connectError(this.lastCause ?? err);
    }
    this.sub = this.client.duplicate({ name: `${this.clientName}-sub` });
    this.sub.on('error', (err: unknown) => this.onConnectionError(err));
    this.sub.on('ready', () => this.onReady());
    try {
      await this.sub.connect();
    } catch (err) {
      throw this.connectError(this.lastCause ?? err);
    }
    this.ever = true;
    try {
      await this.checkVersion();
      await this.detectMode();
      await this.subscribe();
      await this.sweep(this.kp);
    } catch (err) {
      throw this.mapError('open the registry', err);
    }
    this.startRescan();
  }

  private connectError(err: unknown): RegistryError {
    const cause = describeCause(err);
    if (/WRONGPASS|NOAUTH|invalid password|invalid username|without any password configured/i.test(cause)) {
      return new RegistryError('INVALID_CONFIG', this.redact(`Redis at ${this.cfg.display} refused the credentials (${cause}); check the password.`));
    }
    if (/unknown command .?HELLO/i.test(cause)) {
      return new RegistryError('UNSUPPORTED', this.redact(`Redis at ${this.cfg.display} is older than 6.0 (${cause}); the registry needs Redis 6.2 or later.`));
    }
    if (/DB index is out of range/i.test(cause)) {
      return configField.error('db', `(${this.cfg.db}) does not exist on Redis at ${this.redact(this.cfg.display)} (${cause})`);
    }
    return new RegistryError('UNAVAILABLE', this.redact(`Cannot connect to Redis at ${this.cfg.display}: ${cause}.`));
  }

  private onConnectionError(err: unknown): void {
    if (!this.ever || this.isClosed) {
      return;
    }
    this.lastCause = err;
    if (!this.down) {
      this.down = true;
      this.logger.warn(this.redact(`Redis at ${this.cfg.display} is unavailable (${describeCause(err)}); reconnecting.`));
    }
  }

  private onReady(): void {
    if (!this.down || this.isClosed || !this.client.isReady || !this.sub?.isReady) {
      return;
    }
    this.down = false;
    this.logger.info(`Redis at ${this.redact(this.cfg.display)} is back.`);
    const run = async () => {
      // Changes may have been missed while the connection was down.
      this.suppress = false;
      try {
        const before = this.mode;
        await this.detectMode();
        if (before !== this.mode) {
          await this.sub.unsubscribe();
          await this.sub.pUnsubscribe();
          await this.subscribe();
        }
        await this.sweep(this.kp);
      } catch (err) {
        this.logger.warn(this.redact(`Redis recovery step failed: ${describeCause(err)}`));
      }
      if (!this.isClosed) {
        this.emit({ kind: 'clear', origin: 'external' });
      }
    };
    this.recovering = (this.recovering ?? Promise.resolve()).then(run);
  }

  /** ZRANGE … BYLEX, ZMSCORE and SCAN … TYPE need Redis 6.2. */
  private async checkVersion(): Promise<void> {
    const info = String(await this.send<unknown>(['INFO', 'server']));
    const m = /(?:redis|valkey)_version:(\d+)\.(\d+)/.exec(info);
    if (m && (Number(m[1]) < 6 || (Number(m[1]) === 6 && Number(m[2]) < 2))) {
      throw new RegistryError('UNSUPPORTED', this.redact(`Redis at ${this.cfg.display} is version ${m[1]}.${m[2]}; the registry needs Redis 6.2 or later.`));
    }
  }

  /** Keyspace notifications when the server sends what we need (K plus generic and string events), else our channel. */
  private async detectMode(): Promise<void> {
    let flags: string | undefined;
    let refused: string | undefined;
    try {
      flags = readConfigValue(await this.send<unknown>(['CONFIG', 'GET', 'notify-keyspace-events']));
    } catch (err) {
      refused = describeCause(err);
    }
    const before = this.modeNote;
    if (flags !== undefined && flags.includes('K') && (flags.includes('A') || (flags.includes('g') && flags.includes('$')))) {
      this.mode = 'keyspace';
      this.modeNote = `Change feed: keyspace notifications (notify-keyspace-events is "${flags}").`;
    } else {
      this.mode = 'channel';
      const why = refused !== undefined ? `CONFIG GET was refused: ${refused}` : `notify-keyspace-events is "${flags ?? ''}"`;
      const rescan = this.cfg.rescanIntervalMs > 0 ? `every ${this.cfg.rescanIntervalMs} ms` : 'only on open and after a reconnect';
      this.modeNote = `Change feed: channel ${this.changeChannel}, which Nautilus writers publish to (${why}); keys written by other Redis clients are looked for ${rescan}.`;
    }
    if (this.modeNote !== before) {
      this.logger.info(this.redact(`Redis registry ${this.cfg.display}: ${this.modeNote}`));
    }
  }

  private async subscribe(): Promise<void> {
    if (this.mode === 'keyspace') {
      await this.sub.subscribe(this.markerChannel, (message: string) => this.onMarker(message));
      const prefix = `__keyspace@${this.cfg.db}__:`;
      await this.sub.pSubscribe(`${prefix}${redisGlobEscape(this.kp)}*`, (event: string, channel: string) => {
        this.onKeyspaceEvent(channel.slice(prefix.length), event);
      });
    } else {
      await this.sub.subscribe(this.changeChannel, (message: string) => this.onChangeMessage(message));
    }
  }

  private startRescan(): void {
    if (this.cfg.rescanIntervalMs > 0) {
      this.rescanTimer = setInterval(() => {
        if (this.mode === 'channel' && !this.down && !this.isClosed && this.client.isReady) {
          this.feedChain = this.feedChain.then(() => this.rescan());
        }
      }, this.cfg.rescanIntervalMs);
      this.rescanTimer.unref();
    }
  }

  /** The three notify arguments of a write (channel, message before, message after; see redisScripts.ts). */
  private notifyArgs(message: () => Omit<ChangeMessage, 'w' | 'p'>): [string, string, string] {
    if (this.mode === 'keyspace') {
      return [this.markerChannel, 'b', 'e'];
    }
    return [this.changeChannel, '', JSON.stringify({ w: this.id, p: this.kp, ...message() })];
  }

  /** Runs one operation; `what` (built only when needed) names it in an error message. */
  private async run<T>(what: () => string, f: () => Promise<T>): Promise<T> {
    if (!this.client.isReady) {
      throw this.unavailable(what(), this.lastCause ?? new Error('not connected'));
    }
    try {
      return await f();
    } catch (err) {
      throw this.mapError(what(), err);
    }
  }

  private unavailable(what: string, cause: unknown): RegistryError {
    if (cause instanceof TimeoutError) {
      return new RegistryError(
        'UNAVAILABLE',
        this.redact(`Cannot ${what}: Redis at ${this.cfg.display} did not answer in time; a change may or may not have been made. Try again.`),
      );
    }
    return new RegistryError(
      'UNAVAILABLE',
      this.redact(`Cannot ${what}: Redis at ${this.cfg.display} is unavailable (${describeCause(cause)}); the registry reconnects by itself, try again.`),
    );
  }

  private mapError(what: string, err: unknown): RegistryError {
    if (RegistryError.is(err)) {
      return err;
    }
    if (this.isClosed) {
      return new RegistryError('CLOSED', 'The redis registry is closed; open it again to use it.');
    }
    if (err instanceof ErrorReply) {
      const msg = err.message;
      const code = msg.startsWith('WRONGTYPE') ? 'CORRUPT' : msg.startsWith('NOPERM') ? 'UNSUPPORTED' : 'UNAVAILABLE';
      return new RegistryError(code, this.redact(`Cannot ${what}: Redis at ${this.cfg.display} answered: ${msg}`));
    }
    return this.unavailable(what, err);
  }

  /**
   * One command. Point commands time out after POINT_TIMEOUT_MS (a server that stopped answering
   * fails the call instead of hanging it); bulk ones (whole prefixes, thousands of keys) get longer.
   */
  private send<T>(args: readonly string[], bulk = false): Promise<T> {
    return this.client.sendCommand(args, { timeout: bulk ? BULK_TIMEOUT_MS : POINT_TIMEOUT_MS }) as Promise<T>;
  }

  private async evalScript<T>(script: LuaScript, keys: readonly string[], args: readonly string[], bulk = false): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.send<T>(['EVALSHA', script.sha, ...tail], bulk);
    } catch (err) {
      if (err instanceof ErrorReply && err.message.startsWith('NOSCRIPT')) {
        return await this.send<T>(['EVAL', script.source, ...tail], bulk);
      }
      throw err;
    }
  }

  private full(key: string): string {
    return this.kp + key;
  }

  // ---- change feed -------------------------------------------------------------------------

  /**
   * 'b' and 'e' bracket the notifications of one of our own writes. Should a write script fail
   * between them (the server ran out of memory mid-script), the 'e' never comes: the bracket
   * closes by itself after a while so that other clients' changes are not muted for good.
   */
  private onMarker(message: string): void {
    clearTimeout(this.suppressTimer);
    this.suppress = message === 'b';
    if (this.suppress) {
      this.suppressTimer = setTimeout(() => (this.suppress = false), 2_000);
      this.suppressTimer.unref();
    }
  }

  private onKeyspaceEvent(fullKey: string, event: string): void {
    if (this.suppress || this.isClosed || !fullKey.startsWith(this.kp)) {
      return;
    }
    const key = fullKey.slice(this.kp.length);
    if (fullKey === this.idx) {
      if (event === 'del') {
        // Someone deleted the index: rebuild it from the value keys.
        this.enqueue({ change: { kind: 'clear', origin: 'external' }, sweep: this.kp });
      }
      return;
    }
    if (!isValidKey(key)) {
      return;
    }
    if (STORE_EVENTS.has(event)) {
      this.enqueue({ change: { kind: 'store', key, origin: 'external' }, adopt: [key] });
    } else if (REMOVE_EVENTS.has(event)) {
      this.enqueue({ change: { kind: 'remove', key, origin: 'external' } });
    }
  }

  private onChangeMessage(raw: string): void {
    if (this.isClosed) {
      return;
    }
    if (raw.startsWith(this.ownMessageStart)) {
      return; // our own change, already told as local (checked before paying for JSON.parse)
    }
    let m: ChangeMessage;
    try {
      m = JSON.parse(raw) as ChangeMessage;
    } catch {
      return;
    }
    if (m.w === this.id) {
      return;
    }
    const sameIndex = m.p === this.kp;
    const rel = (full: string | undefined): string | undefined =>
      full !== undefined && full.startsWith(this.kp) && isValidKey(full.slice(this.kp.length)) ? full.slice(this.kp.length) : undefined;
    /** How a full prefix relates to ours: the relative prefix, 'all' (covers everything of ours), or undefined. */
    const relPrefix = (full: string | undefined): string | 'all' | undefined =>
      full === undefined ? undefined : full.startsWith(this.kp) ? full.slice(this.kp.length) || 'all' : this.kp.startsWith(full) ? 'all' : undefined;
    const clear: RegistryChange = { kind: 'clear', origin: 'external' };
    switch (m.op) {
      case 'store':
      case 'remove':
        for (const full of m.k ?? []) {
          const key = rel(full);
          if (key !== undefined) {
            this.enqueue(
              m.op === 'store'
                ? { change: { kind: 'store', key, origin: 'external' }, adopt: sameIndex ? undefined : [key] }
                : { change: { kind: 'remove', key, origin: 'external' } },
            );
          }
        }
        break;
      case 'many':
        if (m.k) {
          const keys = m.k.map(rel).filter((k): k is string => k !== undefined);
          keys.forEach((key, i) =>
            this.enqueue({ change: { kind: 'store', key, origin: 'external' }, adopt: sameIndex || i > 0 ? undefined : keys }),
          );
        } else {
          const p = relPrefix(m.x);
          if (p !== undefined) {
            this.enqueue({ change: clear, sweep: sameIndex ? undefined : this.kp });
          }
        }
        break;
      case 'removePrefix': {
        const p = relPrefix(m.x);
        if (p === 'all') {
          this.enqueue({ change: clear });
        } else if (p !== undefined) {
          this.enqueue({ change: { kind: 'removePrefix', prefix: p, origin: 'external' } });
        }
        break;
      }
      case 'rename': {
        const from = rel(m.f);
        const to = rel(m.t);
        if (from !== undefined && to !== undefined) {
          this.enqueue({ change: { kind: 'rename', from, to, origin: 'external' }, adopt: sameIndex ? undefined : [to] });
        } else if (from !== undefined) {
          this.enqueue({ change: { kind: 'remove', key: from, origin: 'external' } });
        } else if (to !== undefined) {
          this.enqueue({ change: { kind: 'store', key: to, origin: 'external' }, adopt: sameIndex ? undefined : [to] });
        }
        break;
      }
      case 'renamePrefix': {
        const from = relPrefix(m.f);
        const to = relPrefix(m.t);
        if (sameIndex && from !== undefined && from !== 'all' && to !== undefined && to !== 'all') {
          this.enqueue({ change: { kind: 'rename', from, to, prefix: from, origin: 'external' } });
        } else if (from !== undefined || to !== undefined) {
          this.enqueue({ change: clear, sweep: sameIndex ? undefined : m.t });
        }
        break;
      }
    }
  }

  private enqueue(item: FeedItem): void {
    this.pendingFeed.push(item);
    if (this.feedScheduled) {
      return;
    }
    this.feedScheduled = true;
    setImmediate(() => {
      this.feedScheduled = false;
      const batch = this.pendingFeed;
      this.pendingFeed = [];
      this.feedChain = this.feedChain.then(() => this.deliver(batch));
    });
  }

  /** Adopts what the batch needs into the index, then tells the listeners, in order. */
  private async deliver(batch: FeedItem[]): Promise<void> {
    if (this.isClosed) {
      return;
    }
    const adopt = new Set<string>();
    const sweeps = new Set<string>();
    for (const item of batch) {
      item.adopt?.forEach((k) => adopt.add(k));
      if (item.sweep !== undefined) {
        sweeps.add(item.sweep);
      }
    }
    try {
      if (adopt.size > 0) {
        await this.adopt([...adopt]);
      }
      for (const p of sweeps) {
        await this.sweep(p);
      }
    } catch (err) {
      this.logger.warn(this.redact(`Could not index keys written by another client: ${describeCause(err)}`));
    }
    let clears = 0;
    for (const item of batch) {
      if (this.isClosed) {
        return;
      }
      // One 'clear' says it all: skip repeated ones in a batch.
      if (item.change.kind === 'clear' && clears++ > 0) {
        continue;
      }
      this.emit(item.change);
    }
  }

  /** Adopts keys other clients wrote since the last look, and tells about them. */
  private async rescan(): Promise<void> {
    let added: string[];
    try {
      added = await this.sweep(this.kp);
    } catch (err) {
      this.logger.warn(this.redact(`Could not look for keys written by other clients: ${describeCause(err)}`));
      return;
    }
    if (this.isClosed || added.length === 0) {
      return;
    }
    if (added.length > MAX_NAMED_CHANGES) {
      this.emit({ kind: 'clear', origin: 'external' });
    } else {
      added.forEach((key) => this.emit({ kind: 'store', key, origin: 'external' }));
    }
  }

  private async adopt(members: string[]): Promise<string[]> {
    const calls: Promise<string[]>[] = [];
    for (let i = 0; i < members.length; i += SCAN_COUNT) {
      calls.push(this.evalScript<string[]>(ADOPT, [this.idx], [this.kp, ...members.slice(i, i + SCAN_COUNT)], true));
    }
    return (await Promise.all(calls)).flat().map(String);
  }

  /**
   * Adopts into the index every string key under the full Redis prefix `fullPrefix` that other
   * clients wrote (SCAN; the prefix is matched literally). Returns the members added.
   */
  private async sweep(fullPrefix: string): Promise<string[]> {
    if (!fullPrefix.startsWith(this.kp) && !this.kp.startsWith(fullPrefix)) {
      return [];
    }
    const match = redisGlobEscape(fullPrefix.length > this.kp.length ? fullPrefix : this.kp) + '*';
    const added: string[] = [];
    let invalid = 0;
    let example = '';
    let cursor = '0';
    // Adoption batches are pipelined behind the SCAN pages; awaited together at the end.
    const adopting: Promise<void>[] = [];
    do {
      const reply = await this.send<[string, string[]]>(['SCAN', cursor, 'MATCH', match, 'COUNT', String(5 * SCAN_COUNT), 'TYPE', 'string'], true);
      cursor = String(reply[0]);
      const members: string[] = [];
      for (const full of reply[1]) {
        const key = full.slice(this.kp.length);
        if (isValidKey(key)) {
          members.push(key);
        } else {
          invalid++;
          example ||= key;
        }
      }
      if (members.length > 0) {
        adopting.push(this.adopt(members).then((a) => void added.push(...a)));
      }
    } while (cursor !== '0');
    await Promise.all(adopting);
    if (invalid > 0 && !this.warnedInvalid) {
      this.warnedInvalid = true;
      this.logger.warn(
        this.redact(`${invalid} Redis key(s) under ${JSON.stringify(this.kp)} are not valid registry keys (e.g. ${showKey(example)}) and are not shown.`),
      );
    }
    return added;
  }

  // ---- primitives --------------------------------------------------------------------------

  describe(): RegistryDescription {
    const state = this.isClosed ? 'closed' : this.client?.isReady && !this.down ? 'open' : 'unavailable';
    const d: RegistryDescription = { backend: 'redis', location: this.redact(this.cfg.display), readOnly: false, state };
    if (this.modeNote) {
      d.notes = [this.redact(this.modeNote)];
    }
    return d;
  }

  /**
   * MULTI with the value, its index entry and the change notification: the same commands a raw
   * client keeping an index would send, atomic, one round trip.
   */
  protected async doStore(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    const full = this.full(key);
    await this.run(
      () => `store ${showKey(key)}`,
      () => {
        const [chan, begin, end] = this.notifyArgs(() => ({ op: 'store', k: [full] }));
        const multi = this.client.multi();
        if (begin !== '') {
          multi.addCommand(['PUBLISH', chan, begin]);
        }
        multi.addCommand(ttlMs === undefined ? ['SET', full, value] : ['SET', full, value, 'PX', String(ttlMs)]);
        multi.addCommand(['ZADD', this.idx, '0', key]);
        multi.addCommand(['PUBLISH', chan, end]);
        return withTimeout(multi.exec(), POINT_TIMEOUT_MS);
      },
    );
  }

  protected async doRetrieveMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 1) {
      const value = await this.run(() => `retrieve ${showKey(keys[0])}`, async () => {
        try {
          return await this.send<string | null>(['GET', this.full(keys[0])]);
        } catch (err) {
          if (err instanceof ErrorReply && err.message.startsWith('WRONGTYPE')) {
            return null; // another client put a non-string there: not a registry key
          }
          throw err;
        }
      });
      return [value === null || value === undefined ? undefined : String(value)];
    }
    const reply = await this.run(() => `retrieve ${keys.length} keys`, () =>
      this.send<(string | null)[]>(['MGET', ...keys.map((k) => this.full(k))], keys.length > 1_000),
    );
    return reply.map((v) => (v === null ? undefined : String(v)));
  }

  protected async doInspect(key: string): Promise<RawEntry | undefined> {
    const reply = await this.run(() => `inspect ${showKey(key)}`, () => this.evalScript<[string, number] | null>(INSPECT, [this.full(key)], []));
    if (!reply) {
      return undefined;
    }
    const pttl = Number(reply[1]);
    return pttl >= 0 ? { value: String(reply[0]), expiresAt: Date.now() + pttl } : { value: String(reply[0]) };
  }

  protected async doRemove(key: string): Promise<boolean> {
    const full = this.full(key);
    const n = await this.run(() => `remove ${showKey(key)}`, () =>
      this.evalScript<number>(REMOVE, [full, this.idx], [...this.notifyArgs(() => ({ op: 'remove', k: [full] })), key]),
    );
    return Number(n) > 0;
  }

  protected async doContains(key: string): Promise<boolean> {
    const n = await this.run(() => `look up ${showKey(key)}`, () => this.send<number>(['EXISTS', this.full(key)]));
    return Number(n) > 0;
  }

  protected async scanKeys(from: string, inclusive: boolean, prefix: string, limit: number): Promise<string[]> {
    const min = lexLowerBound(from, inclusive);
    if (min === undefined) {
      return [];
    }
    const reply = await this.run(() => 'list keys', () =>
      this.evalScript<string[]>(SCAN_RANGE, [this.idx], [this.kp, min, lexUpperBound(prefix), String(limit)]),
    );
    return reply.map(String);
  }

  /** The base class's skip-scan, run inside Redis: one round trip per page, whatever the folders hold. */
  protected override async childrenScan(prefix: string, separator: string, after: string | undefined, limit: number): Promise<ChildrenPage> {
    const start = this.childrenStart(prefix, separator, after);
    if (start === undefined) {
      return { items: [] };
    }
    const { from, inclusive } = start;
    const min = lexLowerBound(from, inclusive);
    if (min === undefined) {
      return { items: [] };
    }
    const reply = await this.run(() => `list the children of ${showKey(prefix)}`, () =>
      this.evalScript<string[]>(CHILDREN, [this.idx], [this.kp, prefix, separator, min, lexUpperBound(prefix), String(limit + 1)]),
    );
    const items: ChildItem[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      items.push({ kind: String(reply[i]) === 'f' ? 'folder' : 'key', key: String(reply[i + 1]) });
    }
    if (items.length > limit) {
      items.length = limit;
      return { items, next: items[limit - 1].key };
    }
    return { items };
  }

  protected async doCount(prefix: string): Promise<number> {
    return this.run(() => 'count keys', async () => {
      let min = '[' + prefix;
      if (prefix === '') {
        min = '-';
      }
      const max = lexUpperBound(prefix);
      let total = 0;
      for (;;) {
        const [n, last] = await this.evalScript<[number, string | null]>(COUNT_RANGE, [this.idx], [this.kp, min, max, String(COUNT_CHUNK)], true);
        total += Number(n);
        if (last === null || last === undefined) {
          return total;
        }
        min = '(' + String(last);
      }
    });
  }

  protected async doStoreMany(entries: readonly Entry[]): Promise<void> {
    await this.run(() => `store ${entries.length} keys`, async () => {
      const multi = this.client.multi();
      const [chan, begin, end] = this.notifyArgs(() =>
        entries.length <= MAX_NAMED_CHANGES ? { op: 'many', k: entries.map((e) => this.full(e.key)) } : { op: 'many', x: this.kp },
      );
      if (begin !== '') {
        multi.addCommand(['PUBLISH', chan, begin]);
      }
      let mset: string[] = [];
      let zadd: string[] = [];
      const flush = () => {
        if (mset.length > 0) {
          multi.addCommand(['MSET', ...mset]);
          mset = [];
        }
        if (zadd.length > 0) {
          multi.addCommand(['ZADD', this.idx, ...zadd]);
          zadd = [];
        }
      };
      for (const e of entries) {
        if (e.ttlMs === undefined) {
          mset.push(this.full(e.key), e.value);
        } else {
          multi.addCommand(['SET', this.full(e.key), e.value, 'PX', String(e.ttlMs)]);
        }
        zadd.push('0', e.key);
        if (zadd.length >= 2 * SCAN_COUNT) {
          flush();
        }
      }
      flush();
      multi.addCommand(['PUBLISH', chan, end]);
      await withTimeout(multi.exec(), BULK_TIMEOUT_MS);
    });
  }

  protected async doRemovePrefix(prefix: string): Promise<number> {
    const fullPrefix = this.full(prefix);
    return this.run(() => `remove the keys under ${showKey(prefix)}`, async () => {
      await this.sweep(fullPrefix);
      const notify = this.notifyArgs(() => ({ op: 'removePrefix', x: fullPrefix }));
      const args = [...notify, this.kp, prefix === '' ? '-' : '[' + prefix, lexUpperBound(prefix)];
      return Number(await this.evalScript<number>(REMOVE_RANGE, [this.idx], args, true));
    });
  }

  protected async doRename(from: string, to: string, overwrite: boolean): Promise<void> {
    const f = this.full(from);
    const t = this.full(to);
    const status = await this.run(() => `rename ${showKey(from)}`, () =>
      this.evalScript<string>(RENAME, [f, t, this.idx], [...this.notifyArgs(() => ({ op: 'rename', f, t })), from, to, overwrite ? '1' : '']),
    );
    if (String(status) === 'NOT_FOUND') {
      throw notFound(from);
    }
    if (String(status) === 'EXISTS') {
      throw alreadyExists(to);
    }
  }

  protected async doRenamePrefix(from: string, to: string, overwrite: boolean): Promise<number> {
    const f = this.full(from);
    const t = this.full(to);
    const reply = await this.run(() => `rename the keys under ${showKey(from)}`, async () => {
      await this.sweep(f);
      const notify = this.notifyArgs(() => ({ op: 'renamePrefix', f, t }));
      const args = [...notify, this.kp, from, to, '[' + from, lexUpperBound(from), overwrite ? '1' : '', String(MAX_KEY_BYTES)];
      return this.evalScript<[string, string | number]>(RENAME_PREFIX, [this.idx], args, true);
    });
    const status = String(reply[0]);
    if (status === 'EXISTS') {
      throw alreadyExists(String(reply[1]));
    }
    if (status === 'INVALID') {
      movedKey(String(reply[1]), from, to); // throws the INVALID_KEY that names the key
      throw new RegistryError('INVALID_KEY', `Moving ${showKey(String(reply[1]))} under ${showKey(to)} would make an invalid key.`);
    }
    return Number(reply[1]);
  }

  protected async doSetTtl(key: string, ttlMs: number | undefined): Promise<boolean> {
    const full = this.full(key);
    const n = await this.run(() => `set the expiry of ${showKey(key)}`, () =>
      this.evalScript<number>(SET_TTL, [full, this.idx], [...this.notifyArgs(() => ({ op: 'store', k: [full] })), key, ttlMs === undefined ? '' : String(ttlMs)]),
    );
    return Number(n) > 0;
  }

  protected async doClose(): Promise<void> {
    await this.teardown();
  }

  private async teardown(): Promise<void> {
    if (this.rescanTimer) {
      clearInterval(this.rescanTimer);
      this.rescanTimer = undefined;
    }
    clearTimeout(this.suppressTimer);
    await this.feedChain.catch(() => undefined);
    for (const c of [this.sub, this.client]) {
      if (!c) {
        continue;
      }
      try {
        if (c.isReady) {
          await c.close();
        } else if (c.isOpen) {
          c.destroy();
        }
      } catch {
        c.destroy();
      }
    }
  }
}

/** node-redis gives MULTI no timeout: a server that stopped answering fails the call after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** CONFIG GET's reply is a flat array in RESP2 and a map in RESP3. */
function readConfigValue(reply: unknown): string | undefined {
  if (Array.isArray(reply)) {
    return reply.length >= 2 ? String(reply[1]) : undefined;
  }
  if (reply instanceof Map) {
    const v = [...reply.values()][0];
    return v === undefined ? undefined : String(v);
  }
  if (reply && typeof reply === 'object') {
    const v = Object.values(reply as Record<string, unknown>)[0];
    return v === undefined ? undefined : String(v);
  }
  return undefined;
}

export async function openRedisRegistry(config: RedisConfig): Promise<RegistryStorage> {
  return RedisRegistry.open(config);
}
