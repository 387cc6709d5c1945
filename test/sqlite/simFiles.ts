/**
 * A simulated file system for the sqlite backend's seam that models what survives a crash:
 * appended bytes are volatile until `sync`, `replace`/`moveAside`/`remove` are atomic and durable.
 * `crashImage()` gives the files as a crash at this instant would leave them (optionally with a
 * torn, partly persisted tail of unsynced appends). Faults can be injected per operation.
 */
import { RegistryError } from '../../src/registry/errors';
import type { FileAppender, FileLock, RegistryFileSystem } from '../../src/registry/backends/sqliteFiles';

export type SimOp = 'read' | 'openAppender' | 'append' | 'sync' | 'replace' | 'moveAside' | 'remove' | 'lock';

interface SimFile {
  /** What reads see. */
  current: Uint8Array;
  /** How many leading bytes of `current` are durable; bytes after it are unsynced appends. */
  durableLength: number;
}

export type CrashImage = Map<string, Uint8Array>;

export class SimFileSystem implements RegistryFileSystem {
  readonly files = new Map<string, SimFile>();
  private readonly locks = new Set<string>();
  readonly calls: Record<SimOp, number> = { read: 0, openAppender: 0, append: 0, sync: 0, replace: 0, moveAside: 0, remove: 0, lock: 0 };
  /** Called before every operation (e.g. to take a crash image). */
  onCall: ((op: SimOp, path: string) => void) | undefined;
  /** Makes the next call of this operation fail (once). */
  private faults = new Map<SimOp, Error>();
  /** Makes the next call of this operation take effect and then fail (once), like a rename whose folder fsync fails. */
  private lateFaults = new Map<SimOp, { err: Error; path?: string }>();
  /**
   * Paths whose last replace took effect but then failed (its folder sync did not happen): a crash
   * may bring back what was there before (the value; undefined: no file). The next successful
   * replace, moveAside or remove syncs the folder and makes every entry durable.
   */
  readonly uncertain = new Map<string, SimFile | undefined>();
  /** Every path a replace wrote (to check that nothing unreadable was overwritten). */
  readonly replaced: string[] = [];
  appendedBytes = 0;
  /** Operations so far (every kind), numbered from 1. */
  ops = 0;
  /** Makes operation number `index` fail once: before it takes effect, or (after) once it has. */
  failAt: { index: number; err: Error; after: boolean } | undefined;

  constructor(image?: CrashImage) {
    for (const [path, data] of image ?? []) {
      this.files.set(path, { current: data.slice(), durableLength: data.length });
    }
  }

  failNext(op: SimOp, err: Error = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })): void {
    this.faults.set(op, err);
  }

  /** The next call of `op` takes effect, then fails with `err` (for replace: the rename happened, the folder sync failed). */
  failNextAfter(op: SimOp, err: Error, path?: string): void {
    this.lateFaults.set(op, { err, path });
  }

  private late(op: SimOp, path: string): void {
    const fault = this.lateFaults.get(op);
    if (fault && (fault.path === undefined || fault.path === path)) {
      this.lateFaults.delete(op);
      throw fault.err;
    }
  }

  /** Every operation takes a turn of the event loop, like real I/O, so that others run meanwhile. */
  private async enter(op: SimOp, path: string): Promise<void> {
    this.calls[op]++;
    this.ops++;
    this.onCall?.(op, path);
    if (this.failAt?.index === this.ops) {
      if (!this.failAt.after) {
        throw this.failAt.err;
      }
      this.lateFaults.set(op, { err: this.failAt.err, path });
    }
    const fault = this.faults.get(op);
    if (fault) {
      this.faults.delete(op);
      throw fault;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * The files a crash now would leave. `torn` in [0, 1]: how much of each file's unsynced tail
   * persisted (0 = none, 1 = all); `garbage` adds bytes that were never written (zeros) after it.
   */
  crashImage(torn = 0, garbage = 0, options: { revertUncertain?: boolean; lostPages?: boolean } = {}): CrashImage {
    const out: CrashImage = new Map();
    const files = new Map(this.files);
    if (options.revertUncertain) {
      for (const [path, before] of this.uncertain) {
        if (before) {
          files.set(path, before);
        } else {
          files.delete(path);
        }
      }
    }
    for (const [path, f] of files) {
      if (options.lostPages && f.current.length > f.durableLength) {
        // The whole unsynced tail reached the file except its first part: a later page of one
        // append survived, an earlier one did not (it reads back as zeros).
        const data = f.current.slice();
        const lost = Math.max(1, Math.floor((f.current.length - f.durableLength) / 2));
        data.fill(0, f.durableLength, f.durableLength + lost);
        out.set(path, data);
        continue;
      }
      const extra = Math.floor((f.current.length - f.durableLength) * torn);
      const keep = f.current.subarray(0, f.durableLength + extra);
      const data = new Uint8Array(keep.length + (extra > 0 ? garbage : 0));
      data.set(keep);
      out.set(path, data);
    }
    return out;
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    await this.enter('read', path);
    return this.files.get(path)?.current.slice();
  }

  async openAppender(path: string): Promise<FileAppender> {
    await this.enter('openAppender', path);
    if (!this.files.has(path)) {
      this.files.set(path, { current: new Uint8Array(0), durableLength: 0 });
    }
    let open = true;
    const file = () => {
      if (!open) {
        throw new Error('appender is closed');
      }
      const f = this.files.get(path);
      if (!f) {
        throw Object.assign(new Error(`${path} is gone`), { code: 'ENOENT' });
      }
      return f;
    };
    // The appender keeps writing to the file object it opened, like a file descriptor.
    const target = this.files.get(path)!;
    return {
      append: async (data) => {
        await this.enter('append', path);
        file();
        const next = new Uint8Array(target.current.length + data.length);
        next.set(target.current);
        next.set(data, target.current.length);
        target.current = next;
        this.appendedBytes += data.length;
        this.late('append', path);
      },
      sync: async () => {
        await this.enter('sync', path);
        file();
        target.durableLength = target.current.length;
        this.late('sync', path);
      },
      close: async () => {
        open = false;
      },
    };
  }

  async replace(path: string, data: Uint8Array): Promise<void> {
    await this.enter('replace', path);
    const before = this.files.get(path);
    this.files.set(path, { current: data.slice(), durableLength: data.length });
    this.replaced.push(path);
    try {
      this.late('replace', path);
    } catch (err) {
      if (!this.uncertain.has(path)) {
        this.uncertain.set(path, before && { current: before.current.subarray(0, before.durableLength), durableLength: before.durableLength });
      }
      throw err;
    }
    this.uncertain.clear();
  }

  async moveAside(path: string, suffix: string): Promise<string> {
    await this.enter('moveAside', path);
    const f = this.files.get(path);
    if (!f) {
      throw Object.assign(new Error(`${path} does not exist`), { code: 'ENOENT' });
    }
    let target = path + suffix;
    for (let i = 1; this.files.has(target); i++) {
      target = `${path}${suffix}-${i}`;
    }
    this.files.delete(path);
    this.uncertain.clear();
    // a rename persists what was durable (and, with luck, more; keep it simple: what reads see)
    this.files.set(target, f);
    this.late('moveAside', path);
    return target;
  }

  async remove(path: string): Promise<void> {
    await this.enter('remove', path);
    this.files.delete(path);
    this.uncertain.clear();
    this.late('remove', path);
  }

  async lock(lockPath: string): Promise<FileLock> {
    await this.enter('lock', lockPath);
    if (this.locks.has(lockPath)) {
      throw new RegistryError('LOCKED', `The registry is in use by another simulated holder of ${lockPath}.`);
    }
    this.locks.add(lockPath);
    return {
      holder: 'the simulation',
      release: async () => {
        this.locks.delete(lockPath);
      },
    };
  }
}
