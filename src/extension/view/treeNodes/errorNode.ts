import * as vscode from 'vscode';
import { Commands, WORKSPACE_REGISTRY, scopedId } from '../../settings';

/**
 * Shown instead of children when loading failed. `lost`: the server went away; clicking reconnects
 * (one node, not a toast per failed request). Otherwise clicking retries the load.
 */
export class ErrorNode {
  readonly kind = 'error';

  constructor(
    readonly message: string,
    readonly lost: boolean,
    readonly parentKey: string,
    /** The registry it belongs to. */
    readonly registry: string = WORKSPACE_REGISTRY,
    /** The registry could not be opened at all (rather than lost after it was open). */
    readonly failed = false,
  ) {}

  get id(): string {
    return scopedId(this.registry, `error:${this.parentKey}`);
  }

  toTreeItem(): vscode.TreeItem {
    const label = this.failed
      ? vscode.l10n.t('Could not connect — click to retry')
      : this.lost
        ? vscode.l10n.t('Connection lost — click to reconnect')
        : vscode.l10n.t('Could not load — click to retry');
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.description = this.message;
    item.tooltip = this.message;
    item.iconPath = new vscode.ThemeIcon(this.lost ? 'debug-disconnect' : 'error', new vscode.ThemeColor('errorForeground'));
    item.contextValue = this.lost ? 'error.lost' : 'error';
    item.command = this.lost
      ? { command: Commands.reconnect, title: vscode.l10n.t('Reconnect'), arguments: [this] }
      : { command: Commands.refresh, title: vscode.l10n.t('Refresh'), arguments: [this] };
    return item;
  }
}
