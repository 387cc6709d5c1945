import * as vscode from 'vscode';
import { redact } from '../../log';
import type { ManagedRegistry } from '../../registries/managedRegistry';
import { WORKSPACE_REGISTRY } from '../../settings';

const STATE_TEXT: Record<string, string> = {
  idle: '',
  connecting: 'connecting…',
  connected: '',
  failed: 'not connected',
  lost: 'connection lost',
};

/** The root of one registry in the Keys view: its name, backend, location (never a password) and state. */
export class RegistryNode {
  readonly kind = 'registry';

  constructor(
    readonly managed: ManagedRegistry,
    private readonly backendLabel: (id: string) => string,
  ) {}

  get registry(): string {
    return this.managed.name;
  }

  get id(): string {
    return `registry:${this.managed.name}`;
  }

  get label(): string {
    return this.managed.name === WORKSPACE_REGISTRY ? vscode.l10n.t('Workspace') : this.managed.name;
  }

  toTreeItem(): vscode.TreeItem {
    const s = this.managed.status;
    const item = new vscode.TreeItem(this.label, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    const backend = this.backendLabel(s.backend);
    // describe() never holds a password; redact() is the belt to those braces (it only touches URLs).
    const location = s.location ? redact(s.location) : undefined;
    const state = STATE_TEXT[s.state] ? vscode.l10n.t(STATE_TEXT[s.state]) : s.readOnly ? vscode.l10n.t('read-only') : '';
    item.description = [backend, shortLocation(location), state].filter((x) => x).join(' · ');
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${this.label}** — ${backend}\n\n`);
    if (location) {
      md.appendMarkdown(`${vscode.l10n.t('Location')}: `).appendText(location).appendMarkdown('\n\n');
    }
    md.appendMarkdown(`${vscode.l10n.t('State')}: ${s.state}${s.readOnly ? ` (${vscode.l10n.t('read-only')})` : ''}\n\n`);
    if (s.error) {
      md.appendText(s.error).appendMarkdown('\n\n');
    }
    for (const n of s.notes) {
      md.appendText(n).appendMarkdown('\n\n');
    }
    item.tooltip = md;
    const workspace = this.managed.name === WORKSPACE_REGISTRY;
    switch (s.state) {
      case 'connecting':
        item.iconPath = new vscode.ThemeIcon('sync~spin');
        break;
      case 'failed':
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        break;
      case 'lost':
        item.iconPath = new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('errorForeground'));
        break;
      default:
        item.iconPath = new vscode.ThemeIcon(workspace ? 'root-folder' : s.backend === 'memory' ? 'circuit-board' : s.backend === 'sqlite' ? 'database' : 'server');
    }
    // registry.workspace | registry.connection, then .failed/.lost: menus match with regexes.
    item.contextValue = `registry.${workspace ? 'workspace' : 'connection'}${s.state === 'failed' || s.state === 'lost' ? '.' + s.state : ''}${s.readOnly ? '.readOnly' : ''}`;
    item.accessibilityInformation = { label: vscode.l10n.t('Registry {0}, {1}', this.label, item.description) };
    return item;
  }
}

/** A location short enough for the description: the last two path segments of a file, a URL as it is. */
function shortLocation(location: string | undefined): string | undefined {
  if (!location || /^[a-z]+:\/\//i.test(location)) {
    return location;
  }
  const parts = location.split(/[\\/]/).filter((p) => p);
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : location;
}
