/**
 * The one seam through which the sqlite backend touches files: read, append, sync, atomic
 * replace, lock. The default implementation uses Node's fs; another (e.g. over
 * vscode.workspace.fs, where Node's fs does not exist) can be passed in the config.
 */
export interface RegistryFileSystem {
  /** The whole file, or undefined when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** Appends bytes to the end of the file (creating it), without syncing. */
  append(path: string, data: Uint8Array): Promise<void>;
  /** Makes every byte appended to the file so far durable (fdatasync). */
  sync(path: string): Promise<void>;
  /** Writes the whole file to a temporary sibling, syncs it, renames it over `path`, syncs the folder. */
  replace(path: string, data: Uint8Array): Promise<void>;
  /** Moves a file aside (e.g. a corrupt database); returns the new path. */
  moveAside(path: string, suffix: string): Promise<string>;
  /** Deletes a file if it exists. */
  remove(path: string): Promise<void>;
  /** Takes the exclusive writer lock for `path`; resolves to a release function, or throws LOCKED. */
  lock(path: string, timeoutMs: number): Promise<() => Promise<void>>;
}
