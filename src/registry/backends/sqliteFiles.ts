/**
 * The one seam through which the sqlite backend touches files: read, append, sync, atomic
 * replace, lock, move aside. The default implementation (sqliteNodeFiles.ts) uses Node's fs;
 * another (e.g. over vscode.workspace.fs, where Node's fs does not exist) can be passed in the
 * config as `fileSystem`.
 *
 * Durability contract the backend relies on:
 * - bytes given to `FileAppender.append` may be lost in a crash until `sync` resolves;
 * - `replace` is atomic (after a crash the file holds either the old or the new content, whole)
 *   and durable once it resolves (including the directory entry);
 * - `lock` gives one holder at a time across processes.
 */
export interface RegistryFileSystem {
  /** The whole file, or undefined when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** Opens a file for appending at its end (creating it when missing). */
  openAppender(path: string): Promise<FileAppender>;
  /**
   * Writes the whole file to a temporary sibling, syncs it, renames it over `path` and syncs the
   * folder: after a crash `path` holds either the old or the new content. When it rejects, `path`
   * may hold either content, not durably (e.g. the folder sync failed after the rename), unless
   * the error is marked with `markReplaceUnchanged` (it failed before `path` was touched).
   */
  replace(path: string, data: Uint8Array): Promise<void>;
  /** Moves a file aside (e.g. a corrupt database) to a new, unused name that starts with `path + suffix`; returns that name. */
  moveAside(path: string, suffix: string): Promise<string>;
  /** Deletes a file if it exists. */
  remove(path: string): Promise<void>;
  /**
   * Takes the exclusive lock represented by the file `lockPath`, waiting up to `timeoutMs` for a
   * live holder to let go and taking over a lock whose holder is gone. Throws a RegistryError
   * LOCKED naming the holder when the time is up. Exactly one holder under every interleaving of
   * processes: sqliteLock.ts has a protocol over four file primitives that an implementation can reuse.
   */
  lock(lockPath: string, timeoutMs: number): Promise<FileLock>;
}

export interface FileAppender {
  /** Appends bytes at the end of the file (not yet durable). */
  append(data: Uint8Array): Promise<void>;
  /** Makes every byte appended so far durable (fdatasync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileLock {
  /** Who holds the lock, for messages (e.g. "process 1234 on host x"). */
  readonly holder: string;
  /** Lets go of the lock (only if it is still ours). */
  release(): Promise<void>;
}

const UNCHANGED = 'nautilusReplaceUnchanged';

/** Marks an error of `replace` that happened before the file at its path was touched (the old content is still there). */
export function markReplaceUnchanged<T>(err: T): T {
  if (typeof err === 'object' && err !== null) {
    try {
      Object.defineProperty(err, UNCHANGED, { value: true, enumerable: false });
    } catch {
      // a frozen error: treated as "may have changed", the safe side
    }
  }
  return err;
}

/** True when a failed `replace` surely left the file as it was. */
export function replaceLeftUnchanged(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<string, unknown>)[UNCHANGED] === true;
}

const handedOver = new WeakSet<Uint8Array>();

/**
 * Marks bytes a seam returned that it keeps no reference to (e.g. a file image just read): the
 * receiver may move their buffer to another thread instead of copying it, or keep and change them
 * (sqlite.ts gives a handed-over database image to sql.js as its own). Returns the bytes.
 */
export function markHandedOver(bytes: Uint8Array): Uint8Array {
  handedOver.add(bytes);
  return bytes;
}

/** True when the seam that returned these bytes let go of them (markHandedOver). */
export function isHandedOver(bytes: unknown): bytes is Uint8Array {
  return bytes instanceof Uint8Array && handedOver.has(bytes);
}
