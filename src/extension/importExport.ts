import * as vscode from 'vscode';
import { RegistryError } from '../registry';
import type { Entry, RegistryStorage } from '../registry';
import { scanJsonObject } from './jsonScan';
import { errorMessage, logger } from './log';

const log = logger('import');
const CHUNK = 1000;

export interface Skipped {
  key: string;
  reason: string;
}

export interface ImportOptions {
  /** Put every imported key under this prefix (e.g. a folder 'team/'). */
  prefix?: string;
  /** What to do with keys that exist already; default 'overwrite'. */
  existing?: 'overwrite' | 'skip';
}

export interface ImportReport {
  /** Keys in the file. */
  total: number;
  stored: number;
  /** Values that were not strings and were stored as their JSON text. */
  converted: number;
  skipped: Skipped[];
  cancelled: boolean;
}

export interface ExportOptions {
  /** Only keys below this prefix. */
  prefix?: string;
}

export interface ExportReport {
  exported: number;
  skipped: Skipped[];
  cancelled: boolean;
}

export interface ProgressSink {
  report(done: number, total: number | undefined): void;
  readonly cancelled: boolean;
}

/** Lets the extension host breathe between chunks, so 100,000 keys never freeze the window. */
function yieldToEventLoop(): Promise<void> {
  // setImmediate where there is one (Node); a browser's worker has only timers.
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * Parses an import file: a JSON object of key to value, read incrementally (yielding to the event
 * loop every 5,000 entries). Strings are stored as they are; numbers, booleans, arrays and objects
 * as their JSON text; null is skipped. Throws a RegistryError (INVALID_VALUE) with the line and
 * column when the file is not such an object; then nothing is imported.
 */
export async function parseImport(text: string, source: string): Promise<{ entries: Entry[]; converted: number; skipped: Skipped[] }> {
  let pairs: [string, unknown][];
  try {
    pairs = await scanJsonObject(text, yieldToEventLoop);
  } catch (err) {
    throw new RegistryError('INVALID_VALUE', `${source}: ${err instanceof Error ? err.message : String(err)}. Nothing was imported.`);
  }
  const entries: Entry[] = [];
  const skipped: Skipped[] = [];
  let converted = 0;
  for (const [key, value] of pairs) {
    if (typeof value === 'string') {
      entries.push({ key, value });
    } else if (value === null) {
      skipped.push({ key, reason: 'the value is null' });
    } else {
      entries.push({ key, value: JSON.stringify(value) });
      converted++;
    }
  }
  return { entries, converted, skipped };
}

/**
 * Stores entries in chunks of 1,000 with `storeMany`, yielding between chunks. A chunk the registry
 * rejects (one bad key or value makes storeMany store none) is retried key by key, so every valid
 * entry lands and every invalid one is reported with the registry's reason.
 */
export async function importEntries(
  registry: RegistryStorage,
  parsed: { entries: Entry[]; converted: number; skipped: Skipped[] },
  options: ImportOptions,
  progress: ProgressSink,
): Promise<ImportReport> {
  const prefix = options.prefix ?? '';
  const entries = prefix === '' ? parsed.entries : parsed.entries.map((e) => ({ ...e, key: prefix + e.key }));
  const total = entries.length + parsed.skipped.length;
  const report: ImportReport = { total, stored: 0, converted: parsed.converted, skipped: [...parsed.skipped], cancelled: false };
  for (let i = 0; i < entries.length; i += CHUNK) {
    if (progress.cancelled) {
      report.cancelled = true;
      break;
    }
    let chunk = entries.slice(i, i + CHUNK);
    if (options.existing === 'skip') {
      const present = await registry.retrieveMany(chunk.map((e) => e.key)).catch(() => undefined);
      if (present) {
        const keep: Entry[] = [];
        chunk.forEach((e, j) => (present[j] === undefined ? keep.push(e) : report.skipped.push({ key: e.key, reason: 'the key exists already' })));
        chunk = keep;
      }
    }
    try {
      await registry.storeMany(chunk);
      report.stored += chunk.length;
    } catch (err) {
      if (!RegistryError.is(err, 'INVALID_KEY') && !RegistryError.is(err, 'INVALID_VALUE')) {
        throw err;
      }
      for (const e of chunk) {
        try {
          await registry.store(e.key, e.value);
          report.stored++;
        } catch (one) {
          if (!RegistryError.is(one, 'INVALID_KEY') && !RegistryError.is(one, 'INVALID_VALUE')) {
            throw one;
          }
          report.skipped.push({ key: e.key, reason: errorMessage(one) });
        }
      }
    }
    progress.report(Math.min(i + CHUNK, entries.length), entries.length);
    await yieldToEventLoop();
  }
  log.info(
    `Imported ${report.stored} of ${report.total} keys${report.converted ? ` (${report.converted} non-string values stored as JSON text)` : ''}; skipped ${report.skipped.length}${report.cancelled ? '; cancelled' : ''}.`,
  );
  return report;
}

/**
 * Exports keys as one JSON object of key to value, in key order, one page of 1,000 at a time.
 * Returns the JSON text (written by the caller) and the report.
 */
export async function exportEntries(registry: RegistryStorage, options: ExportOptions, progress: ProgressSink): Promise<{ text: string; report: ExportReport }> {
  const prefix = options.prefix ?? '';
  const total = await registry.count(prefix);
  const parts: string[] = [];
  const report: ExportReport = { exported: 0, skipped: [], cancelled: false };
  let after: string | undefined;
  do {
    if (progress.cancelled) {
      report.cancelled = true;
      break;
    }
    const page = await registry.list({ prefix, after, limit: CHUNK });
    const values = await registry.retrieveMany(page.keys);
    page.keys.forEach((key, j) => {
      const value = values[j];
      if (value === undefined) {
        report.skipped.push({ key, reason: 'the key expired or was removed during the export' });
      } else {
        parts.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
        report.exported++;
      }
    });
    after = page.next;
    progress.report(report.exported + report.skipped.length, total);
    await yieldToEventLoop();
  } while (after !== undefined);
  const text = parts.length === 0 ? '{}\n' : `{\n${parts.join(',\n')}\n}\n`;
  log.info(`Exported ${report.exported} keys${prefix ? ` below ${prefix}` : ''}; skipped ${report.skipped.length}${report.cancelled ? '; cancelled' : ''}.`);
  return { text, report };
}

/** Runs work in a cancellable notification with a percentage. */
export function withCancellableProgress<T>(title: string, work: (sink: ProgressSink) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    let last = 0;
    const sink: ProgressSink = {
      get cancelled() {
        return token.isCancellationRequested;
      },
      report(done, total) {
        if (total && total > 0) {
          const pct = (done / total) * 100;
          progress.report({ increment: pct - last, message: `${done.toLocaleString()} / ${total.toLocaleString()}` });
          last = pct;
        }
      },
    };
    return work(sink);
  });
}

/** A readable account of skipped keys, for a details document. */
export function skippedText(title: string, skipped: readonly Skipped[]): string {
  const lines = [`# ${title}`, '', `${skipped.length} skipped:`, ''];
  for (const s of skipped) {
    lines.push(`- ${JSON.stringify(s.key)}: ${s.reason}`);
  }
  return lines.join('\n') + '\n';
}

