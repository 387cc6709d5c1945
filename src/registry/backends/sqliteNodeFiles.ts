/**
 * The Node.js implementation of the sqlite backend's file seam (sqliteFiles.ts), and where the
 * backend finds sql-wasm.wasm when it runs on Node.
 */
import { closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeCause, RegistryError } from '../errors';
import { markHandedOver, markReplaceUnchanged } from './sqliteFiles';
import type { FileAppender, FileLock, RegistryFileSystem } from './sqliteFiles';
import { acquireLock } from './sqliteLock';
import type { LockInfo, LockPrimitives } from './sqliteLock';

function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

/** fsync of a folder, so that a rename or a new file in it survives a crash. Not possible on Windows: skipped there. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = errCode(err);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EINVAL') {
      throw err;
    }
  } finally {
    await fh?.close();
  }
}

class NodeAppender implements FileAppender {
  constructor(private readonly fh: FileHandle) {}
  append(data: Uint8Array): Promise<void> {
    return writeAll(this.fh, data);
  }
  sync(): Promise<void> {
    return this.fh.datasync();
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

// ---- the lock file --------------------------------------------------------------------------

function readSmall(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function procStartTicks(pid: number): string | undefined {
  const stat = readSmall(`/proc/${pid}/stat`);
  if (!stat) {
    return undefined;
  }
  // Field 22 (starttime); fields after the command's closing parenthesis start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

const bootId = process.platform === 'linux' ? readSmall('/proc/sys/kernel/random/boot_id') : undefined;

function ownLockInfo(): LockInfo {
  const info: LockInfo = { app: 'nautilus-registry', pid: process.pid, host: os.hostname(), nonce: randomHex(12), since: new Date().toISOString() };
  const ticks = process.platform === 'linux' ? procStartTicks(process.pid) : undefined;
  if (bootId && ticks) {
    info.bootId = bootId;
    info.startTicks = ticks;
  }
  return info;
}

/** False only when the holder is surely gone: same host and its pid is dead (or reused, or from before a reboot). */
function holderAlive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) {
    return true; // another machine sharing the folder: we cannot tell
  }
  if (info.bootId && bootId && info.bootId !== bootId) {
    return false;
  }
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if (errCode(err) === 'ESRCH') {
      return false;
    }
  }
  if (info.startTicks && info.bootId === bootId) {
    const ticks = procStartTicks(info.pid);
    if (ticks !== undefined && ticks !== info.startTicks) {
      return false; // the pid now belongs to another process
    }
  }
  return true;
}

function describeHolder(info: LockInfo | undefined): string {
  if (!info) {
    return 'an unknown process (the lock file cannot be read)';
  }
  if (info.pid === process.pid && info.host === os.hostname()) {
    return `this process (pid ${info.pid}: the registry is already open here; close it first)`;
  }
  return `process ${info.pid} on host ${JSON.stringify(info.host)} (since ${info.since})`;
}

/**
 * The lock file's operations are synchronous. They are a handful of calls on a file of ~200 bytes,
 * next to the registry, once per open and close (well under a millisecond on a local disk), and they
 * run on the thread that opens the registry: in VS Code the extension host. Done asynchronously,
 * each of the ~10 calls is a trip through libuv's thread pool and back through an event loop that
 * the window keeps busy: the lock then took 6.4 ms of a first tree page against 1.7 ms in a quiet
 * script (median of 15 opens of a 100,000-key registry in code-server).
 */

/** Creates the lock file with its content in one step; false when it already exists. */
async function createExclusive(lockPath: string, content: string): Promise<boolean> {
  const tmp = `${lockPath}.${randomHex(8)}.tmp`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, lockPath); // atomic, fails when the lock exists: no half-written lock file
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') {
      return false;
    }
    // A file system without hard links: exclusive create, then write (a reader may see it empty
    // for a moment; an unreadable lock counts as live until it is 10 s old).
    try {
      writeFileSync(lockPath, content, { flag: 'wx' });
      return true;
    } catch (err2) {
      if (errCode(err2) === 'EEXIST') {
        return false;
      }
      throw err2;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The file opened for reading, or undefined when it does not exist. */
async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await fsp.open(file, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') {
      return undefined;
    }
    throw err;
  }
}

const nodeLockPrimitives: LockPrimitives = {
  create: createExclusive,
  async read(file) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      if (errCode(err) === 'ENOENT') {
        return undefined;
      }
      throw err;
    }
    try {
      // One descriptor for both: the text and the id are of the same file.
      const st = fstatSync(fd);
      const text = readFileSync(fd, 'utf8');
      return { text, fileId: `${st.dev}-${st.ino}-${Math.round(st.ctimeMs)}`, ageMs: Date.now() - st.mtimeMs };
    } finally {
      closeSync(fd);
    }
  },
  async remove(file) {
    rmSync(file, { force: true });
  },
  alive: holderAlive,
  sleep,
  now: () => Date.now(),
};

async function takeLock(lockPath: string, timeoutMs: number): Promise<FileLock> {
  mkdirSync(path.dirname(lockPath), { recursive: true });
  const held = await acquireLock(nodeLockPrimitives, lockPath, ownLockInfo(), timeoutMs, describeHolder);
  return { holder: describeHolder(held.info), release: () => held.release() };
}

// ---- the file system ------------------------------------------------------------------------

/**
 * A whole file read in chunks, or undefined when it does not exist. Unlike readFile (which stops
 * at 2 GiB) it reads any file that fits in one Uint8Array, so every journal can be read back.
 * A file of `twoLanesFrom` bytes or more is read by two reads at once, each into its half: filling
 * memory the process has not touched yet is what a large read costs (on this project's VM 246 MiB
 * took 0.85 s from one read and 0.48 s from two).
 */
export async function readWhole(file: string, chunkBytes = 64 * 1024 * 1024, twoLanesFrom = 8 * 1024 * 1024): Promise<Uint8Array | undefined> {
  const fh = await openIfExists(file);
  if (!fh) {
    return undefined;
  }
  try {
    let out = new Uint8Array((await fh.stat()).size);
    const lanes = out.length >= twoLanesFrom ? 2 : 1;
    const laneBytes = Math.ceil(out.length / lanes);
    const ends = Array.from({ length: lanes }, (_, i) => Math.min(out.length, (i + 1) * laneBytes));
    const reached = await Promise.all(ends.map((end, i) => readRange(fh, out, i * laneBytes, end, chunkBytes)));
    const short = reached.findIndex((at, i) => at < ends[i]);
    if (short >= 0) {
      return out.subarray(0, reached[short]); // it shrank meanwhile
    }
    let at = out.length;
    for (;;) {
      // The file may have grown since stat: look for more.
      const more = new Uint8Array(Math.max(1, Math.min(chunkBytes, 64 * 1024)));
      const { bytesRead } = await fh.read(more, 0, more.length, at);
      if (bytesRead === 0) {
        return out;
      }
      const grown = new Uint8Array(at + bytesRead);
      grown.set(out);
      grown.set(more.subarray(0, bytesRead), at);
      out = grown;
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** Reads bytes [from, to) of the file into `out` at the same offsets; returns where it stopped (before `to` if the file ended). */
async function readRange(fh: FileHandle, out: Uint8Array, from: number, to: number, chunkBytes: number): Promise<number> {
  let at = from;
  while (at < to) {
    const { bytesRead } = await fh.read(out, at, Math.min(chunkBytes, to - at), at);
    if (bytesRead === 0) {
      break;
    }
    at += bytesRead;
  }
  return at;
}

/** The seam over Node's fs. */
export function nodeFileSystem(): RegistryFileSystem {
  return {
    async read(file) {
      const bytes = await readWhole(file);
      return bytes && markHandedOver(bytes); // read for this call alone: the caller may keep or move it
    },

    async openAppender(file) {
      return new NodeAppender(await fsp.open(file, 'a'));
    },

    async replace(file, data) {
      const tmp = `${file}.nautilus-tmp-${randomHex(6)}`;
      try {
        const fh = await fsp.open(tmp, 'w');
        try {
          await writeAll(fh, data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsp.rename(tmp, file);
      } catch (err) {
        await fsp.rm(tmp, { force: true }).catch(() => undefined);
        throw markReplaceUnchanged(err); // rename is atomic: when it fails, the file is as it was
      }
      await syncDir(path.dirname(file));
    },

    async moveAside(file, suffix) {
      let target = file + suffix;
      for (let i = 1; existsSync(target); i++) {
        target = `${file}${suffix}-${i}`;
      }
      await fsp.rename(file, target);
      await syncDir(path.dirname(file));
      return target;
    },

    async remove(file) {
      await fsp.rm(file, { force: true });
    },

    lock: takeLock,
  };
}

// ---- sql-wasm.wasm --------------------------------------------------------------------------

/**
 * Where sql-wasm.wasm is: the configured path; else next to the running bundle (dist/registry.js,
 * where esbuild.mjs copies it); else in the sql.js package.
 */
export function locateSqlWasm(configured: string | undefined): string {
  if (configured !== undefined) {
    return configured;
  }
  const beside = path.join(__dirname, 'sql-wasm.wasm');
  if (existsSync(beside)) {
    return beside;
  }
  try {
    return require.resolve('sql.js/dist/sql-wasm.wasm');
  } catch (err) {
    throw new RegistryError(
      'UNAVAILABLE',
      `Cannot find sql-wasm.wasm: it is neither next to ${__dirname} nor in the sql.js package (${describeCause(err)}). Set wasmPath in the sqlite configuration.`,
      { cause: err },
    );
  }
}

export async function readSqlWasm(file: string): Promise<Uint8Array> {
  try {
    const buf = await fsp.readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new RegistryError('UNAVAILABLE', `Cannot read the SQLite engine ${file}: ${describeCause(err)}.`, { cause: err });
  }
}
