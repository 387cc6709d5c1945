import * as vscode from 'vscode';
import { logger } from './log';
import type { RegistryService, ServiceStatus } from './registryService';
import { Commands } from './settings';
import { keyCount } from './format';

const log = logger('status');
const COUNT_DEBOUNCE_MS = 500;

const BACKEND_LABEL: Record<string, string> = { sqlite: 'SQLite', memory: 'Memory', postgres: 'PostgreSQL', redis: 'Redis' };

/** Backend, key count and connection state; a click switches the backend. */
export class RegistryStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private count: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly service: RegistryService) {
    this.item = vscode.window.createStatusBarItem('nautilusRegistry.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = vscode.l10n.t('Nautilus Registry');
    this.item.command = Commands.switchBackend;
    this.disposables.push(
      this.item,
      service.onDidChangeStatus(() => {
        this.render();
        this.scheduleCount();
      }),
      service.onDidChangeData(() => this.scheduleCount()),
    );
    this.render();
    this.item.show();
  }

  /** The text shown, for tests. */
  get text(): string {
    return this.item.text;
  }

  private scheduleCount(): void {
    if (this.timer || !this.service.current) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const registry = this.service.current;
      if (!registry) {
        return;
      }
      registry.count().then(
        (n) => {
          if (registry === this.service.current) {
            this.count = n;
            this.render();
          }
        },
        (err: unknown) => {
          this.service.reportError(err, registry);
          log.warn(`Could not count keys: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    }, COUNT_DEBOUNCE_MS);
  }

  /** Counts now (tests and the first open). */
  async refreshCount(): Promise<void> {
    const registry = this.service.current;
    if (registry) {
      this.count = await registry.count();
      this.render();
    }
  }

  private render(): void {
    const s: ServiceStatus = this.service.status;
    const name = BACKEND_LABEL[s.backend] ?? s.backend;
    const count = s.state === 'connected' && this.count !== undefined ? ` · ${keyCount(this.count)}` : '';
    let icon = '$(database)';
    let stateText = '';
    this.item.backgroundColor = undefined;
    switch (s.state) {
      case 'idle':
        stateText = '';
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
          this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        }
        if (s.backend !== s.requested) {
          icon = '$(shield)';
        }
        break;
      case 'failed':
        icon = '$(error)';
        stateText = ` · ${vscode.l10n.t('failed')}`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
      case 'lost':
        icon = '$(debug-disconnect)';
        stateText = ` · ${vscode.l10n.t('disconnected')}`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
    }
    if (s.state !== 'connected') {
      this.count = s.state === 'lost' ? this.count : undefined;
    }
    this.item.text = `${icon} ${name}${count}${stateText}`;
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${vscode.l10n.t('Nautilus Registry')}**: ${name} (${s.state})\n\n`);
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
    tip.appendMarkdown(vscode.l10n.t('Click to switch the backend.'));
    this.item.tooltip = tip;
    this.item.accessibilityInformation = { label: `${vscode.l10n.t('Nautilus Registry')}: ${name}${count}${stateText}` };
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
