import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegistryLogger } from '../../registry';
import { logger } from '../log';
import type { PasswordStore } from '../secrets';
import { splitPassword } from '../secrets';
import type { BackendSetting } from '../settings';
import { BACKEND_SETTINGS, connectionSettingsOf, Defaults, SECTION, Setting, SQLITE_FILE_NAME } from '../settings';
import type { BuiltConfig, RegistrySource } from './managedRegistry';

export function registryLogger(backend: string): RegistryLogger {
  const l = logger(backend);
  return { info: (m) => l.info(m), warn: (m) => l.warn(m), error: (m) => l.error(m) };
}

/** Where the workspace's own sqlite file lives: the workspace storage folder, or the global one without a folder. */
export async function workspaceSqliteFile(context: vscode.ExtensionContext, notes: string[]): Promise<string> {
  let dir = context.storageUri;
  if (!dir) {
    dir = context.globalStorageUri;
    notes.push(vscode.l10n.t('No folder is open: the registry is kept in the global storage folder, shared by every window without a folder.'));
  }
  // Node's fs directly: the folder is on the extension host's machine, and workspace.fs can cost a round trip to the window.
  if (dir.scheme === 'file') {
    await mkdir(dir.fsPath, { recursive: true });
  } else {
    await vscode.workspace.fs.createDirectory(dir);
  }
  return path.join(dir.fsPath, SQLITE_FILE_NAME);
}

/**
 * The workspace registry as the `nautilusRegistry.backend` settings describe it (sqlite by default).
 * In an untrusted workspace a server backend from the settings is not used: the local file is.
 */
export class SettingsSource implements RegistrySource {
  readonly fallbackToMemory = true;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly passwords: PasswordStore,
    private readonly isTrusted: () => boolean,
  ) {}

  private requested(): BackendSetting {
    const value = vscode.workspace.getConfiguration(SECTION).get<string>(Setting.backend, Defaults.backend);
    return (BACKEND_SETTINGS as readonly string[]).includes(value) ? (value as BackendSetting) : Defaults.backend;
  }

  private effective(requested: BackendSetting): BackendSetting {
    return (requested === 'postgres' || requested === 'redis') && !this.isTrusted() ? 'sqlite' : requested;
  }

  backends(): { requested: string; effective: string } {
    const requested = this.requested();
    return { requested, effective: this.effective(requested) };
  }

  signature(): string {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const backend = this.effective(this.requested());
    const server = backend === 'postgres' || backend === 'redis';
    return JSON.stringify([this.isTrusted(), backend, server ? this.passwords.version : 0, ...connectionSettingsOf(backend).map((s) => cfg.get(s))]);
  }

  async build(): Promise<BuiltConfig> {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const requested = this.requested();
    const effective = this.effective(requested);
    const notes: string[] = [];
    const maxValueBytes = cfg.get<number>(Setting.maxValueBytes);
    const common = {
      logger: registryLogger(effective),
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
        const file = await workspaceSqliteFile(this.context, notes);
        return {
          requested,
          effective,
          notes,
          config: { backend: 'sqlite', file, readOnlyIfLocked: true, wasmPath: path.join(this.context.extensionPath, 'dist', 'sql-wasm.wasm'), ...common },
        };
      }
      case 'postgres': {
        const { url, password: inUrl } = splitPassword(cfg.get<string>(Setting.postgresUrl, Defaults.postgresUrl));
        if (inUrl) {
          notes.push(vscode.l10n.t('The PostgreSQL URL in settings contains a password. Run "Connect to PostgreSQL…" to keep it in secret storage instead.'));
        }
        const password = inUrl ?? (await this.passwords.get('postgres', url));
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
            ssl: cfg.get<boolean>(Setting.postgresSsl, false),
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
}
