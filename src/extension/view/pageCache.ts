import { compareKeys, parentOf } from '../../registry';

/**
 * The loaded pages of one registry's tree, per folder, with no `vscode` import (unit-tested in
 * test/unit/pageCache.test.ts). A page is the first N children of a folder plus a cursor for "Load
 * more…". Changes mark pages dirty; a dirty page reloads (at least as many items as it showed) the
 * next time the view asks. Concurrent loads of one folder share one fetch; a reset drops every page
 * and makes loads still running land nowhere.
 */

/** What the cache needs to know of a node: a folder (by its prefix) or a key. */
export interface PageItem {
  readonly kind: string;
}

export interface Page<N> {
  nodes: N[];
  next?: string;
  /** Changes touched this folder since it was loaded: reload on the next get. */
  dirty: boolean;
}

/** Cache key of the flat, filtered list (a string no folder prefix can be: keys have no control characters). */
export const FILTER_KEY = '\u0000filter';

export interface PageCacheOptions<N> {
  /** The folder prefix of a folder node, undefined for anything else. */
  folderOf(node: N): string | undefined;
  /** The key of a key node, undefined for anything else. */
  keyOf(node: N): string | undefined;
  /** Called after a load or reload replaced a page, with what it showed before (undefined: first load). */
  onLoaded?(folder: string, page: Page<N>, previous: Page<N> | undefined): void;
}

export class PageCache<N extends PageItem> {
  private readonly pages = new Map<string, Page<N>>();
  private readonly loading = new Map<string, Promise<Page<N>>>();
  private epochValue = 0;
  /** Folders that changed since the last takeDirty(): each gets one tree event. */
  private dirty = new Set<string>();
  /** How often each folder was (re)loaded from the registry: diagnostics and tests. */
  readonly loadCounts = new Map<string, number>();

  constructor(private readonly options: PageCacheOptions<N>) {}

  /** Bumped by reset(): work started before it must not land. */
  get epoch(): number {
    return this.epochValue;
  }

  get(folder: string): Page<N> | undefined {
    return this.pages.get(folder);
  }

  has(folder: string): boolean {
    return this.pages.has(folder);
  }

  delete(folder: string): void {
    this.pages.delete(folder);
  }

  folders(): string[] {
    return [...this.pages.keys()];
  }

  /**
   * The page of a folder: cached unless dirty, else fetched (`want` = max(pageSize, items shown), so a
   * reload keeps what "Load more…" had added).
   */
  load(folder: string, pageSize: number, fetch: (want: number, after: string | undefined) => Promise<Page<N>>): Promise<Page<N>> {
    const cached = this.pages.get(folder);
    if (cached && !cached.dirty) {
      return Promise.resolve(cached);
    }
    let p = this.loading.get(folder);
    if (!p) {
      const epoch = this.epochValue;
      this.loadCounts.set(folder, (this.loadCounts.get(folder) ?? 0) + 1);
      p = fetch(Math.max(pageSize, cached?.nodes.length ?? 0), undefined).then(
        (page) => {
          if (this.loading.get(folder) === p) {
            this.loading.delete(folder);
          }
          if (epoch === this.epochValue) {
            const previous = this.pages.get(folder);
            this.pages.set(folder, page);
            if (previous) {
              this.forgetVanished(previous, page);
            }
            this.options.onLoaded?.(folder, page, previous);
          }
          return page;
        },
        (err: unknown) => {
          if (this.loading.get(folder) === p) {
            this.loading.delete(folder);
          }
          throw err;
        },
      );
      this.loading.set(folder, p);
    }
    return p;
  }

  /** Appends a further page to a loaded folder (the "Load more…" item). False when the page was replaced meanwhile. */
  append(folder: string, page: Page<N>, more: Page<N>): boolean {
    if (this.pages.get(folder) !== page) {
      return false;
    }
    const seen = new Set(page.nodes);
    page.nodes.push(...more.nodes.filter((n) => !seen.has(n)));
    page.next = more.next;
    return true;
  }

  /** Pages of folders a reload no longer shows are dropped (browsing many folders does not keep them all). */
  private forgetVanished(previous: Page<N>, now: Page<N>): void {
    const kept = new Set(now.nodes);
    for (const n of previous.nodes) {
      const f = kept.has(n) ? undefined : this.options.folderOf(n);
      if (f !== undefined) {
        this.pages.delete(f);
      }
    }
  }

  markDirty(folder: string): void {
    const page = this.pages.get(folder);
    if (page) {
      page.dirty = true;
    }
    this.dirty.add(folder);
  }

  /** The folders marked since the last call. */
  takeDirty(): Set<string> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  /**
   * A key directly inside `folder` changed. The folder itself reloads if loaded; each loaded ancestor
   * reloads only when the folder on the path is missing from what it shows (it may have just
   * appeared) within its loaded pages. Every folder on the path is added to `staleCounts`.
   */
  touch(folder: string, separator: string, staleCounts: Set<string>): void {
    let f = folder;
    let child: string | undefined;
    for (;;) {
      const page = this.pages.get(f);
      if (page) {
        if (child === undefined) {
          this.markDirty(f);
        } else if (!page.nodes.some((n) => this.options.folderOf(n) === child)) {
          const last = page.nodes[page.nodes.length - 1];
          const lastKey = last === undefined ? undefined : (this.options.folderOf(last) ?? this.options.keyOf(last));
          // Beyond the loaded pages it shows up with "Load more…"; within them it must appear now.
          if (page.next === undefined || lastKey === undefined || compareKeys(child, lastKey) < 0) {
            this.markDirty(f);
          }
        }
      }
      if (f === '') {
        break;
      }
      staleCounts.add(f);
      child = f;
      f = parentOf(f, separator, true);
    }
  }

  /** Every key below `prefix` changed (a folder removed or renamed): loaded folders inside reload, and the one holding it. */
  touchPrefix(prefix: string, separator: string, staleCounts: Set<string>): void {
    for (const key of this.pages.keys()) {
      if (key !== FILTER_KEY && key !== '' && key.startsWith(prefix)) {
        this.markDirty(key);
        staleCounts.add(key);
      }
    }
    const holder = prefix.endsWith(separator) ? parentOf(prefix, separator, true) : parentOf(prefix, separator);
    this.touch(holder, separator, staleCounts);
  }

  /** Forgets every page; loads still running land nowhere. */
  reset(): void {
    this.epochValue++;
    this.pages.clear();
    this.loading.clear();
    this.dirty.clear();
  }
}
