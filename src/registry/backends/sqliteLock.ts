/**
 * The lock file protocol of the sqlite backend, over a few file primitives so that it can be
 * driven step by step in tests (the Node primitives are in sqliteNodeFiles.ts).
 *
 * `<file>.nautilus-lock` holds the holder's pid, host, boot id, process start time and a random
 * nonce. It is created with its whole content in one atomic step (never half-written), so at most
 * one process creates it. Releasing removes it; only its holder does that.
 *
 * Taking over from a holder that is surely gone (same host, and its pid is dead, belongs to
 * another process, or is from an earlier boot) is where locks usually break: between reading the
 * stale lock and removing it, another process may have taken over and made a fresh one, which the
 * remove would then delete. Here a stale lock is never moved, and it is removed only by the one
 * process that holds its takeover claim: the file `<lock>.takeover-<id>`, where id names that
 * stale lock (its nonce, or its inode and time when it is not readable), created exclusively.
 * Holding the claim, the process reads the lock again and removes it only when it is still the
 * same stale lock. That check cannot go stale before the remove: only a claim holder removes a
 * lock that is not its own, and a stale lock's holder is gone. Then everyone races to create the
 * lock afresh, and exclusive creation lets exactly one win. A claim whose own holder died is
 * taken over the same way (a claim on the claim).
 */
import { RegistryError } from '../errors';

export interface LockInfo {
  app: 'nautilus-registry';
  pid: number;
  host: string;
  nonce: string;
  since: string;
  /** Linux: the boot the holder ran in, and its start time in clock ticks (to tell a reused pid). */
  bootId?: string;
  startTicks?: string;
}

/** What the protocol needs from the file system. */
export interface LockPrimitives {
  /** Creates `path` holding `content`, whole, in one atomic step; false when it exists. */
  create(path: string, content: string): Promise<boolean>;
  /** The file's text, an id of this very file (e.g. inode and change time), and its age; undefined when missing. */
  read(path: string): Promise<{ text: string; fileId: string; ageMs: number } | undefined>;
  /** Removes `path` if it exists. */
  remove(path: string): Promise<void>;
  /** False only when the holder is surely gone. */
  alive(info: LockInfo): boolean;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** A lock file that is not ours, or cut short, counts as stale once it is this old. */
export const UNREADABLE_STALE_MS = 10_000;

export function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (v && typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.nonce === 'string') {
      return v as LockInfo;
    }
  } catch {
    // not ours or cut short
  }
  return undefined;
}

/** Names one particular lock file's content, for its takeover claim. */
function staleId(seen: { text: string; fileId: string }): string {
  const nonce = parseLock(seen.text)?.nonce;
  return nonce && /^[0-9a-f]{8,64}$/.test(nonce) ? nonce : 'f' + seen.fileId.replace(/[^0-9A-Za-z]/g, '-').slice(0, 80);
}

function isStale(p: LockPrimitives, seen: { text: string; ageMs: number }): boolean {
  const info = parseLock(seen.text);
  return info ? !p.alive(info) : seen.ageMs > UNREADABLE_STALE_MS;
}

/**
 * Removes the file at `path` if it is still the stale one we saw, under its takeover claim. False,
 * having done nothing, when another live process holds the claim (it does the work).
 */
export async function removeStale(p: LockPrimitives, path: string, seen: { text: string; fileId: string }, me: string, depth = 0): Promise<boolean> {
  const id = staleId(seen);
  const claim = `${path}.takeover-${id}`;
  if (await p.create(claim, me)) {
    try {
      const now = await p.read(path);
      if (now && now.text === seen.text && staleId(now) === id) {
        await p.remove(path);
      }
    } finally {
      await p.remove(claim);
    }
    return true;
  }
  const other = await p.read(claim);
  if (!other) {
    return true; // the claimant is done: look again
  }
  if (depth < 4 && isStale(p, other)) {
    return removeStale(p, claim, other, me, depth + 1); // its claimant died while taking over
  }
  return false; // a live process is taking over: wait for it
}

export interface Held {
  info: LockInfo;
  release(): Promise<void>;
}

/** Takes the lock at `lockPath` for `mine`, waiting up to `timeoutMs` for a live holder; LOCKED (naming the holder) when the time is up. */
export async function acquireLock(
  p: LockPrimitives,
  lockPath: string,
  mine: LockInfo,
  timeoutMs: number,
  describeHolder: (info: LockInfo | undefined) => string,
): Promise<Held> {
  const content = JSON.stringify(mine);
  const deadline = p.now() + timeoutMs;
  for (;;) {
    if (await p.create(lockPath, content)) {
      // Verify: nobody may remove a live holder's lock, so this holds; checked all the same.
      let now: Awaited<ReturnType<LockPrimitives['read']>>;
      try {
        now = await p.read(lockPath);
      } catch (err) {
        // Do not leave a lock behind that this (live) process would then wait for itself.
        await p.remove(lockPath).catch(() => undefined);
        throw err;
      }
      if (now && parseLock(now.text)?.nonce === mine.nonce) {
        return {
          info: mine,
          async release() {
            const cur = await p.read(lockPath);
            if (cur && parseLock(cur.text)?.nonce === mine.nonce) {
              await p.remove(lockPath);
            }
          },
        };
      }
      continue;
    }
    const seen = await p.read(lockPath);
    if (!seen) {
      continue; // released meanwhile
    }
    if (isStale(p, seen) && (await removeStale(p, lockPath, seen, content))) {
      continue;
    }
    const left = deadline - p.now();
    if (left <= 0) {
      const file = lockPath.replace(/\.nautilus-lock$/, '');
      throw new RegistryError(
        'LOCKED',
        `The registry file ${file} is in use by ${describeHolder(parseLock(seen.text))}. Close the other window or program that uses it` +
          ` and try again; if no such process is running, delete the lock file ${lockPath}.`,
      );
    }
    await p.sleep(Math.min(50, left));
  }
}
