/**
 * The sqlite registry as the caller's thread sees it: a RegistryStorage whose engine (sql.js, the
 * journal, group commit, compaction) runs in a `worker_threads` worker, so that loading, checking
 * and exporting a large database never blocks the caller's event loop (in VS Code: the extension
 * host, shared by every extension).
 *
 * - One call is one message each way (sqliteProtocol.ts); change events arrive before the reply.
 * - The proxy takes the lock file itself and holds it across engine restarts.
 * - If the worker dies (killed, out of memory), the calls in flight fail with UNAVAILABLE (they may
 *   or may not have been applied; every acknowledged change is in the journal), and a new worker
 *   reopens the files by itself: calls made meanwhile wait for it. Listeners then get `clear`.
 * - A custom file seam (`fileSystem` in the config) stays on this thread; the engine reaches it by
 *   messages.
 */
import type { ResourceLimits } from 'node:worker_threads';
import { CHILDREN_WITH_VALUES, LIST_WITH_VALUES } from '../withValues';
import type { ChildrenWithValues, ListWithValues } from '../withValues';
import { describeCause, RegistryError } from '../errors';
import type { ChildrenOptions, Disposable, ListOptions, RegistryChange, RegistryDescription, RegistryLogger, RegistryStorage, SqliteConfig } from '../types';
import { DEFAULT_LOCK_TIMEOUT_MS, LOCK_SUFFIX, openSqliteRegistry, validateSqliteConfig } from './sqlite';
import { engineWorkerUnavailable, startEngineWorker } from './sqliteEngineWorker';
import type { FileAppender, FileLock, RegistryFileSystem } from './sqliteFiles';
import { nodeFileSystem } from './sqliteNodeFiles';
import { CHILDREN_WITH_VALUES_CALL, fromPortable, LIST_WITH_VALUES_CALL, settleReply, toPortable } from './sqliteProtocol';
import type { CallMethod, FromEngine, LockGrant, PortableSqliteConfig, RemoteFsOp, ToEngine, Waiting } from './sqliteProtocol';
import type { EngineWorker as Worker } from './sqliteTransport';
export { sqliteWorkerScript } from './sqliteEngineWorker';

const silentLogger: RegistryLogger = { info() {}, warn() {}, error() {} };

/** After a worker died: how long file operations it had started may still be finishing. */
const SETTLE_MS = 250;
/** More deaths than this within RESTART_WINDOW_MS and the proxy stops restarting. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

/** Test hook (setWorkerLimitsForTests): heap limits of the engine threads started from now on. */
let limitsForTests: ResourceLimits | undefined;

/**
 * Test hook: starts the engine threads with these V8 heap limits (undefined: Node's defaults), so
 * that a test can run the engine out of memory with an ordinary large call. Not a user setting.
 */
export function setWorkerLimitsForTests(limits: ResourceLimits | undefined): void {
  limitsForTests = limits;
  void takeIdleWorker()?.terminate(); // it was started with other limits
}

/**
 * One worker whose registry was closed cleanly is kept for a few seconds: the next open (a
 * reopen after a settings change, a test) skips starting a thread and loading sql.js again.
 */
let idleWorker: { worker: Worker; timer: ReturnType<typeof setTimeout> } | undefined;
const IDLE_KEEP_MS = 5000;

function takeIdleWorker(): Worker | undefined {
  const idle = idleWorker;
  idleWorker = undefined;
  if (idle) {
    clearTimeout(idle.timer);
  }
  return idle?.worker;
}

function keepIdleWorker(worker: Worker): void {
  worker.removeAllListeners();
  worker.unref();
  const previous = takeIdleWorker();
  void previous?.terminate();
  const timer = setTimeout(() => {
    if (idleWorker?.worker === worker) {
      idleWorker = undefined;
    }
    void worker.terminate();
  }, IDLE_KEEP_MS);
  (timer as { unref?(): void }).unref?.(); // a number in a browser
  worker.on('error', () => undefined);
  worker.on('exit', () => {
    if (idleWorker?.worker === worker) {
      clearTimeout(idleWorker.timer);
      idleWorker = undefined;
    }
  });
  idleWorker = { worker, timer };
}

export class SqliteWorkerRegistry implements RegistryStorage {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private readonly listeners = new Set<(change: RegistryChange) => void>();
  private desc: RegistryDescription;
  private readonly logger: RegistryLogger;
  private readonly portable: PortableSqliteConfig;
  /** Set while a new worker is being started; calls wait for it. */
  private starting: Promise<void> | undefined;
  /** Set when the engine cannot be (re)started: every call fails with it. */
  private failure: RegistryError | undefined;
  private closing: Promise<void> | undefined;
  private deaths: number[] = [];
  /** File operations of the remote seam that are still running (a dead worker's too). */
  private readonly fsInFlight = new Set<Promise<unknown>>();
  private readonly appenders = new Map<number, FileAppender>();
  private nextHandle = 1;

  constructor(
    private readonly config: SqliteConfig,
    private readonly files: RegistryFileSystem,
    private readonly remoteFs: boolean,
    private readonly grant: LockGrant,
    private readonly lock: FileLock | undefined,
  ) {
    this.logger = config.logger ?? silentLogger;
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { logger, fileSystem, engineWorkerScript, ...rest } = config;
    this.portable = rest;
    this.desc = { backend: 'sqlite', location: config.file, readOnly: !grant.held, state: 'unavailable', notes: ['Opening…'] };
  }

  // ---- the worker ---------------------------------------------------------------------------

  /** Starts a worker and opens the engine in it; rejects with the engine's error. */
  start(): Promise<void> {
    const starting = new Promise<void>((resolve, reject) => {
      let worker: Worker;
      try {
        worker = takeIdleWorker() ?? startEngineWorker(this.config, limitsForTests);
        worker.removeAllListeners();
        worker.ref();
      } catch (err) {
        reject(new RegistryError('UNAVAILABLE', `Cannot start the sqlite engine thread for ${this.config.file}: ${describeCause(err)}.`, { cause: err }));
        return;
      }
      this.worker = worker;
      let opened = false;
      const receive = (msg: FromEngine): void => {
        if (msg.t === 'batch') {
          msg.msgs.forEach(receive);
        } else if (msg.t === 'opened') {
          opened = true;
          this.desc = msg.d;
          this.updateRef();
          resolve();
        } else if (msg.t === 'openFailed') {
          opened = true;
          this.worker = undefined;
          void worker.terminate();
          reject(fromPortable(msg.err));
        } else if (this.worker === worker) {
          this.onMessage(msg);
        }
      };
      worker.on('message', receive);
      let lastError: unknown;
      worker.on('error', (err) => (lastError = err));
      worker.on('exit', (code) => {
        if (this.worker !== worker) {
          return; // terminated on purpose
        }
        this.worker = undefined;
        const why = lastError !== undefined ? describeCause(lastError) : `exit code ${code}`;
        if (!opened) {
          reject(new RegistryError('UNAVAILABLE', `The sqlite engine thread for ${this.config.file} stopped while opening (${why}).`));
          return;
        }
        this.onDeath(why);
      });
      const msg: ToEngine = { t: 'open', config: this.portable, lock: this.grant, remoteFs: this.remoteFs };
      worker.postMessage(msg);
    });
    this.starting = starting;
    return starting.finally(() => {
      if (this.starting === starting) {
        this.starting = undefined;
      }
    });
  }

  /** The worker died under us: fail what was in flight, then reopen by ourselves. */
  private onDeath(why: string): void {
    const lost = new RegistryError(
      'UNAVAILABLE',
      `The sqlite engine of ${this.config.file} stopped unexpectedly (${why}); the call may or may not have been applied.` +
        ' Every change acknowledged before is safe; the registry reopens by itself.',
    );
    this.logger.error(lost.message);
    for (const w of this.waiting.values()) {
      w.reject(lost);
    }
    this.waiting.clear();
    if (this.closing) {
      return;
    }
    const now = Date.now();
    this.deaths = this.deaths.filter((t) => now - t < RESTART_WINDOW_MS);
    this.deaths.push(now);
    if (this.deaths.length > MAX_RESTARTS) {
      this.setFailure(
        new RegistryError(
          'UNAVAILABLE',
          `The sqlite engine of ${this.config.file} stopped ${this.deaths.length} times within a minute (last: ${why}); it is not restarted again.` +
            ' Every acknowledged change is safe on disk. See the log, then reopen the registry.',
        ),
      );
      return;
    }
    this.desc = { ...this.desc, state: 'unavailable', notes: [`Reopening: the engine stopped (${why}).`] };
    const restart = (async () => {
      // Let file operations the dead thread started finish before the new one reads the files.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await Promise.allSettled([...this.fsInFlight]);
      await this.closeAppenders();
      if (this.closing) {
        return;
      }
      try {
        await this.start();
        this.logger.info(`Reopened ${this.config.file} after its engine stopped.`);
        this.emit({ kind: 'clear', origin: 'external' });
      } catch (err) {
        this.setFailure(
          new RegistryError('UNAVAILABLE', `The sqlite engine of ${this.config.file} stopped and could not be reopened: ${describeCause(err)}`, { cause: err }),
        );
      }
    })();
    this.starting = restart;
    void restart.finally(() => {
      if (this.starting === restart) {
        this.starting = undefined;
      }
    });
  }

  private setFailure(err: RegistryError): void {
    this.failure = err;
    this.logger.error(err.message);
    this.desc = { ...this.desc, state: 'unavailable', notes: [err.message] };
    this.emit({ kind: 'clear', origin: 'external' });
  }

  private onMessage(msg: FromEngine): void {
    switch (msg.t) {
      case 'reply': {
        if (msg.d) {
          this.desc = msg.d;
        }
        settleReply(this.waiting, msg);
        this.updateRef();
        return;
      }
      case 'event':
        this.emit(msg.c);
        return;
      case 'desc':
        this.desc = msg.d;
        return;
      case 'log':
        this.logger[msg.level](msg.text);
        return;
      case 'fs':
        this.serveFs(msg.id, msg.req);
        return;
      case 'opened':
      case 'openFailed':
      case 'batch':
        return;
    }
  }

  /** The worker keeps the process alive only while a call waits for it (a script that forgets close() still exits). */
  private updateRef(): void {
    if (this.waiting.size > 0 || this.closing) {
      this.worker?.ref();
    } else {
      this.worker?.unref();
    }
  }

  // ---- the remote file seam -------------------------------------------------------------------

  private serveFs(id: number, req: RemoteFsOp): void {
    const op = this.fsOp(req);
    this.fsInFlight.add(op);
    const worker = this.worker;
    op.then(
      (v) => worker?.postMessage({ t: 'fsReply', id, ok: true, v } satisfies ToEngine),
      (err: unknown) => worker?.postMessage({ t: 'fsReply', id, ok: false, err: toPortable(err) } satisfies ToEngine),
    ).finally(() => this.fsInFlight.delete(op));
  }

  private async fsOp(req: RemoteFsOp): Promise<unknown> {
    switch (req.op) {
      case 'read':
        return this.files.read(req.path);
      case 'openAppender': {
        const a = await this.files.openAppender(req.path);
        const handle = this.nextHandle++;
        this.appenders.set(handle, a);
        return handle;
      }
      case 'append':
        return this.appender(req.handle).append(req.data);
      case 'sync':
        return this.appender(req.handle).sync();
      case 'closeAppender': {
        const a = this.appender(req.handle);
        this.appenders.delete(req.handle);
        return a.close();
      }
      case 'replace':
        return this.files.replace(req.path, req.data);
      case 'moveAside':
        return this.files.moveAside(req.path, req.suffix);
      case 'remove':
        return this.files.remove(req.path);
    }
  }

  private appender(handle: number): FileAppender {
    const a = this.appenders.get(handle);
    if (!a) {
      throw new Error(`no open journal appender #${handle}`);
    }
    return a;
  }

  private async closeAppenders(): Promise<void> {
    const all = [...this.appenders.values()];
    this.appenders.clear();
    await Promise.allSettled(all.map((a) => a.close()));
  }

  // ---- calls ----------------------------------------------------------------------------------

  private closedError(): RegistryError {
    return new RegistryError('CLOSED', 'The sqlite registry is closed; open it again to use it.');
  }

  private async call<T>(m: CallMethod, a: unknown[]): Promise<T> {
    if (this.closing) {
      throw this.closedError();
    }
    if (this.starting) {
      await this.starting.catch(() => undefined);
    }
    if (this.closing) {
      throw this.closedError();
    }
    if (this.failure) {
      throw this.failure;
    }
    const worker = this.worker;
    if (!worker) {
      throw new RegistryError('UNAVAILABLE', `The sqlite engine of ${this.config.file} is not running.`);
    }
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.outbox.push({ t: 'call', id, m, a });
    if (this.outbox.length === 1) {
      queueMicrotask(() => this.sendCalls(worker));
    }
    this.updateRef();
    return (await reply) as T;
  }

  /** Calls made in the same turn go as one message; one that cannot be copied fails alone. */
  private readonly outbox: Extract<ToEngine, { t: 'call' }>[] = [];

  private sendCalls(worker: Worker): void {
    const calls = this.outbox.splice(0);
    const fail = (c: Extract<ToEngine, { t: 'call' }>, err: unknown) => {
      const w = this.waiting.get(c.id);
      this.waiting.delete(c.id);
      w?.reject(this.worker === worker ? notCloneable(c.m, err) : new RegistryError('UNAVAILABLE', `The sqlite engine of ${this.config.file} stopped; the call was not made.`));
    };
    try {
      worker.postMessage(calls.length === 1 ? calls[0] : ({ t: 'batch', msgs: calls } satisfies ToEngine));
    } catch {
      for (const c of calls) {
        try {
          worker.postMessage(c satisfies ToEngine);
        } catch (err) {
          fail(c, err);
        }
      }
    }
    this.updateRef();
  }

  store(...a: Parameters<RegistryStorage['store']>): Promise<void> {
    return this.call('store', a);
  }
  retrieve(...a: Parameters<RegistryStorage['retrieve']>): ReturnType<RegistryStorage['retrieve']> {
    return this.call('retrieve', a);
  }
  retrieveMany(...a: Parameters<RegistryStorage['retrieveMany']>): ReturnType<RegistryStorage['retrieveMany']> {
    return this.call('retrieveMany', a);
  }
  remove(...a: Parameters<RegistryStorage['remove']>): ReturnType<RegistryStorage['remove']> {
    return this.call('remove', a);
  }
  contains(...a: Parameters<RegistryStorage['contains']>): ReturnType<RegistryStorage['contains']> {
    return this.call('contains', a);
  }
  inspect(...a: Parameters<RegistryStorage['inspect']>): ReturnType<RegistryStorage['inspect']> {
    return this.call('inspect', a);
  }
  list(...a: Parameters<RegistryStorage['list']>): ReturnType<RegistryStorage['list']> {
    return this.call('list', a);
  }
  children(...a: Parameters<RegistryStorage['children']>): ReturnType<RegistryStorage['children']> {
    return this.call('children', a);
  }
  /** A children page and its keys' values in one message each way (withValues.ts). */
  [CHILDREN_WITH_VALUES](prefix: string, separator: string, options: ChildrenOptions, valueChars: number | undefined): Promise<ChildrenWithValues> {
    return this.call(CHILDREN_WITH_VALUES_CALL, [prefix, separator, options, valueChars]);
  }
  /** A list page and its keys' values in one message each way (withValues.ts). */
  [LIST_WITH_VALUES](options: ListOptions, valueChars: number | undefined): Promise<ListWithValues> {
    return this.call(LIST_WITH_VALUES_CALL, [options, valueChars]);
  }
  count(...a: Parameters<RegistryStorage['count']>): ReturnType<RegistryStorage['count']> {
    return this.call('count', a);
  }
  storeMany(...a: Parameters<RegistryStorage['storeMany']>): ReturnType<RegistryStorage['storeMany']> {
    return this.call('storeMany', a);
  }
  removePrefix(...a: Parameters<RegistryStorage['removePrefix']>): ReturnType<RegistryStorage['removePrefix']> {
    return this.call('removePrefix', a);
  }
  rename(...a: Parameters<RegistryStorage['rename']>): ReturnType<RegistryStorage['rename']> {
    return this.call('rename', a);
  }
  renamePrefix(...a: Parameters<RegistryStorage['renamePrefix']>): ReturnType<RegistryStorage['renamePrefix']> {
    return this.call('renamePrefix', a);
  }
  setTtl(...a: Parameters<RegistryStorage['setTtl']>): ReturnType<RegistryStorage['setTtl']> {
    return this.call('setTtl', a);
  }

  onDidChange(listener: (change: RegistryChange) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(change: RegistryChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.logger.error(`A change listener threw: ${describeCause(err)}`);
      }
    }
  }

  describe(): RegistryDescription {
    const d = { ...this.desc, notes: this.desc.notes ? [...this.desc.notes] : undefined };
    if (!d.notes) {
      delete d.notes;
    }
    if (this.closing) {
      d.state = 'closed';
    }
    return d;
  }

  /** Test hook: the worker thread, to kill it on purpose. */
  get workerForTests(): Worker | undefined {
    return this.worker;
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.doClose().finally(() => this.listeners.clear());
      this.updateRef();
    }
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const worker = this.worker;
    try {
      if (worker) {
        const id = this.nextId++;
        const reply = new Promise<unknown>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
        worker.postMessage({ t: 'close', id } satisfies ToEngine);
        let clean = false;
        try {
          await reply;
          clean = true;
        } finally {
          this.worker = undefined;
          if (clean && this.waiting.size === 0) {
            keepIdleWorker(worker);
          } else {
            await worker.terminate();
          }
        }
      }
    } finally {
      await Promise.allSettled([...this.fsInFlight]);
      await this.closeAppenders();
      await this.lock?.release();
    }
  }
}

/** A value postMessage cannot copy (a function, a symbol): the in-thread registry would reject it as invalid too. */
function notCloneable(m: CallMethod, err: unknown): RegistryError {
  const code = m === 'store' || m === 'storeMany' ? 'INVALID_VALUE' : 'INVALID_KEY';
  return new RegistryError(code, `The arguments of ${m} hold a value that is not plain data (${describeCause(err)}); keys and values must be strings.`, {
    cause: err,
  });
}

/** Opens the sqlite registry with its engine in a worker thread. */
export async function openSqliteWorkerRegistry(config: SqliteConfig): Promise<RegistryStorage> {
  validateSqliteConfig(config);
  const noWorker = await engineWorkerUnavailable(config);
  if (noWorker !== undefined) {
    config.logger?.warn(`The sqlite engine of ${config.file} runs on this thread, not in a worker: ${noWorker}.`);
    return openSqliteRegistry({ ...config, thread: 'inline' });
  }
  const remoteFs = config.fileSystem !== undefined;
  const files = config.fileSystem ?? nodeFileSystem();
  const file = config.file;
  let lock: FileLock | undefined;
  let grant: LockGrant;
  try {
    lock = await files.lock(file + LOCK_SUFFIX, config.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    grant = { held: true, holder: lock.holder };
  } catch (err) {
    if (RegistryError.is(err, 'LOCKED') && config.readOnlyIfLocked) {
      grant = { held: false, error: toPortable(err) };
    } else if (RegistryError.is(err)) {
      throw err;
    } else {
      throw new RegistryError('UNAVAILABLE', `Cannot lock ${file}: ${describeCause(err)}.`, { cause: err });
    }
  }
  const registry = new SqliteWorkerRegistry(config, files, remoteFs, grant, lock);
  try {
    await registry.start();
  } catch (err) {
    await lock?.release().catch(() => undefined);
    throw err;
  }
  return registry;
}
