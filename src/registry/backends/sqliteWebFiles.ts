/**
 * The sqlite backend's file seam (sqliteFiles.ts) over a file system that has no append, no fsync
 * and no atomic replace: the shape of `vscode.workspace.fs` in VS Code for the Web, where (Code
 * 1.139) `writeFile` is not atomic and `rename` with overwrite deletes the target first. Platform
 * neutral: the file system and the lock manager are injected.
 *
 * Layout. A logical file `dir/name` is a set of files that are only ever written under new names:
 *   name.g<G>          generation G of the whole file (written by `replace`, or empty by `openAppender`)
 *   name.g<G>.s<I>     segment I (1, 2, ...) of bytes appended to generation G: one per `sync`
 *   name.g<G>.c<C>     chunk C: segments C*64+1 .. C*64+64 merged into one file (fewer files to read)
 * Every file ends in a trailer: magic, flags, data length, G, I/C and a CRC-32 over all of it, so
 * a file that a crash left half written is recognized and ignored. The content of `dir/name` is
 * the newest generation whose file is whole, followed by its segments (or the chunks covering
 * them) in order, up to the first one missing or damaged. A removed file is a whole "tombstone"
 * generation (deleted right after). Old files are deleted only after the file that supersedes them
 * was written whole.
 *
 * Costs: a sync writes one new file of the appended bytes (plus, every 64 syncs, one chunk of
 * those 64): constant, whatever the size of the registry. A read lists the folder once.
 *
 * The lock: the Web Locks API (`navigator.locks`, shared by every tab and worker of one origin,
 * released by the browser when a tab closes) when there is one; otherwise a lease file renewed
 * while held (a closed tab's lease runs out after `leaseMs`).
 */
import { RegistryError } from '../errors';
import { markHandedOver, markReplaceUnchanged } from './sqliteFiles';
import type { FileAppender, FileLock, RegistryFileSystem } from './sqliteFiles';
import { crc32 } from './sqliteJournal';

/** The file operations the web seam needs; paths are '/'-separated. The extension adapts vscode.workspace.fs to it. */
export interface BasicFileSystem {
  /** The whole file, or undefined when it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** Creates or overwrites a file (creating its folder). Not atomic: a crash may leave any prefix of `data`. Durable once it resolves. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Deletes a file; no error when it does not exist. */
  delete(path: string): Promise<void>;
  /** The names of the files in a folder; [] when the folder does not exist. */
  readDirectory(dir: string): Promise<string[]>;
}

/** The part of the Web Locks API (`navigator.locks`) used here. */
export interface LockManagerLike {
  request(name: string, options: { mode?: 'exclusive'; ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

export interface WebFileSystemOptions {
  /** The lock manager; default `globalThis.navigator.locks` when present. `null`: use the lease file. */
  locks?: LockManagerLike | null;
  /** Lease file only: how long a lease lasts without renewal (ms). Default 10000. */
  leaseMs?: number;
  /** Who we are, in a LOCKED message shown to another holder (lease file only). */
  holder?: string;
}

/** Segments merged into one chunk. */
export const SEGMENTS_PER_CHUNK = 64;
const TRAILER_BYTES = 28;
const MAGIC = [0x4e, 0x41, 0x55, 0x54, 0x57, 0x45, 0x42, 0x31]; // "NAUTWEB1"
const FLAG_TOMBSTONE = 1;
const KIND_BASE = 0;
const KIND_SEGMENT = 1;
const KIND_CHUNK = 2;

type Kind = typeof KIND_BASE | typeof KIND_SEGMENT | typeof KIND_CHUNK;

interface Part {
  name: string;
  gen: number;
  kind: Kind;
  /** Segment or chunk index (0 for a base). */
  index: number;
}

function splitPath(path: string): { dir: string; name: string } {
  const at = path.lastIndexOf('/');
  return at < 0 ? { dir: '.', name: path } : { dir: path.slice(0, at) || '/', name: path.slice(at + 1) };
}

function join(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function partName(name: string, gen: number, kind: Kind, index: number): string {
  return kind === KIND_BASE ? `${name}.g${gen}` : `${name}.g${gen}.${kind === KIND_SEGMENT ? 's' : 'c'}${index}`;
}

/** The files of the logical file `name` among a folder's entries. */
function partsOf(entries: readonly string[], name: string): Part[] {
  const re = new RegExp(`^${escapeRegExp(name)}\\.g(\\d{1,15})(?:\\.([sc])(\\d{1,15}))?$`);
  const out: Part[] = [];
  for (const e of entries) {
    const m = re.exec(e);
    if (m) {
      out.push({ name: e, gen: Number(m[1]), kind: m[2] === undefined ? KIND_BASE : m[2] === 's' ? KIND_SEGMENT : KIND_CHUNK, index: m[3] === undefined ? 0 : Number(m[3]) });
    }
  }
  return out;
}

/** CRC-32 bytes handled between two yields to the event loop. */
const CRC_SLICE = 1 << 20;

/**
 * crc32 of a large range in 1 MiB slices with a yield between them: checking a 20 MB database file
 * does not hold up the thread it runs on (in VS Code for the Web, the extension host) for the whole of it.
 */
async function crc32Yielding(bytes: Uint8Array, start: number, end: number): Promise<number> {
  let crc = 0;
  for (let at = start; at < end; at += CRC_SLICE) {
    if (at > start) {
      await yieldToEventLoop();
    }
    crc = crc32(bytes, at, Math.min(end, at + CRC_SLICE), crc);
  }
  return crc;
}

/**
 * Lets the event loop run, then goes on at once. Not `setTimeout(0)`: browsers (web workers too) make
 * nested timers wait at least 4 ms, which over the ~20 slices of a 20 MB file added ~80 ms to opening.
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel !== 'function') {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }
  return new Promise((resolve) => {
    // The browser's MessageChannel (Node's has it too, with the same onmessage).
    const channel = new MessageChannel() as unknown as {
      port1: { onmessage: (() => void) | null; close(): void };
      port2: { postMessage(message: unknown): void; close(): void };
    };
    channel.port1.onmessage = () => {
      channel.port1.close();
      channel.port2.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

/** data | magic | flags | length | gen | index | kind | crc (integers u32, big-endian). */
export async function sealPart(data: Uint8Array, gen: number, kind: Kind, index: number, flags = 0): Promise<Uint8Array> {
  const out = new Uint8Array(data.length + TRAILER_BYTES);
  out.set(data);
  const t = data.length;
  const view = new DataView(out.buffer);
  out.set(MAGIC, t);
  view.setUint32(t + 8, (flags << 8) | kind);
  view.setUint32(t + 12, data.length);
  view.setUint32(t + 16, gen);
  view.setUint32(t + 20, index);
  view.setUint32(t + 24, await crc32Yielding(out, 0, t + 24));
  return out;
}

/** The data of a whole part, or undefined when it is damaged, cut short or not the part it is named as. */
async function openPart(bytes: Uint8Array, part: Part): Promise<{ data: Uint8Array; tombstone: boolean } | undefined> {
  if (bytes.length < TRAILER_BYTES) {
    return undefined;
  }
  const t = bytes.length - TRAILER_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[t + i] !== MAGIC[i]) {
      return undefined;
    }
  }
  const kindFlags = view.getUint32(t + 8);
  if (
    (kindFlags & 0xff) !== part.kind ||
    view.getUint32(t + 12) !== t ||
    view.getUint32(t + 16) !== part.gen ||
    view.getUint32(t + 20) !== part.index ||
    view.getUint32(t + 24) !== (await crc32Yielding(bytes, 0, t + 24))
  ) {
    return undefined;
  }
  return { data: bytes.subarray(0, t), tombstone: ((kindFlags >>> 8) & FLAG_TOMBSTONE) !== 0 };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) {
    return parts[0];
  }
  let n = 0;
  for (const p of parts) {
    n += p.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What a logical file holds now, and where its appends go on. */
interface FileState {
  /** Every part of the file found in the folder, whole or not. */
  parts: Part[];
  /** The generation in use (undefined: the file does not exist). */
  gen?: number;
  data?: Uint8Array;
  /** The next segment index of `gen`. */
  nextSegment: number;
  /** The segments after the last whole chunk (to merge into the next one). */
  tail: Uint8Array[];
}

class Vanished extends Error {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

class WebFiles implements RegistryFileSystem {
  /** Generation each logical file was last given by this instance: an appender of an older one refuses to write. */
  private readonly current = new Map<string, number>();
  private readonly locks: LockManagerLike | undefined;

  constructor(
    private readonly fs: BasicFileSystem,
    private readonly options: WebFileSystemOptions,
  ) {
    const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
    this.locks = options.locks === null ? undefined : (options.locks ?? nav?.locks);
  }

  private async readPart(dir: string, part: Part): Promise<{ data: Uint8Array; tombstone: boolean } | undefined> {
    const bytes = await this.fs.readFile(join(dir, part.name));
    if (bytes === undefined) {
      throw new Vanished(part.name);
    }
    return openPart(bytes, part);
  }

  /** The state of a logical file; retried when a file vanishes under us (another tab compacting). */
  private async state(path: string): Promise<FileState> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.stateOnce(path);
      } catch (err) {
        if (!(err instanceof Vanished) || attempt >= 4) {
          throw err;
        }
      }
    }
  }

  private async stateOnce(path: string): Promise<FileState> {
    const { dir, name } = splitPath(path);
    const parts = partsOf(await this.fs.readDirectory(dir), name);
    const bases = parts.filter((p) => p.kind === KIND_BASE).sort((a, b) => b.gen - a.gen);
    for (const base of bases) {
      const opened = await this.readPart(dir, base);
      if (!opened) {
        continue; // cut short by a crash while it was written: the previous generation stands
      }
      if (opened.tombstone) {
        return { parts, nextSegment: 1, tail: [] };
      }
      const segments = new Map<number, Part>();
      const chunks = new Map<number, Part>();
      for (const p of parts) {
        if (p.gen === base.gen) {
          (p.kind === KIND_SEGMENT ? segments : p.kind === KIND_CHUNK ? chunks : new Map()).set(p.index, p);
        }
      }
      // Read every part of the generation up front, 16 at a time: on the web each read is a round trip.
      const wanted = [...chunks.values(), ...segments.values()];
      const whole = new Map<Part, { data: Uint8Array; tombstone: boolean } | undefined>();
      let at = 0;
      await Promise.all(
        Array.from({ length: Math.min(16, wanted.length) }, async () => {
          while (at < wanted.length) {
            const part = wanted[at++];
            whole.set(part, await this.readPart(dir, part));
          }
        }),
      );
      const data = [opened.data];
      let tail: Uint8Array[] = [];
      let next = 1;
      for (;;) {
        if ((next - 1) % SEGMENTS_PER_CHUNK === 0) {
          const chunk = chunks.get((next - 1) / SEGMENTS_PER_CHUNK);
          const merged = chunk && whole.get(chunk);
          if (merged) {
            data.push(merged.data);
            next += SEGMENTS_PER_CHUNK;
            continue;
          }
          tail = [];
        }
        const segment = segments.get(next);
        const appended = segment && whole.get(segment);
        if (!appended) {
          break;
        }
        data.push(appended.data);
        tail.push(appended.data);
        next++;
      }
      return { parts, gen: base.gen, data: concat(data), nextSegment: next, tail };
    }
    return { parts, nextSegment: 1, tail: [] };
  }

  /**
   * Deletes parts that no read uses any more (older generations, stray segments), 16 at a time: on
   * the web each delete is a round trip, and a journal swap waits for them. Bases go last, so that
   * a crash in between leaves no segment without its base (harmless either way).
   */
  private async deleteParts(dir: string, parts: readonly Part[]): Promise<void> {
    const inParallel = async (list: readonly Part[]) => {
      let at = 0;
      await Promise.all(
        Array.from({ length: Math.min(16, list.length) }, async () => {
          while (at < list.length) {
            await this.fs.delete(join(dir, list[at++].name));
          }
        }),
      );
    };
    await inParallel(parts.filter((p) => p.kind !== KIND_BASE));
    await inParallel(parts.filter((p) => p.kind === KIND_BASE));
  }

  /** Writes a new whole generation of `path`; then deletes every older part. */
  private async writeGeneration(path: string, data: Uint8Array, flags: number): Promise<number> {
    const { dir, name } = splitPath(path);
    const parts = partsOf(await this.fs.readDirectory(dir), name);
    const gen = parts.reduce((max, p) => Math.max(max, p.gen), 0) + 1;
    if (gen > 0xffff_ffff) {
      throw new RegistryError('UNAVAILABLE', `${path} has run out of generation numbers.`);
    }
    const target = join(dir, partName(name, gen, KIND_BASE, 0));
    try {
      await this.fs.writeFile(target, await sealPart(data, gen, KIND_BASE, 0, flags));
    } catch (err) {
      // A half-written generation is ignored by every read; once it is gone for sure, the file
      // surely holds its old content (the backend then keeps its appender).
      const gone = await this.fs.delete(target).then(
        () => true,
        () => false,
      );
      throw gone ? markReplaceUnchanged(err) : err;
    }
    this.current.set(path, gen);
    await this.deleteParts(dir, parts);
    return gen;
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const data = (await this.state(path)).data;
    // Read for this call alone: the engine's proxy may move the buffer to the engine's Web Worker.
    return data && markHandedOver(data);
  }

  async openAppender(path: string): Promise<FileAppender> {
    const { dir, name } = splitPath(path);
    const st = await this.state(path);
    let gen: number;
    if (st.gen === undefined) {
      gen = await this.writeGeneration(path, new Uint8Array(0), 0);
    } else {
      gen = st.gen;
      // Left-overs of a crash: parts after the last whole segment, other generations.
      const stray = st.parts.filter(
        (p) => p.gen !== gen || (p.kind === KIND_SEGMENT && p.index >= st.nextSegment) || (p.kind === KIND_CHUNK && p.index * SEGMENTS_PER_CHUNK + 1 >= st.nextSegment),
      );
      await this.deleteParts(dir, stray);
      this.current.set(path, gen);
    }
    return new WebAppender(this.fs, dir, name, gen, st.gen === undefined ? 1 : st.nextSegment, st.gen === undefined ? [] : st.tail, () => this.current.get(path) === gen);
  }

  async replace(path: string, data: Uint8Array): Promise<void> {
    await this.writeGeneration(path, data, 0);
  }

  async moveAside(path: string, suffix: string): Promise<string> {
    const data = await this.read(path);
    if (data === undefined) {
      throw Object.assign(new Error(`${path} does not exist`), { code: 'ENOENT' });
    }
    const { dir } = splitPath(path);
    const entries = await this.fs.readDirectory(dir);
    let target = path + suffix;
    for (let i = 1; partsOf(entries, splitPath(target).name).length > 0; i++) {
      target = `${path}${suffix}-${i}`;
    }
    await this.writeGeneration(target, data, 0);
    await this.remove(path);
    return target;
  }

  async remove(path: string): Promise<void> {
    const { dir, name } = splitPath(path);
    if (partsOf(await this.fs.readDirectory(dir), name).length === 0) {
      return;
    }
    // A whole tombstone first: a crash in the middle of the deletes cannot bring back an older generation.
    const gen = await this.writeGeneration(path, new Uint8Array(0), FLAG_TOMBSTONE);
    await this.fs.delete(join(dir, partName(name, gen, KIND_BASE, 0)));
    this.current.delete(path);
  }

  lock(lockPath: string, timeoutMs: number): Promise<FileLock> {
    return this.locks ? webLock(this.locks, lockPath, timeoutMs) : leaseLock(this.fs, lockPath, timeoutMs, this.options);
  }
}

class WebAppender implements FileAppender {
  private pending: Uint8Array[] = [];
  private closed = false;

  constructor(
    private readonly fs: BasicFileSystem,
    private readonly dir: string,
    private readonly name: string,
    private readonly gen: number,
    private next: number,
    /** The segments since the last chunk boundary. */
    private tail: Uint8Array[],
    private readonly stillCurrent: () => boolean,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    if (this.closed) {
      throw new Error('appender is closed');
    }
    this.pending.push(data.slice());
  }

  async sync(): Promise<void> {
    if (this.closed) {
      throw new Error('appender is closed');
    }
    if (this.pending.length === 0) {
      return;
    }
    if (!this.stillCurrent()) {
      throw new Error(`${this.name} was replaced since this appender was opened`);
    }
    const data = concat(this.pending);
    const index = this.next;
    // On failure nothing moves on: a retry writes the same segment again, so no gap can hide later ones.
    await this.fs.writeFile(join(this.dir, partName(this.name, this.gen, KIND_SEGMENT, index)), await sealPart(data, this.gen, KIND_SEGMENT, index));
    this.pending = [];
    this.next = index + 1;
    this.tail.push(data);
    if (index % SEGMENTS_PER_CHUNK === 0) {
      const chunk = (index - SEGMENTS_PER_CHUNK) / SEGMENTS_PER_CHUNK;
      const merged = concat(this.tail);
      this.tail = [];
      await this.fs.writeFile(join(this.dir, partName(this.name, this.gen, KIND_CHUNK, chunk)), await sealPart(merged, this.gen, KIND_CHUNK, chunk));
      // The chunk is whole: its segments go, 16 at a time (a crash in between leaves some, which reads skip).
      const covered = Array.from({ length: SEGMENTS_PER_CHUNK }, (_, k) => join(this.dir, partName(this.name, this.gen, KIND_SEGMENT, index - k)));
      for (let k = 0; k < covered.length; k += 16) {
        await Promise.all(covered.slice(k, k + 16).map((path) => this.fs.delete(path)));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

// ---- locks ------------------------------------------------------------------------------------

function lockedError(holder: string): RegistryError {
  return new RegistryError('LOCKED', `The registry is open in ${holder}. Make changes there; once it is closed there, this one becomes writable within a few seconds.`);
}

const OTHER_TAB = 'another browser tab or window of this workspace';

/** An exclusive Web Lock named after the lock path, held until release. */
function webLock(locks: LockManagerLike, lockPath: string, timeoutMs: number): Promise<FileLock> {
  return new Promise<FileLock>((resolve, reject) => {
    const abort = new AbortController();
    const timer = timeoutMs > 0 ? setTimeout(() => abort.abort(), timeoutMs) : undefined;
    let letGo!: () => void;
    const held = new Promise<void>((r) => (letGo = r));
    let granted = false;
    const done = locks
      .request(
        `nautilus-registry:${lockPath}`,
        timeoutMs > 0 ? { mode: 'exclusive', signal: abort.signal } : { mode: 'exclusive', ifAvailable: true },
        async (lock) => {
          if (timer !== undefined) {
            clearTimeout(timer);
          }
          if (lock === null) {
            reject(lockedError(OTHER_TAB));
            return;
          }
          granted = true;
          resolve({
            holder: 'this window',
            release: async () => {
              letGo();
              await done;
            },
          });
          await held;
        },
      )
      .catch((err: unknown) => {
        if (timer !== undefined) {
          clearTimeout(timer);
        }
        if (!granted) {
          reject(abort.signal.aborted ? lockedError(OTHER_TAB) : err);
        }
      });
  });
}

interface Lease {
  nonce: string;
  holder: string;
  expiresAt: number;
}

function parseLease(bytes: Uint8Array | undefined): Lease | undefined {
  if (!bytes) {
    return undefined;
  }
  try {
    const l = JSON.parse(new TextDecoder().decode(bytes)) as Lease;
    return typeof l.nonce === 'string' && typeof l.expiresAt === 'number' ? l : undefined;
  } catch {
    return undefined; // cut short by a crash: its writer is gone
  }
}

/**
 * A lease file: taken when absent or expired, confirmed by reading it back after a pause (two
 * takers at once: the last writer wins and the other sees it), renewed every third of its term.
 */
async function leaseLock(fs: BasicFileSystem, lockPath: string, timeoutMs: number, options: WebFileSystemOptions): Promise<FileLock> {
  const leaseMs = options.leaseMs ?? 10_000;
  const holder = options.holder ?? OTHER_TAB;
  const nonce = randomHex(8);
  const encode = () => new TextEncoder().encode(JSON.stringify({ nonce, holder, expiresAt: Date.now() + leaseMs } satisfies Lease));
  const deadline = Date.now() + timeoutMs;
  const settle = Math.min(200, Math.max(20, leaseMs / 20));
  for (;;) {
    const cur = parseLease(await fs.readFile(lockPath));
    if (!cur || cur.expiresAt <= Date.now()) {
      await fs.writeFile(lockPath, encode());
      await sleep(settle);
      if (parseLease(await fs.readFile(lockPath))?.nonce === nonce) {
        break;
      }
      continue; // another taker wrote after us: it holds the lease now
    }
    const now = Date.now();
    if (now >= deadline) {
      throw lockedError(cur.holder);
    }
    await sleep(Math.max(1, Math.min(250, deadline - now, cur.expiresAt - now)));
  }
  let released = false;
  let renewing = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing.then(async () => {
      if (!released) {
        await fs.writeFile(lockPath, encode()).catch(() => undefined);
      }
    });
  }, Math.max(10, Math.floor(leaseMs / 3)));
  return {
    holder: 'this window',
    release: async () => {
      released = true;
      clearInterval(timer);
      await renewing;
      const cur = parseLease(await fs.readFile(lockPath).catch(() => undefined));
      if (cur?.nonce === nonce) {
        await fs.delete(lockPath);
      }
    },
  };
}

/** The sqlite backend's file seam over a BasicFileSystem (e.g. vscode.workspace.fs in a browser). */
export function webFileSystem(fs: BasicFileSystem, options: WebFileSystemOptions = {}): RegistryFileSystem {
  return new WebFiles(fs, options);
}
