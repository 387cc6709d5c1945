import { alreadyExists, BaseRegistry, notFound, movedKey } from '../base';
import type { RawEntry } from '../base';
import { prefixEnd } from '../keys';
import { SortedKeys } from '../sortedKeys';
import type { Entry, MemoryConfig, RegistryDescription } from '../types';

interface Slot {
  value: string;
  expiresAt?: number;
}

/** The in-memory backend: a map for values and an ordered key set for listing. Nothing persists. */
export class MemoryRegistry extends BaseRegistry {
  private readonly data = new Map<string, Slot>();
  private readonly order = new SortedKeys();
  /** Keys that carry an expiry, so that expired ones can be found without a full scan. */
  private readonly expiring = new Set<string>();

  constructor(config: MemoryConfig) {
    super(config);
  }

  describe(): RegistryDescription {
    return { backend: 'memory', location: 'in memory (not persisted)', readOnly: false, state: this.isClosed ? 'closed' : 'open' };
  }

  /** The live slot of a key; an expired one is dropped on the way. */
  private live(key: string, now = Date.now()): Slot | undefined {
    const slot = this.data.get(key);
    if (slot && slot.expiresAt !== undefined && slot.expiresAt <= now) {
      this.drop(key);
      return undefined;
    }
    return slot;
  }

  private drop(key: string): void {
    this.data.delete(key);
    this.order.delete(key);
    this.expiring.delete(key);
  }

  private put(key: string, value: string, ttlMs: number | undefined, now = Date.now()): void {
    const slot: Slot = ttlMs === undefined ? { value } : { value, expiresAt: now + ttlMs };
    if (!this.data.has(key)) {
      this.order.add(key);
    }
    this.data.set(key, slot);
    if (slot.expiresAt === undefined) {
      this.expiring.delete(key);
    } else {
      this.expiring.add(key);
    }
  }

  /** Drops every expired key (cheap: only keys with an expiry are looked at). */
  private purge(now = Date.now()): void {
    for (const key of this.expiring) {
      const slot = this.data.get(key);
      if (!slot || (slot.expiresAt !== undefined && slot.expiresAt <= now)) {
        this.drop(key);
      }
    }
  }

  protected async doStore(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    this.put(key, value, ttlMs);
  }

  protected async doRetrieveMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    const now = Date.now();
    return keys.map((k) => this.live(k, now)?.value);
  }

  protected async doInspect(key: string): Promise<RawEntry | undefined> {
    const slot = this.live(key);
    return slot && { ...slot };
  }

  protected async doRemove(key: string): Promise<boolean> {
    const existed = this.live(key) !== undefined;
    if (existed) {
      this.drop(key);
    }
    return existed;
  }

  protected async doContains(key: string): Promise<boolean> {
    return this.live(key) !== undefined;
  }

  protected async scanKeys(from: string, inclusive: boolean, prefix: string, limit: number): Promise<string[]> {
    const now = Date.now();
    const out: string[] = [];
    const expired: string[] = [];
    for (const k of this.order.from(from, inclusive)) {
      if (!k.startsWith(prefix)) {
        break;
      }
      const slot = this.data.get(k)!;
      if (slot.expiresAt !== undefined && slot.expiresAt <= now) {
        expired.push(k);
        continue;
      }
      out.push(k);
      if (out.length >= limit) {
        break;
      }
    }
    expired.forEach((k) => this.drop(k));
    return out;
  }

  protected async doCount(prefix: string): Promise<number> {
    this.purge();
    return prefix === '' ? this.order.size : this.order.countRange(prefix, prefixEnd(prefix));
  }

  protected async doStoreMany(entries: readonly Entry[]): Promise<void> {
    const now = Date.now();
    for (const e of entries) {
      this.put(e.key, e.value, e.ttlMs, now);
    }
  }

  private keysUnder(prefix: string): string[] {
    this.purge();
    const out: string[] = [];
    for (const k of this.order.from(prefix, true)) {
      if (!k.startsWith(prefix)) {
        break;
      }
      out.push(k);
    }
    return out;
  }

  protected async doRemovePrefix(prefix: string): Promise<number> {
    if (prefix === '') {
      this.purge();
      const n = this.order.size;
      this.data.clear();
      this.order.clear();
      this.expiring.clear();
      return n;
    }
    const keys = this.keysUnder(prefix);
    keys.forEach((k) => this.drop(k));
    return keys.length;
  }

  protected async doRename(from: string, to: string, overwrite: boolean): Promise<void> {
    const slot = this.live(from);
    if (!slot) {
      throw notFound(from);
    }
    if (!overwrite && this.live(to)) {
      throw alreadyExists(to);
    }
    this.drop(from);
    this.put(to, slot.value, undefined);
    if (slot.expiresAt !== undefined) {
      this.data.set(to, { ...slot });
      this.expiring.add(to);
    }
  }

  protected async doRenamePrefix(from: string, to: string, overwrite: boolean): Promise<number> {
    const keys = this.keysUnder(from);
    const moves = keys.map((k) => [k, movedKey(k, from, to)] as const);
    if (!overwrite) {
      for (const [, target] of moves) {
        if (!target.startsWith(from) && this.live(target)) {
          throw alreadyExists(target);
        }
      }
    }
    const slots = moves.map(([k]) => this.data.get(k)!);
    keys.forEach((k) => this.drop(k));
    moves.forEach(([, target], i) => {
      const slot = slots[i];
      this.put(target, slot.value, undefined);
      if (slot.expiresAt !== undefined) {
        this.data.set(target, { ...slot });
        this.expiring.add(target);
      }
    });
    return keys.length;
  }

  protected async doSetTtl(key: string, ttlMs: number | undefined): Promise<boolean> {
    const slot = this.live(key);
    if (!slot) {
      return false;
    }
    this.put(key, slot.value, ttlMs);
    return true;
  }

  protected async doClose(): Promise<void> {
    this.data.clear();
    this.order.clear();
    this.expiring.clear();
  }
}
