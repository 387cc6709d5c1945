import { compareKeys, MAX_PAGE } from '../../registry';
import type { RegistryStorage } from '../../registry';

/**
 * Comparing two folders (of one registry or of two), with no `vscode` import (unit-tested). Both
 * sides are read in key order, a chunk at a time, and merged like a sorted-merge join on the key
 * relative to each folder; keys on both sides have their values compared a chunk at a time. A page
 * holds up to `limit` differences and a cursor to go on from, so a 100,000-key folder is compared
 * page by page as the user asks, never held whole.
 */

export type DiffKind = 'left' | 'right' | 'different';

export interface DiffEntry {
  kind: DiffKind;
  /** The key relative to the compared folders (left key = leftPrefix + rel, right key = rightPrefix + rel). */
  rel: string;
}

export interface ComparePage {
  entries: DiffEntry[];
  /** Where the next page starts (a relative key), undefined when the comparison is complete. */
  next?: string;
  /** Keys read on each side for this page. */
  scanned: { left: number; right: number; same: number };
}

export interface CompareSide {
  registry: RegistryStorage;
  /** The folder ('' = everything). */
  prefix: string;
}

/** Keys of one side after `afterRel`, in order, a chunk at a time. */
class Cursor {
  private buf: string[] = [];
  private i = 0;
  private nextKey: string | undefined;
  private done = false;
  read = 0;

  constructor(
    private readonly side: CompareSide,
    afterRel: string | undefined,
    private readonly chunk: number,
  ) {
    this.nextKey = afterRel === undefined ? undefined : side.prefix + afterRel;
  }

  async peek(): Promise<string | undefined> {
    if (this.i < this.buf.length) {
      return this.buf[this.i].slice(this.side.prefix.length);
    }
    if (this.done) {
      return undefined;
    }
    const page = await this.side.registry.list({ prefix: this.side.prefix, after: this.nextKey, limit: this.chunk });
    this.buf = page.keys;
    this.i = 0;
    this.read += page.keys.length;
    this.nextKey = page.next;
    if (page.next === undefined) {
      this.done = true;
    }
    return this.i < this.buf.length ? this.buf[this.i].slice(this.side.prefix.length) : undefined;
  }

  advance(): void {
    this.i++;
  }
}

export async function comparePage(left: CompareSide, right: CompareSide, options: { after?: string; limit?: number; chunk?: number } = {}): Promise<ComparePage> {
  const limit = Math.max(1, options.limit ?? 200);
  const chunk = Math.min(MAX_PAGE, Math.max(1, options.chunk ?? 1000));
  const l = new Cursor(left, options.after, chunk);
  const r = new Cursor(right, options.after, chunk);
  const entries: DiffEntry[] = [];
  let both: string[] = [];
  let same = 0;
  let last: string | undefined;

  const settleBoth = async (): Promise<void> => {
    if (both.length === 0) {
      return;
    }
    const keys = both;
    both = [];
    const [lv, rv] = await Promise.all([left.registry.retrieveMany(keys.map((k) => left.prefix + k)), right.registry.retrieveMany(keys.map((k) => right.prefix + k))]);
    keys.forEach((k, i) => {
      // A key that expired or went away between list and retrieve counts as missing on that side.
      if (lv[i] === undefined && rv[i] === undefined) {
        return;
      }
      if (lv[i] === undefined) {
        entries.push({ kind: 'right', rel: k });
      } else if (rv[i] === undefined) {
        entries.push({ kind: 'left', rel: k });
      } else if (lv[i] !== rv[i]) {
        entries.push({ kind: 'different', rel: k });
      } else {
        same++;
      }
    });
  };

  for (;;) {
    if (entries.length >= limit) {
      break;
    }
    const a = await l.peek();
    const b = await r.peek();
    if (a === undefined && b === undefined) {
      await settleBoth();
      entries.sort((x, y) => compareKeys(x.rel, y.rel));
      return { entries, scanned: { left: l.read, right: r.read, same } };
    }
    const c = a === undefined ? 1 : b === undefined ? -1 : compareKeys(a, b);
    if (c === 0) {
      both.push(a!);
      l.advance();
      r.advance();
      last = a;
      if (both.length >= chunk) {
        await settleBoth();
      }
    } else if (c < 0) {
      await settleBoth();
      entries.push({ kind: 'left', rel: a! });
      l.advance();
      last = a;
    } else {
      await settleBoth();
      entries.push({ kind: 'right', rel: b! });
      r.advance();
      last = b;
    }
  }
  await settleBoth();
  entries.sort((x, y) => compareKeys(x.rel, y.rel));
  // The page ends at the last key looked at; the next page starts after it.
  return { entries, next: last, scanned: { left: l.read, right: r.read, same } };
}
