import * as vscode from 'vscode';
import { keyCount } from './format';
import { logger } from './log';
import type { ManagedRegistry, ServiceStatus } from './registries/managedRegistry';
import type { RegistryService } from './registryService';
import { ConnectingDelay } from './connectingDelay';
import { ContextKey, FS_SCHEME, KEYS_VIEW_ID, WORKSPACE_REGISTRY } from './settings';
import { registryOfUri } from './valueFileSystem';
import type { TreeNode } from './view/treeNodes';

const log = logger('status');
const COUNT_DEBOUNCE_MS = 500;

/**
 * The registry the user is looking at: the one of the selected node in the Keys view, or of the active
 * value tab (whichever changed last); the workspace registry at first. The status bar shows it, and the
 * context keys (state, backend, read-only) that menus use follow it.
 */
export class RegistryStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private count: number | undefined;
  private countedFor: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private focusedName: string = WORKSPACE_REGISTRY;

  constructor(
    private readonly service: RegistryService,
    view?: vscode.TreeView<TreeNode>,
  ) {
    this.item = vscode.window.createStatusBarItem('nautilusRegistry.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = vscode.l10n.t('Nautilus Registry');
    this.item.command = `${KEYS_VIEW_ID}.focus`;
    this.disposables.push(
      this.item,
      service.onDidChangeAnyStatus((r) => {
        if (r === this.focused) {
          this.renderStatus();
          this.scheduleCount();
        }
      }),
      service.onDidChangeAnyData(({ registry }) => {
        if (registry === this.focused) {
          this.scheduleCount();
        }
      }),
      service.onDidChangeRegistries(() => this.focus(this.focusedName)),
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e?.document.uri.scheme === FS_SCHEME) {
          this.focus(registryOfUri(e.document.uri));
        }
      }),
    );
    if (view) {
      this.disposables.push(
        view.onDidChangeSelection((e) => {
          if (e.selection.length > 0) {
            this.focus(e.selection[0].registry);
          }
        }),
      );
    }
    this.render();
    this.item.show();
  }

  /** The registry shown (the workspace registry when the focused one was removed). */
  get focused(): ManagedRegistry {
    return this.service.find(this.focusedName) ?? this.service.workspace;
  }

  /** Shows `name` (the selection or the active value tab moved to it). */
  focus(name: string): void {
    this.focusedName = this.service.find(name) ? name : WORKSPACE_REGISTRY;
    if (this.countedFor !== this.focusedName) {
      this.count = undefined;
    }
    this.render();
    this.scheduleCount();
  }

  private readonly connecting = new ConnectingDelay();

  /** Renders a new state: 'connecting' only once the open has taken a moment, the others at once. */
  private renderStatus(): void {
    this.connecting.render(this.focused.status.state === 'connecting', () => this.render());
  }

  /** The text shown, for tests. */
  get text(): string {
    return this.item.text;
  }

  private scheduleCount(): void {
    if (this.timer || !this.focused.current) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refreshCount().catch((err: unknown) => log.warn(`Could not count keys: ${err instanceof Error ? err.message : String(err)}`));
    }, COUNT_DEBOUNCE_MS);
  }

  /** Counts now (tests and the first open). */
  async refreshCount(): Promise<void> {
    const managed = this.focused;
    const registry = managed.current;
    if (!registry) {
      return;
    }
    try {
      const n = await registry.count();
      if (managed === this.focused && registry === managed.current) {
        this.count = n;
        this.countedFor = managed.name;
        this.render();
      }
    } catch (err) {
      managed.reportError(err, registry);
      throw err;
    }
  }

  private render(): void {
    const managed = this.focused;
    const s: ServiceStatus = managed.status;
    const backend = this.service.catalog.label(s.backend);
    const name = managed.name === WORKSPACE_REGISTRY ? vscode.l10n.t('Workspace') : managed.name;
    const label = `${name} (${backend})`;
    const count = s.state === 'connected' && this.count !== undefined && this.countedFor === managed.name ? ` · ${keyCount(this.count)}` : '';
    let icon = '$(database)';
    let stateText = '';
    let background: string | undefined;
    switch (s.state) {
      case 'idle':
        break;
      case 'connecting':
        icon = '$(sync~spin)';
        stateText = ` · ${s.backend === 'sqlite' ? vscode.l10n.t('opening') : vscode.l10n.t('connecting')}`;
        break;
      case 'connected':
        if (s.readOnly) {
          stateText = ` · ${vscode.l10n.t('read-only')}`;
        }
        if (s.warning) {
          icon = '$(warning)';
          stateText = ` · ${vscode.l10n.t('full')}`;
          background = 'statusBarItem.warningBackground';
        }
        break;
      case 'failed':
        icon = '$(error)';
        stateText = ` · ${vscode.l10n.t('failed')}`;
        background = 'statusBarItem.errorBackground';
        break;
      case 'lost':
        icon = '$(debug-disconnect)';
        stateText = ` · ${vscode.l10n.t('disconnected')}`;
        background = 'statusBarItem.warningBackground';
        break;
    }
    const text = `${icon} ${label}${count}${stateText}`;
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${vscode.l10n.t('Nautilus Registry')}**: `).appendText(`${label} (${s.state})`).appendMarkdown('\n\n');
    if (s.location) {
      tip.appendMarkdown(`${vscode.l10n.t('Location')}: `).appendText(s.location).appendMarkdown('\n\n');
    }
    if (s.error) {
      tip.appendText(s.error).appendMarkdown('\n\n');
    }
    if (s.warning) {
      tip.appendText(s.warning).appendMarkdown('\n\n');
    }
    for (const n of s.notes) {
      tip.appendText(n).appendMarkdown('\n\n');
    }
    tip.appendMarkdown(vscode.l10n.t('Shows the registry of the selected item or value tab. Click to show the Keys view.'));
    // Each property set is a message to the window, which repaints the item: a status change that
    // keeps what the item shows (closing an idle registry again, reopening) sends nothing.
    const shown = JSON.stringify([text, tip.value, background]);
    if (shown !== this.shown) {
      this.shown = shown;
      this.item.text = text;
      this.item.backgroundColor = background === undefined ? undefined : new vscode.ThemeColor(background);
      this.item.tooltip = tip;
      this.item.accessibilityInformation = { label: `${vscode.l10n.t('Nautilus Registry')}: ${label}${count}${stateText}` };
    }
    void this.publishContext(s);
  }

  /** What the item shows now (text, tooltip, background), to skip a render that changes nothing. */
  private shown: string | undefined;

  /** The context key values last sent to the window: only changed ones are sent (each is a message to the window). */
  private readonly published = new Map<string, unknown>();

  private async publishContext(s: ServiceStatus): Promise<void> {
    for (const [key, value] of [
      [ContextKey.state, s.state],
      [ContextKey.backend, s.backend],
      [ContextKey.readOnly, s.readOnly],
    ] as const) {
      if (this.published.get(key) !== value) {
        this.published.set(key, value);
        await vscode.commands.executeCommand('setContext', key, value);
      }
    }
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.connecting.dispose();
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
