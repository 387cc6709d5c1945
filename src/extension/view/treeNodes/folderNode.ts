import * as vscode from 'vscode';
import { leafName } from '../../../registry';
import { keyCount } from '../../format';
import { WORKSPACE_REGISTRY, scopedId } from '../../settings';

/** A folder: every key that starts with `prefix` (which ends in the separator). */
export class FolderNode {
  readonly kind = 'folder';
  /** Number of keys below, when known (counted in the background where cheap). */
  count: number | undefined;

  constructor(
    readonly prefix: string,
    readonly separator: string,
    /** The registry it belongs to. */
    readonly registry: string = WORKSPACE_REGISTRY,
  ) {}

  get id(): string {
    return scopedId(this.registry, `folder:${this.prefix}`);
  }

  get label(): string {
    return leafName(this.prefix, this.separator, true);
  }

  toTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.label || this.prefix, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.iconPath = vscode.ThemeIcon.Folder;
    item.contextValue = 'folder';
    if (this.count !== undefined) {
      item.description = keyCount(this.count);
    }
    item.accessibilityInformation = { label: vscode.l10n.t('Folder {0}', this.prefix) };
    return item;
  }
}
