/**
 * The engine side of the sqlite worker: serves one registry over a message port (sqliteProtocol.ts).
 * No Node API here: the thread entry (sqliteThread.ts on Node) hands in the port, the function that
 * opens the engine and, unless the files are reached through the proxy, the local file seam.
 */
import { childrenWithValues, listWithValues } from '../withValues';
import { RegistryError } from '../errors';
import type { ChildrenOptions, ListOptions, RegistryDescription, RegistryLogger, RegistryStorage, SqliteConfig } from '../types';
import { markHandedOver } from './sqliteFiles';
import type { FileAppender, FileLock, RegistryFileSystem } from './sqliteFiles';
import { batchingSender, CHILDREN_WITH_VALUES_CALL, FORWARDED_METHODS, LIST_WITH_VALUES_CALL, fromPortable, packReplyValue, settleReply, toPortable } from './sqliteProtocol';
import type { FromEngine, LockGrant, MessagePortLike, RemoteFsOp, ToEngine, Waiting } from './sqliteProtocol';

export interface EngineDeps {
  open(config: SqliteConfig): Promise<RegistryStorage>;
  /** The file seam of this thread; absent where the engine can only reach files through the proxy. */
  localFiles?: () => RegistryFileSystem;
  /** Called once a registry is open, e.g. to let go of what the open read and no longer needs, such as the journal (a garbage collection). */
  afterOpen?: () => void;
  /** Called once a registry is closed, e.g. to let go of its database before the thread is reused. */
  afterClose?: () => void;
  /** Runs a function soon, after the calls and replies of this turn (Node: setImmediate); default setTimeout 0. */
  defer?: (fn: () => void) => void;
}

/** The lock was taken by the proxy, which holds it across engine restarts: the engine only learns the outcome. */
function withGrantedLock(files: RegistryFileSystem, grant: LockGrant): RegistryFileSystem {
  return {
    read: (p) => files.read(p),
    openAppender: (p) => files.openAppender(p),
    replace: (p, d) => files.replace(p, d),
    moveAside: (p, s) => files.moveAside(p, s),
    remove: (p) => files.remove(p),
    lock: async (): Promise<FileLock> => {
      if (!grant.held) {
        throw fromPortable(grant.error);
      }
      return { holder: grant.holder, release: async () => undefined };
    },
  };
}

/** The proxy's file seam, reached by messages. */
function remoteFiles(request: (req: RemoteFsOp) => Promise<unknown>): RegistryFileSystem {
  const notUsed = async (): Promise<FileLock> => {
    throw new RegistryError('UNAVAILABLE', 'The lock is taken by the registry proxy.');
  };
  return {
    read: async (path) => {
      // A message's bytes are this thread's own (copied or moved here): nobody else holds them.
      const bytes = (await request({ op: 'read', path })) as Uint8Array | undefined;
      return bytes && markHandedOver(bytes);
    },
    openAppender: async (path): Promise<FileAppender> => {
      const handle = (await request({ op: 'openAppender', path })) as number;
      return {
        append: async (data) => void (await request({ op: 'append', handle, data })),
        sync: async () => void (await request({ op: 'sync', handle })),
        close: async () => void (await request({ op: 'closeAppender', handle })),
      };
    },
    replace: async (path, data) => void (await request({ op: 'replace', path, data })),
    moveAside: async (path, suffix) => (await request({ op: 'moveAside', path, suffix })) as string,
    remove: async (path) => void (await request({ op: 'remove', path })),
    lock: notUsed,
  };
}

export function serveSqlite(port: MessagePortLike<ToEngine, FromEngine>, deps: EngineDeps): void {
  const out = batchingSender<FromEngine>((m) => port.post(m as FromEngine), deps.defer ?? ((fn) => void setTimeout(fn, 0)));
  const send = out.send;
  /** Calls received and not answered yet: the last answer goes out at once, earlier ones wait to share a message. */
  let active = 0;
  const answer = (reply: FromEngine): void => {
    active--;
    send(reply);
    if (active === 0) {
      out.flush();
    }
  };
  let registry: RegistryStorage | undefined;
  let opening: Promise<void> | undefined;
  let lastDesc: RegistryDescription | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let nextFsId = 1;
  const fsWaiting = new Map<number, Waiting>();

  const logger: RegistryLogger = {
    info: (text) => send({ t: 'log', level: 'info', text }),
    warn: (text) => send({ t: 'log', level: 'warn', text }),
    error: (text) => send({ t: 'log', level: 'error', text }),
  };

  /** The description, when it changed since the proxy last saw it. */
  const changedDesc = (): RegistryDescription | undefined => {
    if (!registry) {
      return undefined;
    }
    const d = registry.describe();
    if (lastDesc !== undefined && sameDescription(d, lastDesc)) {
      return undefined;
    }
    lastDesc = d;
    return d;
  };

  const request = (req: RemoteFsOp): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextFsId++;
      fsWaiting.set(id, { resolve, reject });
      send({ t: 'fs', id, req });
    });

  async function open(msg: Extract<ToEngine, { t: 'open' }>): Promise<void> {
    registry = undefined;
    lastDesc = undefined;
    try {
      const base = msg.remoteFs || !deps.localFiles ? remoteFiles(request) : deps.localFiles();
      registry = await deps.open({ ...msg.config, logger, fileSystem: withGrantedLock(base, msg.lock) });
      registry.onDidChange((c) => send({ t: 'event', c }));
      const d = registry.describe();
      lastDesc = d;
      send({ t: 'opened', d });
      deps.afterOpen?.();
      // Background work (a compaction that fails, a journal that cannot be written) can change
      // the description without a call: look now and then.
      timer = setInterval(() => {
        const changed = changedDesc();
        if (changed) {
          send({ t: 'desc', d: changed });
        }
      }, 1000);
      (timer as { unref?: () => void }).unref?.();
    } catch (err) {
      send({ t: 'openFailed', err: toPortable(err) });
    }
  }

  const handle = (msg: ToEngine): void => {
    switch (msg.t) {
      case 'batch':
        msg.msgs.forEach(handle);
        return;
      case 'open':
        opening = open(msg);
        return;
      case 'fsReply':
        settleReply(fsWaiting, msg);
        return;
      case 'call': {
        const { id } = msg;
        active++;
        void (async () => {
          await opening;
          const r = registry;
          if (!r) {
            throw new RegistryError('UNAVAILABLE', 'The sqlite engine is not open.');
          }
          if (msg.m === CHILDREN_WITH_VALUES_CALL) {
            const [prefix, separator, options, valueChars] = msg.a as [string, string, ChildrenOptions | undefined, number | undefined];
            return childrenWithValues(r, prefix, separator, options, valueChars);
          }
          if (msg.m === LIST_WITH_VALUES_CALL) {
            const [options, valueChars] = msg.a as [ListOptions | undefined, number | undefined];
            return listWithValues(r, options, valueChars);
          }
          if (!(FORWARDED_METHODS as readonly string[]).includes(msg.m)) {
            throw new RegistryError('UNSUPPORTED', `The sqlite engine has no method ${String(msg.m)}.`);
          }
          const fn = (r as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[msg.m];
          return fn.apply(r, msg.a);
        })().then(
          (v) => answer({ t: 'reply', id, ok: true, ...packReplyValue(msg.m, v), d: changedDesc() }),
          (err: unknown) => answer({ t: 'reply', id, ok: false, err: toPortable(err), d: changedDesc() }),
        );
        return;
      }
      case 'close': {
        const { id } = msg;
        void (async () => {
          await opening;
          clearInterval(timer);
          await registry?.close();
        })().then(
          () => {
            send({ t: 'reply', id, ok: true, v: undefined, d: changedDesc() });
            deps.afterClose?.();
          },
          (err: unknown) => send({ t: 'reply', id, ok: false, err: toPortable(err) }),
        );
        return;
      }
    }
  };
  port.onMessage(handle);
}

/** Whether two descriptions say the same (cheaper than comparing their JSON on every reply). */
function sameDescription(a: RegistryDescription, b: RegistryDescription): boolean {
  if (a.backend !== b.backend || a.location !== b.location || a.readOnly !== b.readOnly || a.state !== b.state) {
    return false;
  }
  if (a.notes === undefined || b.notes === undefined) {
    return a.notes === b.notes;
  }
  const bn = b.notes;
  return a.notes.length === bn.length && a.notes.every((note, i) => note === bn[i]);
}
