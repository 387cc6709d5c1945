import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openRegistry, RegistryError, redactUrl } from '../registry';
import type { RegistryChange, RegistryConfig, RegistryLogger, RegistryStorage } from '../registry';
import { errorMessage, logger } from './log';
import type { PasswordStore, ServerBackend } from './secrets';
import { splitPassword } from './secrets';
import type { BackendSetting } from './settings';
import { BACKEND_SETTINGS, CONNECTION_SETTINGS, connectionSettingsOf, ContextKey, Defaults, SECTION, Setting, SQLITE_FILE_NAME } from './settings';

const log = logger('registry');

/**
 * - idle: nothing opened yet (the registry opens on first need: the view is shown or a command runs)
 * - connecting, connected
 * - failed: the configured backend could not be opened
 * - lost: it was open, then an operation reported the server unavailable
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'failed' | 'lost';

export interface ServiceStatus {
  state: ConnectionState;
  /** The backend the settings ask for. */
  requested: BackendSetting;
  /** The backend in use (differs from `requested` in Restricted Mode or after a fallback). */
  backend: BackendSetting;
  /** Where the data lives, for display; never a password. */
  location?: string;
  readOnly: boolean;
  /** Why it failed or was lost (redacted). */
  error?: string;
  /** Things the user should know: Restricted Mode, global storage, fallbacks, backend notes. */
  notes: string[];
  /** A condition of the open registry that makes writes fail (e.g. the sqlite size limit), with advice. */
  warning?: string;
}

interface BuiltConfig {
  config: RegistryConfig;
  requested: BackendSetting;
  effective: BackendSetting;
  notes: string[];
}

/** Owns the active RegistryStorage: builds its config from settings and secrets, opens it lazily, switches it live. */
export class RegistryService implements vscode.Disposable {
  private registry: RegistryStorage | undefined;
  private opening: Promise<RegistryStorage> | undefined;
  private generation = 0;
  private registrySubscription: { dispose(): void } | undefined;
  private trustOverride: boolean | undefined;
  private warnedFallback = new Set<string>();
  /** The settings the current (or opening) registry was built from; a change reopens it. */
  private openedSignature: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** While a server backend is open: watches describe().state, so a dropped connection shows without waiting for a failed call. */
  private healthTimer: ReturnType<typeof setInterval> | undefined;

  private readonly _onDidChangeRegistry = new vscode.EventEmitter<RegistryStorage | undefined>();
  /** Fires when the active registry is opened, switched or closed. */
  readonly onDidChangeRegistry = this._onDidChangeRegistry.event;
  private readonly _onDidChangeStatus = new vscode.EventEmitter<ServiceStatus>();
  readonly onDidChangeStatus = this._onDidChangeStatus.event;
  private readonly _onDidChangeData = new vscode.EventEmitter<RegistryChange>();
  /** Every change of the active registry, from any source. */
  readonly onDidChangeData = this._onDidChangeData.event;

  private _status: ServiceStatus;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly passwords: PasswordStore,
  ) {
    const requested = this.requestedBackend();
    this._status = { state: 'idle', requested, backend: this.effectiveBackend(requested), readOnly: false, notes: [] };
    this.disposables.push(
      this._onDidChangeRegistry,
      this._onDidChangeStatus,
      this._onDidChangeData,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (CONNECTION_SETTINGS.some((s) => e.affectsConfiguration(`${SECTION}.${s}`))) {
          void this.settingsChanged('settings changed');
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.settingsChanged('workspace trusted')),
      passwords.onDidChange(() => {
        if (this._status.backend === 'postgres' || this._status.backend === 'redis') {
          void this.settingsChanged('saved password changed');
        }
      }),
    );
    void this.publishContext();
  }

  get current(): RegistryStorage | undefined {
    return this.registry;
  }

  get status(): ServiceStatus {
    return this._status;
  }

  isTrusted(): boolean {
    return this.trustOverride ?? vscode.workspace.isTrusted;
  }

  /** For tests: pretend the workspace is (un)trusted; undefined restores the real state. Reopens when open. */
  async setTrustOverride(trusted: boolean | undefined): Promise<void> {
    this.trustOverride = trusted;
    await this.settingsChanged('trust override', true);
  }

  /** The active registry, opened on first use. Rejects with a RegistryError when it cannot be opened. */
  getRegistry(): Promise<RegistryStorage> {
    if (this.registry) {
      return Promise.resolve(this.registry);
    }
    if (!this.opening) {
      const opening = this.open(++this.generation);
      this.opening = opening;
      void opening.then(
        () => this.opening === opening && (this.opening = undefined),
        () => this.opening === opening && (this.opening = undefined),
      );
    }
    return this.opening;
  }

  /** Closes the active registry and opens it again from the current settings. */
  async reconnect(): Promise<RegistryStorage> {
    await this.closeCurrent();
    return this.getRegistry();
  }

  /** Called by views and commands when an operation failed: a server that went away becomes `lost`. */
  reportError(err: unknown, registry: RegistryStorage | undefined = this.registry): void {
    if (!registry || registry !== this.registry) {
      return;
    }
    if (RegistryError.is(err, 'UNAVAILABLE') && this._status.state === 'connected') {
      log.error('Lost the connection', err);
      this.setStatus({ ...this._status, state: 'lost', error: errorMessage(err) });
    }
    if (RegistryError.is(err, 'UNSUPPORTED')) {
      this.syncWarning(registry, errorMessage(err));
    }
  }

  /** Shows (or clears) what the registry notes while it is open and writable, e.g. that it is full. */
  private syncWarning(registry: RegistryStorage, detail?: string): void {
    const d = registry.describe();
    const warning = d.state === 'open' && !d.readOnly && d.notes?.length ? (detail ?? d.notes.join(' ')) : undefined;
    if (warning !== this._status.warning && (warning !== undefined || this._status.warning !== undefined)) {
      this.setStatus({ ...this._status, warning });
    }
  }

  /** Called when an operation succeeded: a lost connection has come back by itself. */
  reportHealthy(registry: RegistryStorage | undefined): void {
    if (registry && registry === this.registry && this._status.state === 'lost') {
      log.info('The connection is back.');
      this.setStatus({ ...this._status, state: 'connected', error: undefined });
    }
    if (registry && registry === this.registry && this._status.warning !== undefined) {
      this.syncWarning(registry);
    }
  }

  /** What the registry config depends on (secrets aside): when it changes, the registry reopens. */
  /** What the open registry depends on; when it changes, the registry is reopened. */
  private signature(): string {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const backend = this.effectiveBackend(this.requestedBackend());
    const server = backend === 'postgres' || backend === 'redis';
    return JSON.stringify([this.isTrusted(), backend, server ? this.passwords.version : 0, ...connectionSettingsOf(backend).map((s) => cfg.get(s))]);
  }

  /** The registry for the current settings: reopens first when they changed since it was opened. */
  async ensureCurrent(): Promise<RegistryStorage> {
    if ((this.registry || this.opening) && this.openedSignature !== this.signature()) {
      return this.reconnect();
    }
    return this.getRegistry();
  }

  private async settingsChanged(reason: string, force = false): Promise<void> {
    const requested = this.requestedBackend();
    if (!force && (this.registry || this.opening) && this.openedSignature === this.signature()) {
      return;
    }
    if (this.registry || this.opening || this._status.state === 'failed' || this._status.state === 'lost') {
      log.info(`Reopening the registry (${reason}).`);
      try {
        await this.reconnect();
      } catch {
        // Reported through the status (failed) and the log already.
      }
    } else {
      this.setStatus({ ...this._status, requested, backend: this.effectiveBackend(requested) });
    }
  }

  private requestedBackend(): BackendSetting {
    const value = vscode.workspace.getConfiguration(SECTION).get<string>(Setting.backend, Defaults.backend);
    return (BACKEND_SETTINGS as readonly string[]).includes(value) ? (value as BackendSetting) : Defaults.backend;
  }

  private effectiveBackend(requested: BackendSetting): BackendSetting {
    return (requested === 'postgres' || requested === 'redis') && !this.isTrusted() ? 'sqlite' : requested;
  }

  private registryLogger(backend: string): RegistryLogger {
    const l = logger(backend);
    return { info: (m) => l.info(m), warn: (m) => l.warn(m), error: (m) => l.error(m) };
  }

  /** Turns settings, trust and secrets into a registry config (exported for tests through the API). */
  async buildConfig(): Promise<BuiltConfig> {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const requested = this.requestedBackend();
    const effective = this.effectiveBackend(requested);
    const notes: string[] = [];
    const maxValueBytes = cfg.get<number>(Setting.maxValueBytes);
    const common = {
      logger: this.registryLogger(effective),
      ...(typeof maxValueBytes === 'number' && maxValueBytes > 0 ? { maxValueBytes } : {}),
    };
    if (effective !== requested) {
      notes.push(
        vscode.l10n.t(
          'Restricted Mode: this workspace is not trusted, so the {0} server in its settings is not used. The local registry is shown instead; trust the workspace to connect.',
          requested === 'postgres' ? 'PostgreSQL' : 'Redis',
        ),
      );
    }
    const connectTimeoutMs = cfg.get<number>(Setting.connectTimeoutMs, Defaults.connectTimeoutMs);
    switch (effective) {
      case 'memory':
        notes.push(vscode.l10n.t('In-memory registry: keys are lost when the window closes.'));
        return { requested, effective, notes, config: { backend: 'memory', ...common } };
      case 'sqlite': {
        let dir = this.context.storageUri;
        if (!dir) {
          dir = this.context.globalStorageUri;
          notes.push(vscode.l10n.t('No folder is open: the registry is kept in the global storage folder, shared by every window without a folder.'));
        }
        // Node's fs directly: the folder is on the extension host's machine, and workspace.fs can cost a round trip to the window.
        if (dir.scheme === 'file') {
          await mkdir(dir.fsPath, { recursive: true });
        } else {
          await vscode.workspace.fs.createDirectory(dir);
        }
        const file = path.join(dir.fsPath, SQLITE_FILE_NAME);
        const maxDatabaseMiB = cfg.get<number>(Setting.sqliteMaxDatabaseMiB);
        return {
          requested,
          effective,
          notes,
          config: {
            backend: 'sqlite',
            file,
            readOnlyIfLocked: true,
            wasmPath: path.join(this.context.extensionPath, 'dist', 'sql-wasm.wasm'),
            ...(typeof maxDatabaseMiB === 'number' && maxDatabaseMiB > 0 ? { maxDatabaseMiB } : {}),
            ...common,
          },
        };
      }
      case 'postgres': {
        const { url, password: inUrl } = splitPassword(cfg.get<string>(Setting.postgresUrl, Defaults.postgresUrl));
        if (inUrl) {
          notes.push(vscode.l10n.t('The PostgreSQL URL in settings contains a password. Run "Connect to PostgreSQL…" to keep it in secret storage instead.'));
        }
        const password = inUrl ?? (await this.passwords.get('postgres', url));
        const ssl = cfg.get<boolean>(Setting.postgresSsl, false);
        return {
          requested,
          effective,
          notes,
          config: {
            backend: 'postgres',
            url,
            ...(password !== undefined ? { password } : {}),
            schema: cfg.get<string>(Setting.postgresSchema, Defaults.postgresSchema),
            table: cfg.get<string>(Setting.postgresTable, Defaults.postgresTable),
            ssl,
            connectTimeoutMs,
            ...common,
          },
        };
      }
      case 'redis': {
        const { url, password: inUrl } = splitPassword(cfg.get<string>(Setting.redisUrl, Defaults.redisUrl));
        if (inUrl) {
          notes.push(vscode.l10n.t('The Redis URL in settings contains a password. Run "Connect to Redis…" to keep it in secret storage instead.'));
        }
        const password = inUrl ?? (await this.passwords.get('redis', url));
        return {
          requested,
          effective,
          notes,
          config: {
            backend: 'redis',
            url,
            ...(password !== undefined ? { password } : {}),
            keyPrefix: cfg.get<string>(Setting.redisKeyPrefix, Defaults.redisKeyPrefix),
            connectTimeoutMs,
            ...common,
          },
        };
      }
    }
  }

  private async open(generation: number): Promise<RegistryStorage> {
    this.openedSignature = this.signature();
    const requested = this.requestedBackend();
    this.setStatus({ state: 'connecting', requested, backend: this.effectiveBackend(requested), readOnly: false, notes: [] });
    let built: BuiltConfig | undefined;
    let registry: RegistryStorage;
    const notes: string[] = [];
    try {
      built = await this.buildConfig();
      notes.push(...built.notes);
      log.info(`Opening the ${built.effective} registry${'url' in built.config ? ` at ${redactUrl(built.config.url)}` : ''}.`);
      registry = await openRegistry(built.config);
    } catch (err) {
      if (generation !== this.generation) {
        throw err;
      }
      log.error(`Could not open the ${built?.effective ?? requested} registry`, err);
      if (built?.effective === 'sqlite') {
        // The local registry must always be usable: fall back to memory, loudly.
        const note = vscode.l10n.t('The local registry file could not be opened ({0}). Using a temporary in-memory registry: changes will not be saved.', errorMessage(err));
        notes.push(note);
        registry = await openRegistry({ backend: 'memory', logger: this.registryLogger('memory') });
        if (!this.warnedFallback.has(note)) {
          this.warnedFallback.add(note);
          void showErrorWithLog(note);
        }
        built = { ...built, effective: 'memory' };
      } else {
        this.setStatus({
          state: 'failed',
          requested,
          backend: built?.effective ?? this.effectiveBackend(requested),
          readOnly: false,
          error: errorMessage(err),
          notes,
        });
        throw err;
      }
    }
    if (generation !== this.generation) {
      // A newer open (settings changed meanwhile) won: this one is not used.
      await registry.close().catch(() => undefined);
      return this.getRegistry();
    }
    const description = registry.describe();
    for (const n of description.notes ?? []) {
      notes.push(n);
    }
    this.registry = registry;
    this.registrySubscription = registry.onDidChange((change) => this._onDidChangeData.fire(change));
    log.info(`Opened the ${description.backend} registry: ${description.location}${description.readOnly ? ' (read-only)' : ''}.`);
    for (const n of notes) {
      log.info(n);
    }
    this.setStatus({
      state: description.state === 'unavailable' ? 'lost' : 'connected',
      requested: built.requested,
      backend: built.effective,
      location: description.location,
      readOnly: description.readOnly,
      notes,
    });
    this._onDidChangeRegistry.fire(registry);
    this.watchHealth(registry);
    return registry;
  }

  private watchHealth(registry: RegistryStorage): void {
    this.stopHealth();
    if (registry.describe().backend !== 'postgres' && registry.describe().backend !== 'redis') {
      return;
    }
    this.healthTimer = setInterval(() => {
      if (registry !== this.registry) {
        this.stopHealth();
        return;
      }
      const state = registry.describe().state;
      if (state === 'unavailable' && this._status.state === 'connected') {
        log.warn('The server connection is unavailable.');
        this.setStatus({ ...this._status, state: 'lost', error: this._status.error ?? vscode.l10n.t('The server does not answer.') });
      } else if (state === 'open') {
        this.reportHealthy(registry);
      }
    }, 2000);
  }

  private stopHealth(): void {
    if (this.healthTimer) {
      clearInterval(this.healthTimer);
      this.healthTimer = undefined;
    }
  }

  private async closeCurrent(): Promise<void> {
    this.generation++;
    this.stopHealth();
    const old = this.registry;
    this.opening = undefined;
    this.registry = undefined;
    this.registrySubscription?.dispose();
    this.registrySubscription = undefined;
    if (old) {
      const d = old.describe();
      try {
        await old.close();
        log.info(`Closed the ${d.backend} registry.`);
      } catch (err) {
        log.warn(`Closing the ${d.backend} registry failed: ${errorMessage(err)}`);
      }
      this._onDidChangeRegistry.fire(undefined);
    }
    const requested = this.requestedBackend();
    this.setStatus({ state: 'idle', requested, backend: this.effectiveBackend(requested), readOnly: false, notes: [] });
  }

  private setStatus(status: ServiceStatus): void {
    this._status = status;
    this._onDidChangeStatus.fire(status);
    void this.publishContext();
  }

  private async publishContext(): Promise<void> {
    const s = this._status;
    await vscode.commands.executeCommand('setContext', ContextKey.state, s.state);
    await vscode.commands.executeCommand('setContext', ContextKey.backend, s.backend);
    await vscode.commands.executeCommand('setContext', ContextKey.readOnly, s.readOnly);
  }

  private disposed = false;

  async dispose(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    this.generation++;
    this.stopHealth();
    this.registrySubscription?.dispose();
    const old = this.registry;
    this.registry = undefined;
    for (const d of this.disposables) {
      d.dispose();
    }
    await old?.close().catch(() => undefined);
  }
}

/** An error toast with a Show Log action. */
export async function showErrorWithLog(message: string): Promise<void> {
  const showLog = vscode.l10n.t('Show Log');
  const choice = await vscode.window.showErrorMessage(message, showLog);
  if (choice === showLog) {
    await vscode.commands.executeCommand('nautilusRegistry.showLog');
  }
}

export type { ServerBackend };
