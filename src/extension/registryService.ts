import * as vscode from 'vscode';
import type { RegistryChange, RegistryStorage } from '../registry';
import { RegistryError } from '../registry';
import { logger } from './log';
import { BackendCatalog } from './registries/backendCatalog';
import { ConnectionSource } from './registries/connectionSource';
import type { ConnectionEntry } from './registries/connections';
import { parseConnections } from './registries/connections';
import type { BuiltConfig, RegistrySource, ServiceStatus } from './registries/managedRegistry';
import { ManagedRegistry } from './registries/managedRegistry';
import { migrateLegacySettings } from './registries/migration';
import { WorkspaceSource } from './registries/workspaceSource';
import type { PasswordStore, ServerBackend } from './secrets';
import { CONNECTION_SETTINGS, SECTION, Setting, WORKSPACE_REGISTRY } from './settings';

const log = logger('registry');

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

  /** The backends connections can use: built in, and those other extensions registered. */
  readonly catalog = new BackendCatalog();
  /** Connection entries that could not be used, and why. */
  connectionProblems: string[] = [];
  /** How many connections Restricted Mode hides (0 when trusted). */
  hiddenByTrust = 0;
  /** What the last settings migration did (for the message and tests). */
  migrated: string[] = [];

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly passwords: PasswordStore,
  ) {
    this.workspace = this.add(WORKSPACE_REGISTRY, new WorkspaceSource(context));
    this.disposables.push(
      this._onDidChangeRegistry,
      this._onDidChangeStatus,
      this._onDidChangeData,
      this._onDidChangeAnyData,
      this._onDidChangeAnyStatus,
      this._onDidChangeAnyRegistry,
      this._onDidChangeRegistries,
      this.workspace.onDidChangeRegistry((r) => this._onDidChangeRegistry.fire(r)),
      this.workspace.onDidChangeStatus((s) => this._onDidChangeStatus.fire(s)),
      this.workspace.onDidChangeData((c) => this._onDidChangeData.fire(c)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.${Setting.connections}`)) {
          this.syncConnections();
        }
        if (e.affectsConfiguration(`${SECTION}.${Setting.backend}`)) {
          void this.migrate();
        }
        if (CONNECTION_SETTINGS.some((s) => e.affectsConfiguration(`${SECTION}.${s}`))) {
          void this.allSourcesChanged('settings changed');
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        void this.migrate();
        this.syncConnections();
        void this.allSourcesChanged('workspace trusted');
      }),
      passwords.onDidChange(() => void this.allSourcesChanged('saved password changed')),
      { dispose: this.catalog.onDidChange(() => void this.allSourcesChanged('backends from other extensions changed')).dispose },
    );
    this.syncConnections();
    void this.migrate();
  }

  /**
   * Moves the old single-backend settings into a connection (trusted workspaces only: an untrusted one
   * must not have its settings rewritten). Runs at activation and when `backend` is set again.
   */
  async migrate(): Promise<string[]> {
    if (!this.isTrusted() || vscode.workspace.getConfiguration(SECTION).inspect(Setting.backend) === undefined) {
      return [];
    }
    const i = vscode.workspace.getConfiguration(SECTION).inspect(Setting.backend);
    if (i?.globalValue === undefined && i?.workspaceValue === undefined) {
      return [];
    }
    try {
      const done = await migrateLegacySettings(this.passwords);
      this.migrated.push(...done);
      if (done.length > 0) {
        void vscode.window.showInformationMessage(done.join(' '));
      }
      return done;
    } catch (err) {
      log.error('Could not move the old backend settings into a connection', err);
      return [];
    }
  }

  /** Reads `nautilusRegistry.connections` and adds, updates, reorders and removes registries to match. */
  syncConnections(): void {
    const raw = vscode.workspace.getConfiguration(SECTION).get<unknown>(Setting.connections);
    const parsed = parseConnections(raw);
    this.connectionProblems = parsed.problems;
    for (const p of parsed.problems) {
      log.warn(p);
    }
    const trusted = this.isTrusted();
    this.hiddenByTrust = trusted ? 0 : parsed.connections.length;
    const wanted: ConnectionEntry[] = trusted ? parsed.connections : [];
    const wantedNames = new Set(wanted.map((c) => c.name));
    let changed = false;
    for (const [name, entry] of [...this.entries]) {
      if (entry !== this.workspace && !wantedNames.has(name)) {
        this.remove(name);
        changed = true;
      }
    }
    for (const c of wanted) {
      const existing = this.entries.get(c.name);
      const source = new ConnectionSource(c, this.context, this.passwords, this.catalog);
      if (!existing) {
        this.add(c.name, source);
        changed = true;
      } else if (JSON.stringify((this.sources.get(c.name) as ConnectionSource | undefined)?.entry) !== JSON.stringify(c)) {
        this.sources.set(c.name, source);
        void existing.setSource(source);
        changed = true;
      }
    }
    // Display order: the workspace registry, then the connections as listed.
    const order = [WORKSPACE_REGISTRY, ...wanted.map((c) => c.name)];
    const current = [...this.entries.keys()];
    if (order.join('\u0000') !== current.join('\u0000')) {
      const byName = new Map(this.entries);
      this.entries.clear();
      for (const n of order) {
        this.entries.set(n, byName.get(n)!);
      }
      changed = true;
    }
    if (changed) {
      this._onDidChangeRegistries.fire();
    }
  }

  private remove(name: string): void {
    const entry = this.entries.get(name);
    this.entries.delete(name);
    this.sources.delete(name);
    this.entryDisposables.get(name)?.forEach((d) => d.dispose());
    this.entryDisposables.delete(name);
    void entry?.dispose();
  }

  /** The connection entry a registry was made from (undefined for the workspace registry). */
  connectionOf(name: string): ConnectionEntry | undefined {
    return (this.sources.get(name) as ConnectionSource | undefined)?.entry;
  }

  private readonly sources = new Map<string, RegistrySource>();

  /** Adds a registry (kept in the order added). */
  private add(name: string, source: RegistrySource): ManagedRegistry {
    const entry = new ManagedRegistry(name, source);
    this.sources.set(name, source);
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
    // Names are unique regardless of case, and a URI's authority may come back lower-cased.
    return this.entries.get(name) ?? [...this.entries.values()].find((r) => r.name.toLowerCase() === name.toLowerCase());
  }

  /** A registry by name, or a RegistryError that lists the names there are. */
  get(name: string | undefined): ManagedRegistry {
    if (name === undefined) {
      return this.workspace;
    }
    const entry = this.find(name);
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
    this.syncConnections();
    await this.workspace.sourceChanged('trust override', true);
  }

  private async allSourcesChanged(reason: string): Promise<void> {
    await Promise.all(this.registries.map((r) => r.sourceChanged(reason)));
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
