import * as vscode from 'vscode';
import { Commands, WORKSPACE_REGISTRY, scopedId } from '../../settings';

/** The last item of a folder with more children than loaded: loads the next page. */
export class LoadMoreNode {
  readonly kind = 'loadMore';

  constructor(
    /** The folder it belongs to ('' for the top level); in the filtered list, the filter cache key. */
    readonly parentKey: string,
    /** The registry it belongs to. */
    readonly registry: string = WORKSPACE_REGISTRY,
  ) {}

  get id(): string {
    return scopedId(this.registry, `more:${this.parentKey}`);
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(vscode.l10n.t('Load more…'), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon('ellipsis');
    item.contextValue = 'loadMore';
    item.command = { command: Commands.loadMore, title: vscode.l10n.t('Load more…'), arguments: [this] };
    return item;
  }
}
