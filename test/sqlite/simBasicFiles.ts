/**
 * A simulated `vscode.workspace.fs` as the web seam sees it (BasicFileSystem): whole-file reads
 * and writes, deletes, folder listings. What a crash keeps: every operation that resolved; a
 * `writeFile` in progress may leave nothing, an empty file, any prefix of the new bytes, or a prefix
 * followed by zeros (it is not atomic, and overwriting truncates first). `rename` is not offered:
 * in Code 1.139 its overwrite deletes the target first, so the seam does not use it.
 */
import type { BasicFileSystem } from '../../src/registry/backends/sqliteWebFiles';

export type BasicOp = 'readFile' | 'writeFile' | 'delete' | 'readDirectory';
export type BasicImage = Map<string, Uint8Array>;

function dirOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

export class SimBasicFileSystem implements BasicFileSystem {
  readonly files = new Map<string, Uint8Array>();
  readonly calls: Record<BasicOp, number> = { readFile: 0, writeFile: 0, delete: 0, readDirectory: 0 };
  bytesWritten = 0;
  /** Called before every operation; `data` is what a writeFile is about to write. */
  onCall: ((op: BasicOp, path: string, data?: Uint8Array) => void) | undefined;
  private faults = new Map<BasicOp, Error>();

  constructor(image?: BasicImage) {
    for (const [path, data] of image ?? []) {
      this.files.set(path, data.slice());
    }
  }

  failNext(op: BasicOp, err: Error = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })): void {
    this.faults.set(op, err);
  }

  private async enter(op: BasicOp, path: string, data?: Uint8Array): Promise<void> {
    this.calls[op]++;
    this.onCall?.(op, path, data);
    const fault = this.faults.get(op);
    if (fault) {
      this.faults.delete(op);
      throw fault;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** The files a crash now would leave. */
  crashImage(): BasicImage {
    return new Map([...this.files].map(([p, d]) => [p, d.slice()]));
  }

  /** The files a crash in the middle of writing `data` to `path` would leave: `fraction` of it, then `garbage` zero bytes. */
  tornImage(path: string, data: Uint8Array, fraction: number, garbage = 0): BasicImage {
    const image = this.crashImage();
    const keep = Math.floor(data.length * fraction);
    const torn = new Uint8Array(keep + garbage);
    torn.set(data.subarray(0, keep));
    image.set(path, torn);
    return image;
  }

  async readFile(path: string): Promise<Uint8Array | undefined> {
    await this.enter('readFile', path);
    return this.files.get(path)?.slice();
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    await this.enter('writeFile', path, data);
    this.files.set(path, data.slice());
    this.bytesWritten += data.length;
  }

  async delete(path: string): Promise<void> {
    await this.enter('delete', path);
    this.files.delete(path);
  }

  async readDirectory(dir: string): Promise<string[]> {
    await this.enter('readDirectory', dir);
    const d = dir.endsWith('/') && dir.length > 1 ? dir.slice(0, -1) : dir;
    return [...this.files.keys()].filter((p) => dirOf(p) === d).map((p) => p.slice(p.lastIndexOf('/') + 1));
  }
}

/** An in-process stand-in for `navigator.locks` (exclusive locks, ifAvailable, abort signals). */
export class SimLockManager {
  private readonly held = new Set<string>();
  private readonly waiters = new Map<string, (() => void)[]>();

  async request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown> {
    if (this.held.has(name)) {
      if (options.ifAvailable) {
        return callback(null);
      }
      await new Promise<void>((resolve, reject) => {
        const list = this.waiters.get(name) ?? [];
        const wake = () => resolve();
        list.push(wake);
        this.waiters.set(name, list);
        options.signal?.addEventListener('abort', () => {
          const l = this.waiters.get(name) ?? [];
          l.splice(l.indexOf(wake), 1);
          reject(Object.assign(new Error('The request was aborted.'), { name: 'AbortError' }));
        });
      });
    }
    this.held.add(name);
    try {
      return await callback({ name });
    } finally {
      this.held.delete(name);
      const next = this.waiters.get(name)?.shift();
      next?.();
    }
  }
}
