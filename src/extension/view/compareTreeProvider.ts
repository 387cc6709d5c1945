import * as vscode from 'vscode';
import { MAX_PAGE } from '../../registry';
import type { ComparePage, DiffEntry } from '../compare/compare';
import { comparePage } from '../compare/compare';
import { errorMessage, logger } from '../log';
import type { ManagedRegistry } from '../registries/managedRegistry';
import { Commands, Defaults, SECTION, Setting, WORKSPACE_REGISTRY } from '../settings';

const log = logger('compare');
export const COMPARE_VIEW_ID = 'nautilusRegistry.compare';
const COMPARING = 'nautilusRegistry.comparing';

export interface CompareTarget {
  registry: ManagedRegistry;
  prefix: string;
}

function sideName(side: CompareTarget): string {
  const r = side.registry.name === WORKSPACE_REGISTRY ? vscode.l10n.t('Workspace') : side.registry.name;
  return side.prefix === '' ? r : `${r}: ${side.prefix}`;
}

/** The header of a comparison: which two folders, and what was found so far. */
export class CompareSummaryNode {
  readonly kind = 'compareSummary';
  constructor(readonly provider: CompareTreeProvider) {}
}

/** One difference. */
export class DiffNode {
  readonly kind = 'diff';
  constructor(
    readonly entry: DiffEntry,
    readonly left: CompareTarget,
    readonly right: CompareTarget,
  ) {}
}

/** "Load more…" of a comparison: compares the next page. */
export class CompareMoreNode {
  readonly kind = 'compareMore';
}

export type CompareNode = CompareSummaryNode | DiffNode | CompareMoreNode;

/**
 * The Comparison view (shown while a comparison is open): the keys only on the left, only on the
 * right and with different values, a page at a time like the Keys view ("Load more…"); a click opens
 * VS Code's diff editor on the two values.
 */
export class CompareTreeProvider implements vscode.TreeDataProvider<CompareNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<CompareNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  left: CompareTarget | undefined;
  right: CompareTarget | undefined;
  private entries: DiffNode[] = [];
  private next: string | undefined;
  private complete = false;
  private counts = { left: 0, right: 0, different: 0, same: 0 };
  private loading: Promise<ComparePage | undefined> | undefined;
  private generation = 0;
  private error: string | undefined;
  private readonly summary = new CompareSummaryNode(this);
  private readonly more = new CompareMoreNode();

  private get pageSize(): number {
    const n = vscode.workspace.getConfiguration(SECTION).get<number>(Setting.pageSize, Defaults.pageSize);
    return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_PAGE) : Defaults.pageSize;
  }

  /** Starts a comparison (replacing the one shown) and loads its first page. */
  async start(left: CompareTarget, right: CompareTarget): Promise<ComparePage | undefined> {
    this.generation++;
    this.left = left;
    this.right = right;
    this.entries = [];
    this.next = undefined;
    this.complete = false;
    this.error = undefined;
    this.counts = { left: 0, right: 0, different: 0, same: 0 };
    this.loading = undefined;
    await vscode.commands.executeCommand('setContext', COMPARING, true);
    this._onDidChangeTreeData.fire(undefined);
    return this.loadMore();
  }

  /** Closes the comparison (the view hides). */
  async close(): Promise<void> {
    this.generation++;
    this.left = this.right = undefined;
    this.entries = [];
    await vscode.commands.executeCommand('setContext', COMPARING, false);
    this._onDidChangeTreeData.fire(undefined);
  }

  /** Compares the next page; resolves to it (undefined when complete or nothing is compared). */
  loadMore(): Promise<ComparePage | undefined> {
    if (!this.left || !this.right || this.complete) {
      return Promise.resolve(undefined);
    }
    if (this.loading) {
      return this.loading;
    }
    const generation = this.generation;
    const left = this.left;
    const right = this.right;
    const run = async (): Promise<ComparePage | undefined> => {
      try {
        const [l, r] = await Promise.all([left.registry.ensureCurrent(), right.registry.ensureCurrent()]);
        const page = await vscode.window.withProgress({ location: { viewId: COMPARE_VIEW_ID } }, () =>
          comparePage({ registry: l, prefix: left.prefix }, { registry: r, prefix: right.prefix }, { after: this.next, limit: this.pageSize }),
        );
        if (generation !== this.generation) {
          return undefined;
        }
        this.entries.push(...page.entries.map((e) => new DiffNode(e, left, right)));
        for (const e of page.entries) {
          this.counts[e.kind]++;
        }
        this.counts.same += page.scanned.same;
        this.next = page.next;
        this.complete = page.next === undefined;
        return page;
      } catch (err) {
        if (generation === this.generation) {
          this.error = errorMessage(err);
          log.error('The comparison failed', err);
        }
        throw err;
      } finally {
        if (generation === this.generation) {
          this.loading = undefined;
          this._onDidChangeTreeData.fire(undefined);
        }
      }
    };
    this.loading = run();
    return this.loading;
  }

  /** What the view shows, for tests: the differences loaded so far and whether there are more. */
  peek(): { entries: DiffEntry[]; complete: boolean; counts: { left: number; right: number; different: number; same: number } } {
    return { entries: this.entries.map((n) => n.entry), complete: this.complete, counts: { ...this.counts } };
  }

  getChildren(node?: CompareNode): CompareNode[] {
    if (node || !this.left) {
      return [];
    }
    return [this.summary, ...this.entries, ...(this.complete || this.error ? [] : [this.more])];
  }

  getTreeItem(node: CompareNode): vscode.TreeItem {
    if (node instanceof CompareSummaryNode) {
      const item = new vscode.TreeItem(`${sideName(this.left!)} ↔ ${sideName(this.right!)}`, vscode.TreeItemCollapsibleState.None);
      item.id = 'compare:summary';
      const c = this.counts;
      const found = vscode.l10n.t('{0} only left · {1} only right · {2} different', c.left, c.right, c.different);
      item.description = this.error
        ? vscode.l10n.t('failed: {0}', this.error)
        : this.complete
          ? `${found} · ${vscode.l10n.t('{0} the same', c.same.toLocaleString())}`
          : `${found} ${vscode.l10n.t('so far')}`;
      item.iconPath = new vscode.ThemeIcon(this.error ? 'error' : 'diff');
      item.tooltip = item.description;
      item.contextValue = 'compareSummary';
      return item;
    }
    if (node instanceof CompareMoreNode) {
      const item = new vscode.TreeItem(vscode.l10n.t('Load more…'), vscode.TreeItemCollapsibleState.None);
      item.id = 'compare:more';
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = { command: Commands.compareLoadMore, title: vscode.l10n.t('Load more…') };
      return item;
    }
    const e = node.entry;
    const item = new vscode.TreeItem(e.rel, vscode.TreeItemCollapsibleState.None);
    item.id = `compare:${e.kind}:${e.rel}`;
    const l = node.left.registry.name === WORKSPACE_REGISTRY ? vscode.l10n.t('Workspace') : node.left.registry.name;
    const r = node.right.registry.name === WORKSPACE_REGISTRY ? vscode.l10n.t('Workspace') : node.right.registry.name;
    switch (e.kind) {
      case 'left':
        item.description = vscode.l10n.t('only in {0}', l);
        item.iconPath = new vscode.ThemeIcon('diff-removed', new vscode.ThemeColor('gitDecoration.deletedResourceForeground'));
        break;
      case 'right':
        item.description = vscode.l10n.t('only in {0}', r);
        item.iconPath = new vscode.ThemeIcon('diff-added', new vscode.ThemeColor('gitDecoration.addedResourceForeground'));
        break;
      default:
        item.description = vscode.l10n.t('different');
        item.iconPath = new vscode.ThemeIcon('diff-modified', new vscode.ThemeColor('gitDecoration.modifiedResourceForeground'));
    }
    item.contextValue = `diff.${e.kind}`;
    item.accessibilityInformation = { label: vscode.l10n.t('{0}: {1}', e.rel, String(item.description)) };
    item.command = { command: Commands.openDiff, title: vscode.l10n.t('Open Changes'), arguments: [node] };
    return item;
  }

  dispose(): void {
    this._onDidChangeTreeData.dispose();
  }
}
