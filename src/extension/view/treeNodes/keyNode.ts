import * as vscode from 'vscode';
import { leafName } from '../../../registry';
import { Commands, WORKSPACE_REGISTRY, scopedId } from '../../settings';

/** One key. `preview` is a short, single-line start of its value (undefined when previews are off). */
export class KeyNode {
  readonly kind = 'key';
  preview: string | undefined;

  constructor(
    readonly key: string,
    readonly separator: string,
    /** Show the whole key as the label (the flat, filtered list) instead of its last segment. */
    readonly flat = false,
    /** The registry it belongs to. */
    readonly registry: string = WORKSPACE_REGISTRY,
  ) {}

  get id(): string {
    return scopedId(this.registry, `${this.flat ? 'fkey' : 'key'}:${this.key}`);
  }

  toTreeItem(): vscode.TreeItem {
    const label = this.flat ? this.key : leafName(this.key, this.separator) || this.key;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon('symbol-key');
    item.contextValue = 'key';
    item.description = this.preview;
    item.command = { command: Commands.openValue, title: vscode.l10n.t('Open Value'), arguments: [this, { preview: true }] };
    item.accessibilityInformation = { label: vscode.l10n.t('Key {0}', this.key) };
    return item;
  }
}

/** A preview of `max` characters is made from at most the first PREVIEW_HEAD * max characters of the value. */
export const PREVIEW_HEAD = 4;

/** A single-line start of a value, at most `max` characters. */
export function previewOf(value: string, max: number): string {
  const head = value.length > max * PREVIEW_HEAD ? value.slice(0, max * PREVIEW_HEAD) : value;
  const line = head.replace(/\s+/g, ' ').trim();
  return line.length > max ? line.slice(0, Math.max(1, max - 1)) + '…' : line;
}
