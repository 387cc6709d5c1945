import { compareKeys } from './keys';

const CHUNK = 512;

/**
 * An ordered set of keys (UTF-8 byte order) as a list of sorted chunks: O(log n) search,
 * O(√n)-ish insert and delete without re-sorting, ordered iteration from any position.
 * Enough for an in-memory registry of millions of keys.
 */
export class SortedKeys {
  private chunks: string[][] = [];
  /** Last key of each chunk, for the binary search over chunks. */
  private maxes: string[] = [];
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Index of the first chunk whose max is >= key (chunks.length if none). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.maxes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.maxes[mid], key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static lowerBound(arr: string[], key: string): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(arr[mid], key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  has(key: string): boolean {
    const c = this.chunkFor(key);
    if (c === this.chunks.length) {
      return false;
    }
    const arr = this.chunks[c];
    const i = SortedKeys.lowerBound(arr, key);
    return arr[i] === key;
  }

  /** Adds the key; false when it was already there. */
  add(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.maxes.push(key);
      this.total = 1;
      return true;
    }
    let c = this.chunkFor(key);
    if (c === this.chunks.length) {
      c--; // larger than everything: append to the last chunk
    }
    const arr = this.chunks[c];
    const i = SortedKeys.lowerBound(arr, key);
    if (arr[i] === key) {
      return false;
    }
    arr.splice(i, 0, key);
    this.maxes[c] = arr[arr.length - 1];
    this.total++;
    if (arr.length > CHUNK * 2) {
      const tail = arr.splice(CHUNK);
      this.chunks.splice(c + 1, 0, tail);
      this.maxes.splice(c, 1, arr[arr.length - 1], tail[tail.length - 1]);
    }
    return true;
  }

  /** Removes the key; false when it was not there. */
  delete(key: string): boolean {
    const c = this.chunkFor(key);
    if (c === this.chunks.length) {
      return false;
    }
    const arr = this.chunks[c];
    const i = SortedKeys.lowerBound(arr, key);
    if (arr[i] !== key) {
      return false;
    }
    arr.splice(i, 1);
    this.total--;
    if (arr.length === 0) {
      this.chunks.splice(c, 1);
      this.maxes.splice(c, 1);
    } else {
      this.maxes[c] = arr[arr.length - 1];
      if (arr.length < CHUNK / 4 && c + 1 < this.chunks.length && arr.length + this.chunks[c + 1].length <= CHUNK * 2) {
        const next = this.chunks[c + 1];
        arr.push(...next);
        this.chunks.splice(c + 1, 1);
        this.maxes.splice(c, 2, arr[arr.length - 1]);
      }
    }
    return true;
  }

  clear(): void {
    this.chunks = [];
    this.maxes = [];
    this.total = 0;
  }

  /** Keys in order starting at `from` (inclusive or not). */
  *from(from: string, inclusive: boolean): Generator<string> {
    let c = this.chunkFor(from);
    if (c === this.chunks.length) {
      return;
    }
    let i = SortedKeys.lowerBound(this.chunks[c], from);
    if (!inclusive && this.chunks[c][i] === from) {
      i++;
    }
    for (; c < this.chunks.length; c++, i = 0) {
      const arr = this.chunks[c];
      for (; i < arr.length; i++) {
        yield arr[i];
      }
    }
  }

  /** Number of keys k with lo <= k < hi (hi undefined: no upper bound). */
  countRange(lo: string, hi: string | undefined): number {
    return this.rank(hi) - this.rank(lo);
  }

  /** Number of keys < key (all keys when key is undefined). */
  private rank(key: string | undefined): number {
    if (key === undefined) {
      return this.total;
    }
    const c = this.chunkFor(key);
    let n = 0;
    for (let j = 0; j < c; j++) {
      n += this.chunks[j].length;
    }
    return c === this.chunks.length ? n : n + SortedKeys.lowerBound(this.chunks[c], key);
  }
}
