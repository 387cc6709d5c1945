import * as vscode from 'vscode';
import { MAX_PAGE, RegistryError, childrenWithValues, listWithValues, parentOf } from '../../registry';
import type { RegistryChange, RegistryStorage } from '../../registry';
import { keyCount } from '../format';
import { errorMessage, logger } from '../log';
import type { ManagedRegistry } from '../registries/managedRegistry';
import type { RegistryService } from '../registryService';
import { ConnectingDelay } from '../connectingDelay';
import { ContextKey, Defaults, KEYS_VIEW_ID, SECTION, Setting, VIEW_SETTINGS } from '../settings';
import { ChangeBatcher } from './changeBatcher';
import type { ChangeBatch } from './changeBatcher';
import { FolderCounter } from './folderCounter';
import { FILTER_KEY, PageCache } from './pageCache';
import type { Page } from './pageCache';
import { ErrorNode, FolderNode, KeyNode, LoadMoreNode, PREVIEW_HEAD, RegistryNode, previewOf } from './treeNodes';
import type { TreeNode } from './treeNodes';

const log = logger('tree');
const DEBOUNCE_MS = 100;

type ItemNode = FolderNode | KeyNode;

/**
 * One registry's part of the tree: its page cache, folder counter and change batcher, and the node
 * objects it handed out (reused per id, so expansion, selection and `reveal` survive reloads).
 */
class RegistryTree {
  readonly cache: PageCache<ItemNode>;
  readonly counter: FolderCounter<FolderNode>;
  readonly batcher: ChangeBatcher;
  readonly folders = new Map<string, FolderNode>();
  readonly keys = new Map<string, KeyNode>();
  lastState: string | undefined;
  /** The root node of this registry in the view. */
  readonly root: RegistryNode;

  constructor(
    readonly managed: ManagedRegistry,
    private readonly provider: KeysTreeProvider,
  ) {
    this.cache = new PageCache<ItemNode>({
      folderOf: (n) => (n instanceof FolderNode ? n.prefix : undefined),
      keyOf: (n) => (n instanceof KeyNode ? n.key : undefined),
      onLoaded: (folder, page, previous) => this.onLoaded(folder, page, previous),
    });
    this.counter = new FolderCounter<FolderNode>(
      (prefix) => this.managed.current?.count(prefix),
      (f) => provider.fire(f),
      (f, err) => log.warn(`Could not count ${f.prefix} in ${managed.name}: ${errorMessage(err)}`),
    );
    this.batcher = new ChangeBatcher(() => provider.separator, (b) => this.apply(b), DEBOUNCE_MS);
    this.root = new RegistryNode(managed, (id) => provider.backendLabel(id));
  }

  get name(): string {
    return this.managed.name;
  }

  folderNode(prefix: string): FolderNode {
    let n = this.folders.get(prefix);
    if (!n) {
      n = new FolderNode(prefix, this.provider.separator, this.name);
      this.folders.set(prefix, n);
    }
    return n;
  }

  keyNode(key: string, flat: boolean): KeyNode {
    const id = `${flat ? 'fkey' : 'key'}:${key}`;
    let n = this.keys.get(id);
    if (!n) {
      n = new KeyNode(key, this.provider.separator, flat, this.name);
      this.keys.set(id, n);
    }
    return n;
  }

  load(folder: string, registry: RegistryStorage): Promise<Page<ItemNode>> {
    return this.cache.load(folder, this.provider.pageSize, (want, after) => this.fetch(folder, registry, want, after));
  }

  /** Fetches `want` children of a folder (several backend pages if more than MAX_PAGE) after `after`. */
  async fetch(folder: string, registry: RegistryStorage, want: number, after: string | undefined): Promise<Page<ItemNode>> {
    const sep = this.provider.separator;
    const max = this.provider.previewLength;
    const nodes: ItemNode[] = [];
    let next = after;
    do {
      const limit = Math.min(MAX_PAGE, want - nodes.length);
      if (folder === FILTER_KEY) {
        // With previews: the keys and their values in one call, as for a folder's children.
        const options = { prefix: this.provider.filter ?? '', after: next, limit };
        const { page, values } = max > 0 ? await listWithValues(registry, options, PREVIEW_HEAD * max) : { page: await registry.list(options), values: [] };
        page.keys.forEach((k, i) => nodes.push(this.withPreview(this.keyNode(k, true), values[i], max)));
        next = page.next;
      } else {
        // With previews: the page and its values in one call (one message each way to the sqlite engine's thread).
        const { page, values } =
          max > 0 ? await childrenWithValues(registry, folder, sep, { after: next, limit }, PREVIEW_HEAD * max) : { page: await registry.children(folder, sep, { after: next, limit }), values: [] };
        page.items.forEach((item, i) => {
          if (item.kind === 'folder') {
            nodes.push(this.folderNode(item.key));
          } else {
            nodes.push(this.withPreview(this.keyNode(item.key, false), values[i], max));
          }
        });
        next = page.next;
      }
    } while (next !== undefined && nodes.length < want);
    return { nodes, next, dirty: false };
  }

  /** The key's node with the preview of `value` (none when the value is missing or previews are off). */
  private withPreview(n: KeyNode, value: string | undefined, max: number): KeyNode {
    n.preview = value === undefined ? undefined : previewOf(value, max);
    return n;
  }

  private onLoaded(folder: string, page: Page<ItemNode>, previous: Page<ItemNode> | undefined): void {
    if (previous) {
      // Drop the node objects a reload no longer shows, so browsing many keys does not keep them all.
      const kept = new Set(page.nodes);
      for (const n of previous.nodes) {
        if (!kept.has(n)) {
          if (n instanceof FolderNode) {
            this.folders.delete(n.prefix);
          } else {
            this.keys.delete(`${n.flat ? 'fkey' : 'key'}:${n.key}`);
          }
        }
      }
    }
    this.afterLoad(folder, page);
  }

  afterLoad(folder: string, page: Page<ItemNode>): void {
    if (folder !== '' && folder !== FILTER_KEY && page.nodes.length === 0) {
      // The folder is gone: its parent has to drop it.
      this.cache.delete(folder);
      this.cache.markDirty(parentOf(folder, this.provider.separator, true));
      this.batcher.schedule();
    }
    if (this.provider.countsEnabled(this.managed)) {
      for (const n of page.nodes) {
        if (n instanceof FolderNode && n.count === undefined) {
          this.counter.enqueue(n);
        }
      }
    }
  }

  onChange(change: RegistryChange): void {
    this.batcher.add(change);
  }

  /** Applies a batch of changes: marks the touched folders dirty, recounts, and fires one event per folder. */
  private apply(batch: ChangeBatch): void {
    if (batch.reset) {
      this.reset();
      this.provider.fireRegistry(this);
      return;
    }
    if (this.cache.has(FILTER_KEY) && (batch.parents.size > 0 || batch.prefixes.size > 0)) {
      this.cache.markDirty(FILTER_KEY);
    }
    const sep = this.provider.separator;
    const staleCounts = new Set<string>();
    for (const parent of batch.parents) {
      this.cache.touch(parent, sep, staleCounts);
    }
    for (const prefix of batch.prefixes) {
      this.cache.touchPrefix(prefix, sep, staleCounts);
      for (const [p, f] of this.folders) {
        if (p.startsWith(prefix)) {
          f.count = undefined;
        }
      }
    }
    // Also folders marked outside a batch (a folder that turned out empty).
    const toFire = this.cache.takeDirty();
    void this.recountThenFire(staleCounts, toFire);
  }

  /** Recounts the folders whose count changed, then fires one event per touched folder (a folder whose list and count changed renders once). */
  private async recountThenFire(staleCounts: Set<string>, toFire: Set<string>): Promise<void> {
    const epoch = this.cache.epoch;
    const recount =
      this.provider.countsEnabled(this.managed) && this.managed.current
        ? [...staleCounts].map((p) => this.folders.get(p)).filter((f): f is FolderNode => f !== undefined)
        : [];
    const changed = await this.counter.recount(recount);
    if (epoch !== this.cache.epoch) {
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
      this.provider.fire(f);
    }
  }

  fireFolder(key: string): void {
    if (key === '' || key === FILTER_KEY) {
      this.provider.fireRegistry(this);
    } else {
      const node = this.folders.get(key);
      if (node) {
        this.provider.fire(node);
      }
    }
  }

  /** Forgets every loaded page and node (VS Code asks for everything again; expanded folders stay expanded: ids are stable). */
  reset(): void {
    // Changes still waiting for their batch are covered by the reload.
    this.batcher.discard();
    this.cache.reset();
    this.counter.reset();
    this.folders.clear();
    this.keys.clear();
  }

  dispose(): void {
    this.batcher.dispose();
    this.counter.reset();
  }
}

/**
 * The Keys view, as glue: per registry a RegistryTree (page cache, folder counter, change batcher);
 * here the TreeDataProvider itself, "Load more…", reveal, tooltips and the view message.
 */
export class KeysTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;

  private readonly trees = new Map<string, RegistryTree>();
  private filterPrefix: string | undefined;
  private view: vscode.TreeView<TreeNode> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly connecting = new ConnectingDelay();

  constructor(private readonly service: RegistryService) {
    this.disposables.push(
      this._onDidChangeTreeData,
      service.onDidChangeAnyData(({ registry, change }) => this.treeOf(registry.name)?.onChange(change)),
      service.onDidChangeAnyRegistry((registry) => {
        const tree = this.treeOf(registry.name);
        if (tree) {
          tree.reset();
          this.updateMessage();
          this.fireRegistry(tree);
        }
      }),
      service.onDidChangeAnyStatus((registry) => {
        const tree = this.treeOf(registry.name);
        if (!tree) {
          return;
        }
        const state = registry.status.state;
        // "Opening the … registry…" only once the open has taken a moment (no flash for a quick one).
        this.connecting.render(state === 'connecting' && registry === this.service.workspace, () => this.updateMessage());
        // The root shows the state; lost, failed or back: its children switch between the Reconnect node and the keys.
        const broken = (st: string | undefined): boolean => st === 'lost' || st === 'failed';
        if (broken(state) !== broken(tree.lastState)) {
          tree.reset();
          this.fireRegistry(tree);
        } else if (!this.single) {
          this._onDidChangeTreeData.fire(tree.root);
        }
        tree.lastState = state;
      }),
      service.onDidChangeRegistries(() => {
        for (const [name, tree] of [...this.trees]) {
          if (!this.service.find(name) || this.service.find(name) !== tree.managed) {
            tree.dispose();
            this.trees.delete(name);
          }
        }
        this.updateMessage();
        this._onDidChangeTreeData.fire(undefined);
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

  /** The tree part of a registry (made on first use). */
  private treeOf(name: string): RegistryTree | undefined {
    let tree = this.trees.get(name);
    if (!tree) {
      const managed = this.service.find(name);
      if (!managed) {
        return undefined;
      }
      tree = new RegistryTree(managed, this);
      this.trees.set(name, tree);
    }
    return tree;
  }

  private get workspaceTree(): RegistryTree {
    return this.treeOf(this.service.workspace.name)!;
  }

  /** @internal for RegistryTree: one node changed. */
  fire(node: TreeNode | undefined): void {
    this._onDidChangeTreeData.fire(node);
  }

  /** @internal for RegistryTree: the registry's top level changed. */
  fireRegistry(tree: RegistryTree): void {
    this._onDidChangeTreeData.fire(this.single ? undefined : tree.root);
  }

  /**
   * True while the workspace registry is the only one: its keys are then the view's top level (no
   * root to expand, and the welcome views for an empty or unreachable registry work as they always did).
   */
  get single(): boolean {
    return this.service.registries.length === 1;
  }

  backendLabel(id: string): string {
    return this.service.catalog.label(id);
  }

  /** The root node of a registry. */
  rootOf(name: string): RegistryNode | undefined {
    return this.treeOf(name)?.root;
  }

  /** Shows a registry's root (after Add Connection…). */
  async revealRegistry(name: string): Promise<void> {
    const root = this.rootOf(name);
    if (root && this.view && !this.single) {
      await this.view.reveal(root, { select: true, focus: false, expand: true }).then(undefined, () => undefined);
    }
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

  get previewLength(): number {
    const n = vscode.workspace.getConfiguration(SECTION).get<number>(Setting.previewLength, Defaults.previewLength);
    return Number.isInteger(n) && n > 0 ? Math.min(n, 500) : 0;
  }

  countsEnabled(registry: ManagedRegistry): boolean {
    const mode = vscode.workspace.getConfiguration(SECTION).get<string>(Setting.folderCounts, Defaults.folderCounts);
    if (mode === 'never') {
      return false;
    }
    // Counting a folder on Redis means scanning it: not cheap, so only when asked for.
    return mode === 'always' || registry.status.backend !== 'redis';
  }

  /** How often each folder of the workspace registry was (re)loaded: diagnostics and tests. */
  get loadCounts(): Map<string, number> {
    return this.workspaceTree.cache.loadCounts;
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
    const tree = this.treeOf(node.registry);
    if (node instanceof RegistryNode) {
      return undefined;
    }
    if (this.filterPrefix !== undefined) {
      return this.single ? undefined : tree?.root;
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
    if (!tree) {
      return undefined;
    }
    return parent === '' ? (this.single ? undefined : tree.root) : tree.folderNode(parent);
  }

  /** The top level: one root per registry (or the workspace registry's keys when it is the only one). Each root loads on its own. */
  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) {
      if (this.single) {
        return this.childrenOf(this.workspaceTree, undefined);
      }
      return this.service.registries.map((r) => this.treeOf(r.name)!.root);
    }
    if (!(node instanceof FolderNode) && !(node instanceof RegistryNode)) {
      return [];
    }
    const tree = this.treeOf(node.registry);
    if (!tree) {
      return [];
    }
    return this.childrenOf(tree, node instanceof FolderNode ? node : undefined);
  }

  private async childrenOf(tree: RegistryTree, node: FolderNode | undefined): Promise<TreeNode[]> {
    const managed = tree.managed;
    let registry: RegistryStorage;
    try {
      // Opening a large sqlite registry takes a moment (in its worker thread): show progress on the view.
      registry = managed.current ?? (await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => managed.getRegistry()));
    } catch (err) {
      this.updateMessage();
      if (!node && this.single) {
        // Alone, the failed workspace registry shows the not-connected welcome view (the tree must be empty for it).
        return [];
      }
      // One node under the root says why, with Retry; the other roots are not affected.
      return [new ErrorNode(managed.status.error ?? errorMessage(err), true, '', tree.name, true)];
    }
    const key = node ? node.prefix : this.filterPrefix !== undefined ? FILTER_KEY : '';
    if (!node && managed.status.state === 'lost') {
      return [new ErrorNode(managed.status.error ?? '', true, key, tree.name)];
    }
    let page: Page<ItemNode>;
    try {
      page = await tree.load(key, registry);
      managed.reportHealthy(registry);
    } catch (err) {
      managed.reportError(err, registry);
      log.error(`Could not load ${key === '' ? 'the top level' : key === FILTER_KEY ? 'the filtered list' : key} of ${tree.name}`, err);
      const lost = RegistryError.is(err, 'UNAVAILABLE');
      return [new ErrorNode(errorMessage(err), lost, key, tree.name)];
    }
    if (!node && managed === this.service.workspace) {
      void vscode.commands.executeCommand('setContext', ContextKey.empty, page.nodes.length === 0);
    }
    return page.next !== undefined ? [...page.nodes, new LoadMoreNode(key, tree.name)] : page.nodes;
  }

  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    const registry = this.service.find(node.registry)?.current;
    if (node instanceof KeyNode && registry) {
      try {
        const info = await registry.inspect(node.key);
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

  /** Appends the next page of a folder (the "Load more…" item). */
  async loadMore(node: LoadMoreNode): Promise<void> {
    const tree = this.treeOf(node.registry);
    const key = node.parentKey;
    const page = tree?.cache.get(key);
    const registry = tree?.managed.current;
    if (!tree || !page || page.next === undefined || !registry) {
      return;
    }
    const epoch = tree.cache.epoch;
    await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, async () => {
      try {
        const more = await tree.fetch(key, registry, this.pageSize, page.next);
        if (epoch !== tree.cache.epoch || !tree.cache.append(key, page, more)) {
          return;
        }
        tree.afterLoad(key, more);
        tree.fireFolder(key);
      } catch (err) {
        tree.managed.reportError(err, registry);
        log.error('Could not load more', err);
        void vscode.window.showErrorMessage(vscode.l10n.t('Could not load more keys: {0}', errorMessage(err)));
      }
    });
  }

  /** Forgets every loaded page of every registry and reloads what is shown. */
  reset(): void {
    for (const tree of this.trees.values()) {
      tree.reset();
    }
    this.updateMessage();
    this._onDidChangeTreeData.fire(undefined);
  }

  /** Reloads everything (the Refresh command). */
  refresh(): void {
    this.reset();
  }

  /**
   * Shows a key in the view: loads every folder on its path (and pages within them) until the key
   * is there, then reveals it. False when the key does not exist.
   */
  async reveal(key: string, options: { select?: boolean; focus?: boolean } = {}, registryName?: string): Promise<boolean> {
    const tree = registryName === undefined ? this.workspaceTree : this.treeOf(registryName);
    if (!tree) {
      return false;
    }
    const registry = await tree.managed.getRegistry();
    if (!this.view || !(await registry.contains(key))) {
      return false;
    }
    // Apply changes still waiting for their batch, so every page on the path is current.
    if (tree.batcher.pending) {
      tree.batcher.flush();
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
      const page = await tree.load(pageKeys[i], registry);
      while (!page.nodes.some((n) => (n instanceof FolderNode ? n.prefix : n.key) === want) && page.next !== undefined) {
        await this.loadMore(new LoadMoreNode(pageKeys[i], tree.name));
      }
    }
    const node = tree.keyNode(key, this.filterPrefix !== undefined);
    await this.view.reveal(node, { select: options.select ?? true, focus: options.focus ?? false, expand: false });
    return true;
  }

  /** What the view shows now, for tests and diagnostics: the cached page of a folder. */
  peek(folder: string, registryName?: string): { items: { kind: string; key: string; description?: string }[]; hasMore: boolean } | undefined {
    const tree = registryName === undefined ? this.workspaceTree : this.treeOf(registryName);
    const page = tree?.cache.get(folder);
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
    // A read-only registry says why in its notes (another window holds the file, or the disk is
    // full); a generic line here would name the wrong cause for the second.
    if (s.readOnly && !s.notes.some((n) => n.startsWith('Read-only'))) {
      parts.push(vscode.l10n.t('Read-only.'));
    }
    if (s.warning) {
      parts.push(s.warning);
    }
    parts.push(...s.notes);
    if (this.service.hiddenByTrust > 0) {
      parts.push(
        vscode.l10n.t(
          'Restricted Mode: only this workspace\'s own registry is shown. {0} connection(s) from the settings are hidden until you trust the workspace (settings of an untrusted folder could point at any server).',
          this.service.hiddenByTrust,
        ),
      );
    } else if (!this.service.isTrusted()) {
      parts.push(vscode.l10n.t('Restricted Mode: only this workspace\'s own registry is shown; trust the workspace to add connections.'));
    }
    for (const p of this.service.connectionProblems) {
      parts.push(p);
    }
    if (this.filterPrefix !== undefined) {
      // The description alone is hidden when the view's header merges into the container's title.
      parts.push(vscode.l10n.t('Showing keys that start with "{0}" (Clear Filter to see all).', this.filterPrefix));
    }
    // Assigned only when they change: each assignment is a message to the window, which then
    // repaints the view (a status change that keeps the text would repaint it for nothing).
    const message = parts.length > 0 ? parts.join(' ') : undefined;
    const description = this.filterPrefix !== undefined ? vscode.l10n.t('filter: {0}', this.filterPrefix) : undefined;
    if (this.view.message !== message) {
      this.view.message = message;
    }
    if (this.view.description !== description) {
      this.view.description = description;
    }
  }

  dispose(): void {
    this.connecting.dispose();
    for (const tree of this.trees.values()) {
      tree.dispose();
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
