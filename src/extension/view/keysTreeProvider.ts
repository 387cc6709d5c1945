import * as vscode from 'vscode';
import { MAX_PAGE, RegistryError, compareKeys, parentOf } from '../../registry';
import type { RegistryChange, RegistryStorage } from '../../registry';
import { errorMessage, logger } from '../log';
import type { RegistryService } from '../registryService';
import { ContextKey, Defaults, KEYS_VIEW_ID, SECTION, Setting, VIEW_SETTINGS } from '../settings';
import { ErrorNode, FolderNode, KeyNode, LoadMoreNode, previewOf } from './treeNodes';
import type { TreeNode } from './treeNodes';
import { keyCount } from '../format';

const log = logger('tree');

/** Cache key of the flat, filtered list (a string no folder prefix can be: keys have no control characters). */
const FILTER_KEY = '\u0000filter';
const DEBOUNCE_MS = 100;
const COUNT_CONCURRENCY = 4;

interface Page {
  nodes: (FolderNode | KeyNode)[];
  next?: string;
  /** Changes touched this folder since it was loaded: reload on the next getChildren. */
  dirty: boolean;
}

/**
 * The Keys view. Children come lazily from `children()` one page at a time ("Load more…"); pages
 * are cached per folder, so a refresh reloads only folders that changed. Node objects are reused
 * per id, so expansion, selection and `reveal` survive reloads.
 */
export class KeysTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;

  private readonly pages = new Map<string, Page>();
  private readonly folders = new Map<string, FolderNode>();
  private readonly keys = new Map<string, KeyNode>();
  private loading = new Map<string, Promise<Page>>();
  private filterPrefix: string | undefined;
  private view: vscode.TreeView<TreeNode> | undefined;
  private epoch = 0;
  private lastState: string | undefined;

  // Pending live changes, flushed in one batch DEBOUNCE_MS after the first of a burst.
  private pendingParents = new Set<string>();
  private pendingPrefixes = new Set<string>();
  private pendingReset = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  private countQueue: FolderNode[] = [];
  private countsRunning = 0;

  private readonly disposables: vscode.Disposable[] = [];
  /** How often each folder was (re)loaded from the registry: diagnostics and tests. */
  readonly loadCounts = new Map<string, number>();

  constructor(private readonly service: RegistryService) {
    this.disposables.push(
      this._onDidChangeTreeData,
      service.onDidChangeData((c) => this.onChange(c)),
      service.onDidChangeRegistry(() => this.reset()),
      service.onDidChangeStatus((st) => {
        this.updateMessage();
        // Lost or back: the top level switches between the Reconnect node and the keys.
        if ((st.state === 'lost') !== (this.lastState === 'lost')) {
          this._onDidChangeTreeData.fire(undefined);
        }
        this.lastState = st.state;
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (VIEW_SETTINGS.some((s) => e.affectsConfiguration(`${SECTION}.${s}`))) {
          this.reset();
        }
      }),
    );
  }

  attach(view: vscode.TreeView<TreeNode>): void {
    this.view = view;
    this.updateMessage();
  }

  // ---- settings --------------------------------------------------------------------------
  get separator(): string {
    const s = vscode.workspace.getConfiguration(SECTION).get<string>(Setting.separator, Defaults.separator);
    return typeof s === 'string' && s.length > 0 ? s : Defaults.separator;
  }

  get pageSize(): number {
    const n = vscode.workspace.getConfiguration(SECTION).get<number>(Setting.pageSize, Defaults.pageSize);
    return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_PAGE) : Defaults.pageSize;
  }

  private get previewLength(): number {
    const n = vscode.workspace.getConfiguration(SECTION).get<number>(Setting.previewLength, Defaults.previewLength);
    return Number.isInteger(n) && n > 0 ? Math.min(n, 500) : 0;
  }

  private get countsEnabled(): boolean {
    const mode = vscode.workspace.getConfiguration(SECTION).get<string>(Setting.folderCounts, Defaults.folderCounts);
    if (mode === 'never') {
      return false;
    }
    // Counting a folder on Redis means scanning it: not cheap, so only when asked for.
    return mode === 'always' || this.service.status.backend !== 'redis';
  }

  // ---- filter ----------------------------------------------------------------------------
  get filter(): string | undefined {
    return this.filterPrefix;
  }

  setFilter(prefix: string | undefined): void {
    this.filterPrefix = prefix === '' ? undefined : prefix;
    void vscode.commands.executeCommand('setContext', ContextKey.filtered, this.filterPrefix !== undefined);
    this.reset();
  }

  // ---- TreeDataProvider ------------------------------------------------------------------
  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.toTreeItem();
  }

  getParent(node: TreeNode): TreeNode | undefined {
    if (this.filterPrefix !== undefined) {
      return undefined;
    }
    const sep = this.separator;
    let parent = '';
    if (node instanceof KeyNode) {
      parent = parentOf(node.key, sep);
    } else if (node instanceof FolderNode) {
      parent = parentOf(node.prefix, sep, true);
    } else {
      parent = node.parentKey;
    }
    return parent === '' ? undefined : this.folderNode(parent);
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (node && !(node instanceof FolderNode)) {
      return [];
    }
    let registry: RegistryStorage;
    try {
      // Opening a large sqlite registry takes a moment (in its worker thread): show progress on the view.
      registry = this.service.current ?? (await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => this.service.getRegistry()));
    } catch {
      // The failed state shows the not-connected welcome view (the tree must be empty for it).
      this.updateMessage();
      return [];
    }
    const key = node ? node.prefix : this.filterPrefix !== undefined ? FILTER_KEY : '';
    if (!node && this.service.status.state === 'lost') {
      return [new ErrorNode(this.service.status.error ?? '', true, key)];
    }
    let page: Page;
    try {
      page = await this.load(key, registry);
      this.service.reportHealthy(registry);
    } catch (err) {
      this.service.reportError(err, registry);
      log.error(`Could not load ${key === '' ? 'the top level' : key === FILTER_KEY ? 'the filtered list' : key}`, err);
      const lost = RegistryError.is(err, 'UNAVAILABLE');
      return [new ErrorNode(errorMessage(err), lost, key)];
    }
    if (!node) {
      void vscode.commands.executeCommand('setContext', ContextKey.empty, page.nodes.length === 0);
    }
    return page.next !== undefined ? [...page.nodes, new LoadMoreNode(key)] : page.nodes;
  }

  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node instanceof KeyNode && this.service.current) {
      try {
        const info = await this.service.current.inspect(node.key);
        if (token.isCancellationRequested) {
          return item;
        }
        item.tooltip = keyTooltip(node.key, info);
      } catch (err) {
        item.tooltip = errorMessage(err);
      }
    } else if (node instanceof FolderNode) {
      const md = new vscode.MarkdownString();
      md.appendMarkdown(`**${vscode.l10n.t('Folder')}** `).appendCodeblock(node.prefix, 'text');
      if (node.count !== undefined) {
        md.appendMarkdown(keyCount(node.count));
      }
      item.tooltip = md;
    }
    return item;
  }

  // ---- loading ---------------------------------------------------------------------------
  /** The cached page of a folder, loaded (or reloaded when dirty) first. */
  private load(key: string, registry: RegistryStorage): Promise<Page> {
    const cached = this.pages.get(key);
    if (cached && !cached.dirty) {
      return Promise.resolve(cached);
    }
    let p = this.loading.get(key);
    if (!p) {
      const epoch = this.epoch;
      this.loadCounts.set(key, (this.loadCounts.get(key) ?? 0) + 1);
      p = this.fetch(key, registry, Math.max(this.pageSize, cached?.nodes.length ?? 0), undefined).then(
        (page) => {
          this.loading.delete(key);
          if (epoch === this.epoch) {
            const previous = this.pages.get(key);
            this.pages.set(key, page);
            if (previous) {
              this.forgetVanished(previous, page);
            }
            this.afterLoad(key, page);
          }
          return page;
        },
        (err: unknown) => {
          this.loading.delete(key);
          throw err;
        },
      );
      this.loading.set(key, p);
    }
    return p;
  }

  /** Fetches `want` children of a folder (several backend pages if more than MAX_PAGE) after `after`. */
  private async fetch(key: string, registry: RegistryStorage, want: number, after: string | undefined): Promise<Page> {
    const sep = this.separator;
    const nodes: (FolderNode | KeyNode)[] = [];
    let next = after;
    do {
      const limit = Math.min(MAX_PAGE, want - nodes.length);
      if (key === FILTER_KEY) {
        const page = await registry.list({ prefix: this.filterPrefix ?? '', after: next, limit });
        for (const k of page.keys) {
          nodes.push(this.keyNode(k, true));
        }
        next = page.next;
      } else {
        const page = await registry.children(key, sep, { after: next, limit });
        for (const item of page.items) {
          nodes.push(item.kind === 'folder' ? this.folderNode(item.key) : this.keyNode(item.key, false));
        }
        next = page.next;
      }
    } while (next !== undefined && nodes.length < want);
    await this.loadPreviews(nodes, registry);
    return { nodes, next, dirty: false };
  }

  private async loadPreviews(nodes: readonly (FolderNode | KeyNode)[], registry: RegistryStorage): Promise<void> {
    const max = this.previewLength;
    const keyNodes = nodes.filter((n): n is KeyNode => n instanceof KeyNode);
    if (max === 0 || keyNodes.length === 0) {
      for (const n of keyNodes) {
        n.preview = undefined;
      }
      return;
    }
    for (let i = 0; i < keyNodes.length; i += MAX_PAGE) {
      const slice = keyNodes.slice(i, i + MAX_PAGE);
      const values = await registry.retrieveMany(slice.map((n) => n.key));
      slice.forEach((n, j) => {
        const v = values[j];
        n.preview = v === undefined ? undefined : previewOf(v, max);
      });
    }
  }

  /** Drops the node objects a reload no longer shows, so browsing many keys does not keep them all. */
  private forgetVanished(previous: Page, now: Page): void {
    const kept = new Set(now.nodes);
    for (const n of previous.nodes) {
      if (kept.has(n)) {
        continue;
      }
      if (n instanceof FolderNode) {
        this.folders.delete(n.prefix);
        this.pages.delete(n.prefix);
      } else {
        this.keys.delete(n.id);
      }
    }
  }

  private afterLoad(key: string, page: Page): void {
    if (key !== '' && key !== FILTER_KEY && page.nodes.length === 0) {
      // The folder is gone: its parent has to drop it.
      this.pages.delete(key);
      this.markDirty(parentOf(key, this.separator, true));
      this.scheduleFlush();
    }
    if (this.countsEnabled) {
      for (const n of page.nodes) {
        if (n instanceof FolderNode && n.count === undefined) {
          this.queueCount(n);
        }
      }
    }
  }

  /** Appends the next page of a folder (the "Load more…" item). */
  async loadMore(node: LoadMoreNode): Promise<void> {
    const key = node.parentKey;
    const page = this.pages.get(key);
    const registry = this.service.current;
    if (!page || page.next === undefined || !registry) {
      return;
    }
    const epoch = this.epoch;
    await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, async () => {
      try {
        const more = await this.fetch(key, registry, this.pageSize, page.next);
        if (epoch !== this.epoch || this.pages.get(key) !== page) {
          return;
        }
        const seen = new Set(page.nodes.map((n) => n.id));
        page.nodes.push(...more.nodes.filter((n) => !seen.has(n.id)));
        page.next = more.next;
        this.afterLoad(key, more);
        this.fireFolder(key);
      } catch (err) {
        this.service.reportError(err, registry);
        log.error('Could not load more', err);
        void vscode.window.showErrorMessage(vscode.l10n.t('Could not load more keys: {0}', errorMessage(err)));
      }
    });
  }

  // ---- folder counts ---------------------------------------------------------------------
  private queueCount(node: FolderNode): void {
    if (!this.countQueue.includes(node)) {
      this.countQueue.push(node);
    }
    // Counting starts after the children went out (an embedded backend counts on this thread):
    // the folder shows first, its count follows.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setTimeout(() => {
        this.pumpScheduled = false;
        this.pumpCounts();
      }, 0);
    }
  }

  private pumpScheduled = false;

  private pumpCounts(): void {
    while (this.countsRunning < COUNT_CONCURRENCY && this.countQueue.length > 0) {
      const node = this.countQueue.shift()!;
      const registry = this.service.current;
      if (!registry) {
        this.countQueue = [];
        return;
      }
      this.countsRunning++;
      const epoch = this.epoch;
      registry
        .count(node.prefix)
        .then(
          (n) => {
            if (epoch === this.epoch && n !== node.count) {
              node.count = n;
              this._onDidChangeTreeData.fire(node);
            }
          },
          (err: unknown) => log.warn(`Could not count ${node.prefix}: ${errorMessage(err)}`),
        )
        .finally(() => {
          this.countsRunning--;
          this.pumpCounts();
        });
    }
  }

  // ---- live changes ----------------------------------------------------------------------
  private onChange(change: RegistryChange): void {
    const sep = this.separator;
    switch (change.kind) {
      case 'store':
      case 'remove':
        this.pendingParents.add(parentOf(change.key ?? '', sep));
        break;
      case 'removePrefix':
        this.pendingPrefixes.add(change.prefix ?? '');
        break;
      case 'rename':
        if (change.prefix !== undefined) {
          this.pendingPrefixes.add(change.from ?? '');
          this.pendingPrefixes.add(change.to ?? '');
        } else {
          this.pendingParents.add(parentOf(change.from ?? '', sep));
          this.pendingParents.add(parentOf(change.to ?? '', sep));
        }
        break;
      case 'clear':
      default:
        this.pendingReset = true;
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), DEBOUNCE_MS);
    }
  }

  /** Applies a batch of changes: marks the touched folders dirty and fires one event per folder. */
  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const parents = this.pendingParents;
    const prefixes = this.pendingPrefixes;
    const reset = this.pendingReset;
    this.pendingParents = new Set();
    this.pendingPrefixes = new Set();
    this.pendingReset = false;
    if (reset) {
      this.reset();
      return;
    }
    if (this.pages.has(FILTER_KEY) && (parents.size > 0 || prefixes.size > 0)) {
      this.markDirty(FILTER_KEY);
    }
    const sep = this.separator;
    const staleCounts = new Set<string>();
    for (const parent of parents) {
      this.touch(parent, staleCounts);
    }
    for (const prefix of prefixes) {
      // Loaded folders inside the prefix lost (or gained) everything: drop them.
      for (const key of [...this.pages.keys()]) {
        if (key !== FILTER_KEY && key !== '' && key.startsWith(prefix)) {
          this.pages.get(key)!.dirty = true;
          this.dirty.add(key);
          staleCounts.add(key);
        }
      }
      // The deepest loaded folder that holds the prefix shows the change.
      const holder = prefix.endsWith(sep) ? parentOf(prefix, sep, true) : parentOf(prefix, sep);
      this.touch(holder, staleCounts);
      for (const [p, f] of this.folders) {
        if (p.startsWith(prefix)) {
          f.count = undefined;
        }
      }
    }
    const toFire = this.dirty;
    this.dirty = new Set();
    void this.recountThenFire(staleCounts, toFire);
  }

  /**
   * Recounts the folders whose count changed (a few at once; cheap where counts are shown at all),
   * then fires one event per touched folder: a folder whose list and count both changed renders once.
   */
  private async recountThenFire(staleCounts: Set<string>, toFire: Set<string>): Promise<void> {
    const registry = this.service.current;
    const epoch = this.epoch;
    const recount = this.countsEnabled && registry ? [...staleCounts].map((p) => this.folders.get(p)).filter((f): f is FolderNode => f !== undefined) : [];
    const inline = recount.slice(0, 32);
    const changed = new Set<FolderNode>();
    await Promise.all(
      inline.map(async (f) => {
        try {
          const n = await registry!.count(f.prefix);
          if (n !== f.count) {
            f.count = n;
            changed.add(f);
          }
        } catch (err) {
          log.warn(`Could not count ${f.prefix}: ${errorMessage(err)}`);
        }
      }),
    );
    for (const f of recount.slice(32)) {
      this.queueCount(f);
    }
    if (epoch !== this.epoch) {
      return;
    }
    for (const key of toFire) {
      this.fireFolder(key);
      const node = this.folders.get(key);
      if (node) {
        changed.delete(node);
      }
    }
    for (const f of changed) {
      this._onDidChangeTreeData.fire(f);
    }
  }

  private dirty = new Set<string>();

  /**
   * A key directly inside `folder` changed. The folder itself reloads if loaded; each loaded
   * ancestor reloads only when the folder on the path is missing from what it shows (it may have
   * just appeared); all of them get their counts refreshed.
   */
  private touch(folder: string, staleCounts: Set<string>): void {
    const sep = this.separator;
    let f = folder;
    let child: string | undefined;
    for (;;) {
      const page = this.pages.get(f);
      if (page) {
        if (child === undefined) {
          this.markDirty(f);
        } else if (!page.nodes.some((n) => n instanceof FolderNode && n.prefix === child)) {
          const last = page.nodes[page.nodes.length - 1];
          const lastKey = last === undefined ? undefined : last instanceof FolderNode ? last.prefix : last.key;
          // Beyond the loaded pages it shows up with "Load more…"; within them it must appear now.
          if (page.next === undefined || lastKey === undefined || compareKeys(child, lastKey) < 0) {
            this.markDirty(f);
          }
        }
      }
      if (f !== '') {
        staleCounts.add(f);
      }
      if (f === '') {
        break;
      }
      child = f;
      f = parentOf(f, sep, true);
    }
  }

  private markDirty(key: string): void {
    const page = this.pages.get(key);
    if (page) {
      page.dirty = true;
    }
    this.dirty.add(key);
  }

  private fireFolder(key: string): void {
    if (key === '' || key === FILTER_KEY) {
      this._onDidChangeTreeData.fire(undefined);
    } else {
      const node = this.folders.get(key);
      if (node) {
        this._onDidChangeTreeData.fire(node);
      }
    }
  }

  /** Forgets every loaded page and reloads what is shown (expanded folders stay expanded: ids are stable). */
  reset(): void {
    this.epoch++;
    this.pages.clear();
    this.loading.clear();
    this.countQueue = [];
    this.dirty.clear();
    // A full refresh: VS Code asks for everything again, so new node objects are fine (and old ones are freed).
    this.folders.clear();
    this.keys.clear();
    this.updateMessage();
    this._onDidChangeTreeData.fire(undefined);
  }

  /** Reloads everything (the Refresh command). */
  refresh(): void {
    this.reset();
  }

  // ---- nodes -----------------------------------------------------------------------------
  folderNode(prefix: string): FolderNode {
    let n = this.folders.get(prefix);
    if (!n) {
      n = new FolderNode(prefix, this.separator);
      this.folders.set(prefix, n);
    }
    return n;
  }

  keyNode(key: string, flat: boolean): KeyNode {
    const id = `${flat ? 'fkey' : 'key'}:${key}`;
    let n = this.keys.get(id);
    if (!n) {
      n = new KeyNode(key, this.separator, flat);
      this.keys.set(id, n);
    }
    return n;
  }

  /**
   * Shows a key in the view: loads every folder on its path (and pages within them) until the key
   * is there, then reveals it. False when the key does not exist.
   */
  async reveal(key: string, options: { select?: boolean; focus?: boolean } = {}): Promise<boolean> {
    const registry = await this.service.getRegistry();
    if (!this.view || !(await registry.contains(key))) {
      return false;
    }
    // Apply changes still waiting for their batch, so every page on the path is current.
    if (this.flushTimer) {
      this.flush();
    }
    const sep = this.separator;
    const chain: string[] = [];
    for (let f = parentOf(key, sep); f !== ''; f = parentOf(f, sep, true)) {
      chain.unshift(f);
    }
    const pageKeys = this.filterPrefix !== undefined ? [FILTER_KEY] : ['', ...chain];
    const targets = this.filterPrefix !== undefined ? [key] : [...chain, key];
    for (let i = 0; i < pageKeys.length; i++) {
      const want = targets[i];
      const page = await this.load(pageKeys[i], registry);
      while (!page.nodes.some((n) => (n instanceof FolderNode ? n.prefix : n.key) === want) && page.next !== undefined) {
        await this.loadMore(new LoadMoreNode(pageKeys[i]));
      }
    }
    const node = this.filterPrefix !== undefined ? this.keyNode(key, true) : this.keyNode(key, false);
    await this.view.reveal(node, { select: options.select ?? true, focus: options.focus ?? false, expand: false });
    return true;
  }

  /** What the view shows now, for tests and diagnostics: the cached page of a folder. */
  peek(folder: string): { items: { kind: string; key: string; description?: string }[]; hasMore: boolean } | undefined {
    const page = this.pages.get(folder);
    if (!page) {
      return undefined;
    }
    return {
      items: page.nodes.map((n) =>
        n instanceof FolderNode
          ? { kind: 'folder', key: n.prefix, description: n.count === undefined ? undefined : String(n.count) }
          : { kind: 'key', key: n.key, description: n.preview },
      ),
      hasMore: page.next !== undefined,
    };
  }

  // ---- view message ----------------------------------------------------------------------
  private updateMessage(): void {
    if (!this.view) {
      return;
    }
    const s = this.service.status;
    const parts: string[] = [];
    if (s.state === 'failed') {
      parts.push(vscode.l10n.t('Could not open the {0} registry: {1}', s.backend, s.error ?? ''));
    }
    if (s.state === 'connecting') {
      parts.push(vscode.l10n.t('Opening the {0} registry…', s.backend));
    }
    if (s.readOnly) {
      parts.push(vscode.l10n.t('Read-only: another VS Code window holds the registry file.'));
    }
    if (s.warning) {
      parts.push(s.warning);
    }
    parts.push(...s.notes);
    if (this.filterPrefix !== undefined) {
      // The description alone is hidden when the view's header merges into the container's title.
      parts.push(vscode.l10n.t('Showing keys that start with "{0}" (Clear Filter to see all).', this.filterPrefix));
    }
    this.view.message = parts.length > 0 ? parts.join(' ') : undefined;
    this.view.description = this.filterPrefix !== undefined ? vscode.l10n.t('filter: {0}', this.filterPrefix) : undefined;
  }

  dispose(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
    }
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

/** The tooltip of a key: its name, size, remaining time to live and the start of its value. */
export function keyTooltip(key: string, info: { bytes: number; expiresAt?: number; value: string } | undefined): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendCodeblock(key, 'text');
  if (!info) {
    md.appendMarkdown(vscode.l10n.t('This key no longer exists.'));
    return md;
  }
  md.appendMarkdown(`${vscode.l10n.t('Size')}: ${formatBytes(info.bytes)}  \n`);
  md.appendMarkdown(
    `${vscode.l10n.t('Expires')}: ${info.expiresAt === undefined ? vscode.l10n.t('never') : vscode.l10n.t('in {0}', formatDuration(info.expiresAt - Date.now()))}\n`,
  );
  md.appendCodeblock(info.value.length > 500 ? info.value.slice(0, 500) + '…' : info.value, 'text');
  return md;
}

export function formatBytes(n: number): string {
  if (n < 1024) {
    return vscode.l10n.t('{0} bytes', n);
  }
  if (n < 1024 * 1024) {
    return `${(n / 1024).toFixed(1)} KiB`;
  }
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** 90061000 -> '1d 1h 1m 1s'. */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) {
    parts.push(`${s}s`);
  }
  return parts.join(' ');
}
