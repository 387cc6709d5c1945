import * as vscode from 'vscode';
import { openRegistry, redactUrl, sqliteLockIsFree } from '../../registry';
import type { RegistryChange, RegistryConfig, RegistryStorage } from '../../registry';
import { RegistryError } from '../../registry';
import { errorMessage, logger } from '../log';

const log = logger('registry');

/** How often a registry opened read-only (another window had it) looks whether it can write again. */
export const READ_ONLY_RECHECK_MS = 2000;

/**
 * - idle: nothing opened yet (a registry opens on first need: its root is expanded or a command runs)
 * - connecting, connected
 * - failed: it could not be opened (Reconnect retries)
 * - lost: it was open, then an operation reported the server unavailable
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'failed' | 'lost';

export interface ServiceStatus {
  state: ConnectionState;
  /** The backend the settings ask for. */
  requested: string;
  /** The backend in use (differs from `requested` in Restricted Mode or after a fallback). */
  backend: string;
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

export interface BuiltConfig {
  config: RegistryConfig;
  requested: string;
  effective: string;
  notes: string[];
  /** Opens the registry from `config`; the built-in factory unless a backend from another extension opens it. */
  open?: () => Promise<RegistryStorage>;
}

/** Where one registry's configuration comes from (settings, a connection entry, another extension's backend). */
export interface RegistrySource {
  /** What the registry depends on (secrets aside, their version included); a change reopens it. */
  signature(): string;
  /** The backend asked for and the one that will be used, before opening (for display). */
  backends(): { requested: string; effective: string };
  /** Settings, trust and secrets turned into a config. Rejects with a RegistryError for a bad config. */
  build(): Promise<BuiltConfig>;
  /** The local registry must always be usable: when its file cannot be opened, use memory (loudly). */
  readonly fallbackToMemory: boolean;
}

/**
 * One registry and its lifecycle: opened lazily, reopened when its source changes, watched for a
 * dropped server connection. Many of these live side by side in the RegistryService; one that fails
 * never blocks the others (each opens on its own).
 */
export class ManagedRegistry implements vscode.Disposable {
  private registry: RegistryStorage | undefined;
  private opening: Promise<RegistryStorage> | undefined;
  private generation = 0;
  private registrySubscription: { dispose(): void } | undefined;
  private openedSignature: string | undefined;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private lockTimer: ReturnType<typeof setInterval> | undefined;
  private warnedFallback = new Set<string>();
  private disposed = false;

  private readonly _onDidChangeRegistry = new vscode.EventEmitter<RegistryStorage | undefined>();
  /** Fires when this registry is opened, reopened or closed. */
  readonly onDidChangeRegistry = this._onDidChangeRegistry.event;
  private readonly _onDidChangeStatus = new vscode.EventEmitter<ServiceStatus>();
  readonly onDidChangeStatus = this._onDidChangeStatus.event;
  private readonly _onDidChangeData = new vscode.EventEmitter<RegistryChange>();
  /** Every change of this registry, from any source. */
  readonly onDidChangeData = this._onDidChangeData.event;

  private _status: ServiceStatus;

  constructor(
    /** Unique among the registries; part of tree ids and value URIs ('workspace' for the workspace's own). */
    readonly name: string,
    private source: RegistrySource,
  ) {
    const b = source.backends();
    this._status = { state: 'idle', requested: b.requested, backend: b.effective, readOnly: false, notes: [] };
  }

  get current(): RegistryStorage | undefined {
    return this.registry;
  }

  get status(): ServiceStatus {
    return this._status;
  }

  /** Replaces where the config comes from (a connection was edited); reopens when it differs and was open. */
  async setSource(source: RegistrySource): Promise<void> {
    this.source = source;
    await this.sourceChanged('its settings changed');
  }

  /** The registry, opened on first use. Rejects with a RegistryError when it cannot be opened. */
  getRegistry(): Promise<RegistryStorage> {
    if (this.disposed) {
      return Promise.reject(new RegistryError('CLOSED', vscode.l10n.t('The registry {0} was removed.', this.name)));
    }
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

  /** The registry for the current settings: reopens first when they changed since it was opened. */
  async ensureCurrent(): Promise<RegistryStorage> {
    if ((this.registry || this.opening) && this.openedSignature !== this.source.signature()) {
      return this.reconnect();
    }
    return this.getRegistry();
  }

  /** Closes the registry; it opens again when next needed (state idle meanwhile). */
  async close(): Promise<void> {
    await this.closeCurrent();
  }

  /** Closes the registry and opens it again. */
  async reconnect(): Promise<RegistryStorage> {
    await this.closeCurrent();
    return this.getRegistry();
  }

  /** Settings, trust or secrets may have changed: reopen when what the registry depends on did (or when forced). */
  async sourceChanged(reason: string, force = false): Promise<void> {
    if (!force && (this.registry || this.opening) && this.openedSignature === this.source.signature()) {
      return;
    }
    if (this.registry || this.opening || this._status.state === 'failed' || this._status.state === 'lost') {
      log.info(`Reopening the registry ${this.name} (${reason}).`);
      try {
        await this.reconnect();
      } catch {
        // Reported through the status (failed) and the log already.
      }
    } else {
      const b = this.source.backends();
      this.setStatus({ ...this._status, requested: b.requested, backend: b.effective });
    }
  }

  /** Called by views and commands when an operation failed: a server that went away becomes `lost`. */
  reportError(err: unknown, registry: RegistryStorage | undefined = this.registry): void {
    if (!registry || registry !== this.registry) {
      return;
    }
    if (RegistryError.is(err, 'UNAVAILABLE') && this._status.state === 'connected') {
      log.error(`Lost the connection of ${this.name}`, err);
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
    if (warning !== this._status.warning) {
      this.setStatus({ ...this._status, warning });
    }
  }

  /** Called when an operation succeeded: a lost connection has come back by itself. */
  reportHealthy(registry: RegistryStorage | undefined): void {
    if (registry && registry === this.registry && this._status.state === 'lost') {
      log.info(`The connection of ${this.name} is back.`);
      this.setStatus({ ...this._status, state: 'connected', error: undefined });
    }
    if (registry && registry === this.registry && this._status.warning !== undefined) {
      this.syncWarning(registry);
    }
  }

  /** The config this registry would open with (tests and diagnostics). */
  buildConfig(): Promise<BuiltConfig> {
    return this.source.build();
  }

  private async open(generation: number): Promise<RegistryStorage> {
    this.openedSignature = this.source.signature();
    const b = this.source.backends();
    this.setStatus({ state: 'connecting', requested: b.requested, backend: b.effective, readOnly: false, notes: [] });
    let built: BuiltConfig | undefined;
    let registry: RegistryStorage;
    const notes: string[] = [];
    try {
      built = await this.source.build();
      notes.push(...built.notes);
      log.info(`Opening ${this.name}: the ${built.effective} registry${'url' in built.config ? ` at ${redactUrl(String(built.config.url))}` : ''}.`);
      registry = built.open ? await built.open() : await openRegistry(built.config);
    } catch (err) {
      if (generation !== this.generation) {
        throw err;
      }
      log.error(`Could not open ${this.name} (the ${built?.effective ?? b.requested} registry)`, err);
      if (built?.effective === 'sqlite' && this.source.fallbackToMemory) {
        const note = vscode.l10n.t('The local registry file could not be opened ({0}). Using a temporary in-memory registry: changes will not be saved.', errorMessage(err));
        notes.push(note);
        const l = logger('memory');
        registry = await openRegistry({ backend: 'memory', logger: { info: (m) => l.info(m), warn: (m) => l.warn(m), error: (m) => l.error(m) } });
        if (!this.warnedFallback.has(note)) {
          this.warnedFallback.add(note);
          void showErrorWithLog(note);
        }
        built = { ...built, effective: 'memory' };
      } else {
        this.setStatus({ state: 'failed', requested: b.requested, backend: built?.effective ?? b.effective, readOnly: false, error: errorMessage(err), notes });
        throw err;
      }
    }
    if (generation !== this.generation) {
      // A newer open (settings changed meanwhile) won: this one is not used.
      await registry.close().catch(() => undefined);
      return this.getRegistry();
    }
    const description = registry.describe();
    notes.push(...(description.notes ?? []));
    this.registry = registry;
    this.registrySubscription = registry.onDidChange((change) => this._onDidChangeData.fire(change));
    log.info(`Opened ${this.name}: the ${description.backend} registry at ${description.location}${description.readOnly ? ' (read-only)' : ''}.`);
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
    if (description.readOnly && built.config.backend === 'sqlite') {
      this.watchLock(registry, built.config);
    }
    return registry;
  }

  /**
   * A sqlite registry opened read-only because another window or tab had it: look now and then
   * whether its lock is free, and then reopen it writable (a read-only registry has no changes of
   * its own to lose; the reopen reads what the other one wrote).
   */
  private watchLock(registry: RegistryStorage, config: Extract<RegistryConfig, { backend: 'sqlite' }>): void {
    this.stopLockWatch();
    let busy = false;
    const timer = setInterval(() => {
      if (registry !== this.registry || this.disposed) {
        clearInterval(timer);
        return;
      }
      if (busy) {
        return;
      }
      busy = true;
      void (async () => {
        try {
          if (!(await sqliteLockIsFree(config)) || registry !== this.registry || this.disposed) {
            return;
          }
          clearInterval(timer);
          log.info(`The registry ${this.name} is no longer open elsewhere: reopening it writable.`);
          await this.reconnect();
          if (this._status.readOnly) {
            log.info(`The registry ${this.name} was taken by another window first; it stays read-only.`);
          } else {
            void vscode.window.showInformationMessage(vscode.l10n.t('The registry {0} is writable again: the other window or tab that had it open has closed it.', this.name));
          }
        } catch (err) {
          log.warn(`Could not check whether the registry ${this.name} can be written again: ${errorMessage(err)}`);
        } finally {
          busy = false;
        }
      })();
    }, READ_ONLY_RECHECK_MS);
    (timer as { unref?(): void }).unref?.();
    this.lockTimer = timer;
  }

  private stopLockWatch(): void {
    if (this.lockTimer) {
      clearInterval(this.lockTimer);
      this.lockTimer = undefined;
    }
  }

  private watchHealth(registry: RegistryStorage): void {
    this.stopHealth();
    const backend = registry.describe().backend as string;
    if (backend === 'memory' || backend === 'sqlite') {
      return;
    }
    this.healthTimer = setInterval(() => {
      if (registry !== this.registry) {
        this.stopHealth();
        return;
      }
      const state = registry.describe().state;
      if (state === 'unavailable' && this._status.state === 'connected') {
        log.warn(`The server connection of ${this.name} is unavailable.`);
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
    this.stopLockWatch();
    const old = this.registry;
    this.opening = undefined;
    this.registry = undefined;
    this.registrySubscription?.dispose();
    this.registrySubscription = undefined;
    if (old) {
      const d = old.describe();
      try {
        await old.close();
        log.info(`Closed ${this.name} (the ${d.backend} registry).`);
      } catch (err) {
        log.warn(`Closing ${this.name} (the ${d.backend} registry) failed: ${errorMessage(err)}`);
      }
      this._onDidChangeRegistry.fire(undefined);
    }
    const b = this.source.backends();
    this.setStatus({ state: 'idle', requested: b.requested, backend: b.effective, readOnly: false, notes: [] });
  }

  private setStatus(status: ServiceStatus): void {
    this._status = status;
    if (!this.disposed) {
      this._onDidChangeStatus.fire(status);
    }
  }

  /** Closes the registry (a sqlite registry finishes writing its file) and stops firing events. */
  async dispose(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    this.generation++;
    this.stopHealth();
    this.stopLockWatch();
    this.registrySubscription?.dispose();
    const old = this.registry;
    this.registry = undefined;
    this._onDidChangeRegistry.dispose();
    this._onDidChangeStatus.dispose();
    this._onDidChangeData.dispose();
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
