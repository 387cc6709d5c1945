import { RegistryError, parentOf } from '../../registry';
import type { Entry, RegistryStorage } from '../../registry';

/**
 * Copying and moving keys between registries (or folders of one), with no `vscode` import
 * (unit-tested in test/unit/transfer.test.ts against real backends).
 *
 * Keys go in batches: read a batch from the source (value and expiry), find which exist in the
 * target, settle conflicts, write the batch to the target with one `storeMany` (all or nothing,
 * resolved only once durable), and for a move remove from the source exactly the keys that batch
 * wrote. A failure stops the transfer between batches: the target holds the earlier batches, the
 * source lost only what the target holds, and the report says where it stopped.
 */

export interface TransferItem {
  kind: 'key' | 'folder';
  /** The key, or the folder's prefix (ending in the separator). */
  key: string;
}

export type ConflictAnswer = 'replace' | 'skip' | 'cancel';

export interface TransferOptions {
  /** Keys go below this folder of the target ('' = top level), each keeping its path below the item's parent. */
  targetFolder: string;
  separator: string;
  /** Move: remove from the source what was written to the target. */
  move?: boolean;
  /** Keys that exist in the target: replace, skip, or ask (the callback decides, key by key). */
  conflict: 'replace' | 'skip' | 'ask';
  /** For conflict 'ask'. Its answer may stand for the rest (it keeps that state itself). */
  ask?: (key: string, remaining: number) => Promise<ConflictAnswer>;
  /** Keys per batch (default 500). */
  batchSize?: number;
  /** Checked between batches. */
  isCancelled?: () => boolean;
  /** After each batch: keys handled so far (copied + skipped), and the total when known. */
  onProgress?: (done: number, total: number | undefined) => void;
}

export interface TransferReport {
  /** Keys written to the target (new or replacing). */
  copied: number;
  /** Of those, how many replaced a key that existed. */
  replaced: number;
  /** Keys removed from the source (a move): only ones the target holds. */
  removed: number;
  /** Keys left alone, and why. */
  skipped: { key: string; reason: string }[];
  /** Keys the source held when counted (before the transfer). */
  total: number;
  cancelled: boolean;
  /** Set when a batch could not be written (or removed): what went wrong and the first key not transferred. */
  failed?: { error: string; stoppedAt: string; code?: string };
  /** Notes, e.g. that the target keeps no TTL. */
  notes: string[];
}

interface Pending {
  from: string;
  to: string;
}

/** Where `key` (inside `item`) goes in the target. */
export function targetKey(item: TransferItem, key: string, targetFolder: string, separator: string): string {
  const base = item.key === '' ? '' : item.kind === 'folder' ? parentOf(item.key, separator, true) : parentOf(item.key, separator);
  return targetFolder + key.slice(base.length);
}

/** Items without those inside a folder that is itself an item (it brings them along). */
export function normalizeItems(items: readonly TransferItem[]): TransferItem[] {
  const folders = items.filter((i) => i.kind === 'folder').map((i) => i.key);
  const seen = new Set<string>();
  return items.filter((i) => {
    const id = `${i.kind}:${i.key}`;
    if (seen.has(id) || folders.some((f) => f !== i.key && i.key.startsWith(f))) {
      return false;
    }
    seen.add(id);
    return true;
  });
}

export async function transfer(source: RegistryStorage, target: RegistryStorage, items: readonly TransferItem[], options: TransferOptions): Promise<TransferReport> {
  const sep = options.separator;
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const same = source === target;
  const report: TransferReport = { copied: 0, replaced: 0, removed: 0, skipped: [], total: 0, cancelled: false, notes: [] };
  const list = normalizeItems(items);
  for (const item of list) {
    if (same && item.kind === 'folder' && options.targetFolder.startsWith(item.key)) {
      throw new RegistryError('INVALID_KEY', `Cannot copy the folder ${item.key} into itself (${options.targetFolder || 'the top level'}).`);
    }
    report.total += item.kind === 'folder' ? await source.count(item.key) : 1;
  }
  let dropTtl = false;
  let done = 0;

  const flush = async (batch: Pending[]): Promise<boolean> => {
    if (batch.length === 0) {
      return true;
    }
    const infos = await Promise.all(batch.map((p) => source.inspect(p.from)));
    const existing = await target.retrieveMany(batch.map((p) => p.to));
    const now = Date.now();
    const write: { p: Pending; entry: Entry; replaces: boolean }[] = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const info = infos[i];
      if (!info) {
        report.skipped.push({ key: p.from, reason: 'it no longer exists in the source (removed or expired meanwhile)' });
        continue;
      }
      if (same && p.from === p.to) {
        report.skipped.push({ key: p.from, reason: 'source and target are the same key' });
        continue;
      }
      const exists = existing[i] !== undefined;
      if (exists) {
        let answer: ConflictAnswer = options.conflict === 'ask' ? 'skip' : options.conflict;
        if (options.conflict === 'ask') {
          answer = options.ask ? await options.ask(p.to, report.total - done - i) : 'skip';
        }
        if (answer === 'cancel') {
          // Nothing of this batch is written: it stops before it.
          report.cancelled = true;
          report.notes.push(`Cancelled at ${batch[0].from}; nothing from it on was transferred.`);
          return false;
        }
        if (answer === 'skip') {
          report.skipped.push({ key: p.from, reason: `${p.to} exists in the target (kept as it is)` });
          continue;
        }
      }
      const ttlMs = info.expiresAt !== undefined ? info.expiresAt - now : undefined;
      if (ttlMs !== undefined && ttlMs <= 0) {
        report.skipped.push({ key: p.from, reason: 'it expired during the transfer' });
        continue;
      }
      write.push({ p, entry: { key: p.to, value: info.value, ...(ttlMs !== undefined && !dropTtl ? { ttlMs } : {}) }, replaces: exists });
    }
    if (write.length > 0) {
      try {
        await target.storeMany(write.map((w) => w.entry));
      } catch (err) {
        if (RegistryError.is(err, 'UNSUPPORTED') && !dropTtl && write.some((w) => w.entry.ttlMs !== undefined)) {
          // The target keeps no time to live: copy without it, and say so.
          dropTtl = true;
          report.notes.push(`The target keeps no time to live (${err.message}): keys that had one were copied without it.`);
          for (const w of write) {
            delete w.entry.ttlMs;
          }
          await target.storeMany(write.map((w) => w.entry));
        } else {
          throw err;
        }
      }
      report.copied += write.length;
      report.replaced += write.filter((w) => w.replaces).length;
      if (options.move) {
        // Only what the target durably holds now leaves the source.
        for (const w of write) {
          if (await source.remove(w.p.from)) {
            report.removed++;
          }
        }
      }
    }
    done += batch.length;
    options.onProgress?.(done, report.total);
    return true;
  };

  let batch: Pending[] = [];
  const run = async (p: Pending): Promise<boolean> => {
    batch.push(p);
    if (batch.length >= batchSize) {
      const b = batch;
      batch = [];
      if (options.isCancelled?.()) {
        report.cancelled = true;
        report.notes.push(`Cancelled at ${b[0].from}; nothing from it on was transferred.`);
        return false;
      }
      return flushGuarded(b);
    }
    return true;
  };
  const flushGuarded = async (b: Pending[]): Promise<boolean> => {
    try {
      return await flush(b);
    } catch (err) {
      report.failed = {
        error: err instanceof Error ? err.message : String(err),
        stoppedAt: b[0].from,
        ...(RegistryError.is(err) ? { code: err.code } : {}),
      };
      return false;
    }
  };

  outer: for (const item of list) {
    if (item.kind === 'key') {
      if (!(await run({ from: item.key, to: targetKey(item, item.key, options.targetFolder, sep) }))) {
        break;
      }
      continue;
    }
    // A move removes keys behind the cursor: paging by `after` is not disturbed by that.
    let after: string | undefined;
    do {
      const page = await source.list({ prefix: item.key, after, limit: batchSize });
      for (const key of page.keys) {
        if (!(await run({ from: key, to: targetKey(item, key, options.targetFolder, sep) }))) {
          break outer;
        }
      }
      after = page.next;
    } while (after !== undefined);
  }
  if (!report.cancelled && !report.failed && batch.length > 0) {
    if (options.isCancelled?.()) {
      report.cancelled = true;
      report.notes.push(`Cancelled at ${batch[0].from}; nothing from it on was transferred.`);
    } else {
      await flushGuarded(batch);
    }
  }
  return report;
}

/** One line for the user: what was copied or moved, skipped, and where it stopped. */
export function summarize(report: TransferReport, move: boolean, targetName: string): string {
  const n = (x: number): string => x.toLocaleString('en');
  const verb = move ? 'Moved' : 'Copied';
  let s = `${verb} ${n(report.copied)} of ${n(report.total)} key${report.total === 1 ? '' : 's'} to ${targetName}`;
  if (report.replaced > 0) {
    s += ` (${n(report.replaced)} replaced)`;
  }
  s += `; ${n(report.skipped.length)} skipped.`;
  if (move && report.removed !== report.copied) {
    s += ` ${n(report.removed)} removed from the source.`;
  }
  if (report.failed) {
    s += ` Stopped at ${report.failed.stoppedAt}: ${report.failed.error}. Both registries are consistent: the target holds what was written before it, and the source still has every key from there on.`;
  } else if (report.cancelled) {
    s += ' Cancelled: what was written before stays; the rest was not touched.';
  }
  return s;
}

