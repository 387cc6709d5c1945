import * as vscode from 'vscode';
import type { RegistryChange, RegistryStorage } from '../registry';
import { RegistryError } from '../registry';
import type { BuiltConfig, ServiceStatus } from './registries/managedRegistry';
import { ManagedRegistry } from './registries/managedRegistry';
import { SettingsSource } from './registries/settingsSource';
import type { PasswordStore, ServerBackend } from './secrets';
import { CONNECTION_SETTINGS, ContextKey, SECTION, WORKSPACE_REGISTRY } from './settings';

export type { ConnectionState, ServiceStatus } from './registries/managedRegistry';
export { showErrorWithLog } from './registries/managedRegistry';

export { WORKSPACE_REGISTRY };

/** A change of one of the registries, tagged with which. */
export interface NamedChange {
  registry: ManagedRegistry;
  change: RegistryChange;
}

/**
 * Owns every registry the extension shows, each a ManagedRegistry with its own lifecycle and state.
 * The workspace registry is always there. The members without a name (`current`, `status`,
 * `getRegistry`, `onDidChangeData`, …) are the workspace registry's, so today's callers keep working.
 */
export class RegistryService implements vscode.Disposable {
  private trustOverride: boolean | undefined;
  private readonly entries = new Map<string, ManagedRegistry>();
  private readonly entryDisposables = new Map<string, vscode.Disposable[]>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The workspace's own registry. */
  readonly workspace: ManagedRegistry;

  private readonly _onDidChangeRegistry = new vscode.EventEmitter<RegistryStorage | undefined>();
  /** Fires when the workspace registry is opened, switched or closed. */
  readonly onDidChangeRegistry = this._onDidChangeRegistry.event;
  private readonly _onDidChangeStatus = new vscode.EventEmitter<ServiceStatus>();
  /** Status changes of the workspace registry. */
  readonly onDidChangeStatus = this._onDidChangeStatus.event;
  private readonly _onDidChangeData = new vscode.EventEmitter<RegistryChange>();
  /** Every change of the workspace registry, from any source. */
  readonly onDidChangeData = this._onDidChangeData.event;

  private readonly _onDidChangeAnyData = new vscode.EventEmitter<NamedChange>();
  /** Every change of any registry, tagged with the registry. */
  readonly onDidChangeAnyData = this._onDidChangeAnyData.event;
  private readonly _onDidChangeAnyStatus = new vscode.EventEmitter<ManagedRegistry>();
  /** A registry's state changed (connecting, connected, failed, lost, idle). */
  readonly onDidChangeAnyStatus = this._onDidChangeAnyStatus.event;
  private readonly _onDidChangeAnyRegistry = new vscode.EventEmitter<ManagedRegistry>();
  /** A registry was opened, reopened or closed. */
  readonly onDidChangeAnyRegistry = this._onDidChangeAnyRegistry.event;
  private readonly _onDidChangeRegistries = new vscode.EventEmitter<void>();
  /** Registries were added, removed or reordered. */
  readonly onDidChangeRegistries = this._onDidChangeRegistries.event;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly passwords: PasswordStore,
  ) {
    this.workspace = this.add(WORKSPACE_REGISTRY, new SettingsSource(context, passwords, () => this.isTrusted()));
    this.disposables.push(
      this._onDidChangeRegistry,
      this._onDidChangeStatus,
      this._onDidChangeData,
      this._onDidChangeAnyData,
      this._onDidChangeAnyStatus,
      this._onDidChangeAnyRegistry,
      this._onDidChangeRegistries,
      this.workspace.onDidChangeRegistry((r) => this._onDidChangeRegistry.fire(r)),
      this.workspace.onDidChangeStatus((s) => {
        this._onDidChangeStatus.fire(s);
        void this.publishContext();
      }),
      this.workspace.onDidChangeData((c) => this._onDidChangeData.fire(c)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (CONNECTION_SETTINGS.some((s) => e.affectsConfiguration(`${SECTION}.${s}`))) {
          void this.workspace.sourceChanged('settings changed');
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.allSourcesChanged('workspace trusted')),
      passwords.onDidChange(() => void this.allSourcesChanged('saved password changed')),
    );
    void this.publishContext();
  }

  /** Adds a registry (kept in the order added). */
  protected add(name: string, source: ConstructorParameters<typeof ManagedRegistry>[1]): ManagedRegistry {
    const entry = new ManagedRegistry(name, source);
    this.entries.set(name, entry);
    this.entryDisposables.set(name, [
      entry.onDidChangeData((change) => this._onDidChangeAnyData.fire({ registry: entry, change })),
      entry.onDidChangeStatus(() => this._onDidChangeAnyStatus.fire(entry)),
      entry.onDidChangeRegistry(() => this._onDidChangeAnyRegistry.fire(entry)),
    ]);
    return entry;
  }

  /** Every registry, in display order (the workspace registry first). */
  get registries(): readonly ManagedRegistry[] {
    return [...this.entries.values()];
  }

  /** A registry by name; undefined when there is none. */
  find(name: string): ManagedRegistry | undefined {
    return this.entries.get(name);
  }

  /** A registry by name, or a RegistryError that lists the names there are. */
  get(name: string | undefined): ManagedRegistry {
    if (name === undefined) {
      return this.workspace;
    }
    const entry = this.entries.get(name);
    if (!entry) {
      throw new RegistryError(
        'NOT_FOUND',
        vscode.l10n.t('There is no registry named "{0}". Registries: {1}.', name, this.registries.map((r) => r.name).join(', ')),
      );
    }
    return entry;
  }

  // ---- the workspace registry (what callers without a registry name get) -----------------------
  get current(): RegistryStorage | undefined {
    return this.workspace.current;
  }

  get status(): ServiceStatus {
    return this.workspace.status;
  }

  getRegistry(): Promise<RegistryStorage> {
    return this.workspace.getRegistry();
  }

  ensureCurrent(): Promise<RegistryStorage> {
    return this.workspace.ensureCurrent();
  }

  reconnect(): Promise<RegistryStorage> {
    return this.workspace.reconnect();
  }

  reportError(err: unknown, registry?: RegistryStorage): void {
    for (const r of this.entries.values()) {
      if (registry === undefined ? r === this.workspace : r.current === registry) {
        r.reportError(err, registry);
      }
    }
  }

  reportHealthy(registry: RegistryStorage | undefined): void {
    for (const r of this.entries.values()) {
      r.reportHealthy(registry);
    }
  }

  buildConfig(): Promise<BuiltConfig> {
    return this.workspace.buildConfig();
  }

  // ---- trust -----------------------------------------------------------------------------------
  isTrusted(): boolean {
    return this.trustOverride ?? vscode.workspace.isTrusted;
  }

  /** For tests: pretend the workspace is (un)trusted; undefined restores the real state. Reopens what is open. */
  async setTrustOverride(trusted: boolean | undefined): Promise<void> {
    this.trustOverride = trusted;
    await this.workspace.sourceChanged('trust override', true);
  }

  private async allSourcesChanged(reason: string): Promise<void> {
    await Promise.all(this.registries.map((r) => r.sourceChanged(reason)));
  }

  private async publishContext(): Promise<void> {
    const s = this.workspace.status;
    await vscode.commands.executeCommand('setContext', ContextKey.state, s.state);
    await vscode.commands.executeCommand('setContext', ContextKey.backend, s.backend);
    await vscode.commands.executeCommand('setContext', ContextKey.readOnly, s.readOnly);
  }

  private disposed = false;

  /** Closes every registry and waits for them (a sqlite registry finishes writing its file). */
  async dispose(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    for (const d of this.disposables) {
      d.dispose();
    }
    for (const list of this.entryDisposables.values()) {
      list.forEach((d) => d.dispose());
    }
    await Promise.all(this.registries.map((r) => r.dispose()));
  }
}

export type { ServerBackend, ManagedRegistry };
