import * as vscode from 'vscode';
import { RegistryError } from '../../registry';
import type { RegistryConfig } from '../../registry';
import { logger } from '../log';
import { sqliteFileConnection } from '../platform';
import type { PasswordStore } from '../secrets';
import { splitPassword } from '../secrets';
import { Defaults, SECTION, Setting } from '../settings';
import type { BackendCatalog } from './backendCatalog';
import type { ConnectionEntry } from './connections';
import type { BuiltConfig, RegistrySource } from './managedRegistry';
import { registryLogger, sqliteLimit } from './workspaceSource';

/** A registry from one entry of `nautilusRegistry.connections`. */
export class ConnectionSource implements RegistrySource {
  readonly fallbackToMemory = false;

  constructor(
    readonly entry: ConnectionEntry,
    private readonly context: vscode.ExtensionContext,
    private readonly passwords: PasswordStore,
    private readonly catalog: BackendCatalog,
  ) {}

  backends(): { requested: string; effective: string } {
    return { requested: this.entry.backend, effective: this.entry.backend };
  }

  signature(): string {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const server = this.entry.backend !== 'memory' && this.entry.backend !== 'sqlite';
    return JSON.stringify([this.entry, server ? this.passwords.version : 0, cfg.get(Setting.maxValueBytes), cfg.get(Setting.connectTimeoutMs), cfg.get(Setting.sqliteMaxDatabaseMiB), !!this.catalog.get(this.entry.backend)]);
  }

  private async password(url: string, backend: 'postgres' | 'redis', notes: string[]): Promise<string | undefined> {
    const { url: bare, password: inUrl } = splitPassword(url);
    if (inUrl) {
      notes.push(vscode.l10n.t('The URL of the connection {0} contains a password. Edit the connection to keep it in secret storage instead.', this.entry.name));
      return inUrl;
    }
    // Its own entry first; a password saved for the server before connections existed still works.
    return (await this.passwords.getConnection(this.entry.name)) ?? (await this.passwords.get(backend, bare));
  }

  async build(): Promise<BuiltConfig> {
    const e = this.entry;
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const notes: string[] = [];
    const maxValueBytes = cfg.get<number>(Setting.maxValueBytes);
    const common = {
      logger: registryLogger(e.backend),
      ...(typeof maxValueBytes === 'number' && maxValueBytes > 0 ? { maxValueBytes } : {}),
    };
    const connectTimeoutMs = cfg.get<number>(Setting.connectTimeoutMs, Defaults.connectTimeoutMs);
    const str = (k: string, d: string): string => (typeof e[k] === 'string' ? (e[k] as string) : d);
    let config: RegistryConfig;
    switch (e.backend) {
      case 'memory':
        notes.push(vscode.l10n.t('In-memory registry: keys are lost when the window closes.'));
        config = { backend: 'memory', ...common };
        break;
      case 'sqlite':
        config = {
          backend: 'sqlite',
          ...(await sqliteFileConnection(this.context, str('file', ''))),
          readOnlyIfLocked: true,
          ...sqliteLimit(),
          ...common,
        };
        break;
      case 'postgres': {
        const url = splitPassword(str('url', Defaults.postgresUrl)).url;
        const password = await this.password(str('url', Defaults.postgresUrl), 'postgres', notes);
        config = {
          backend: 'postgres',
          url,
          ...(password !== undefined ? { password } : {}),
          schema: str('schema', Defaults.postgresSchema),
          table: str('table', Defaults.postgresTable),
          ssl: e.ssl === true,
          connectTimeoutMs,
          ...common,
        };
        break;
      }
      case 'redis': {
        const url = splitPassword(str('url', Defaults.redisUrl)).url;
        const password = await this.password(str('url', Defaults.redisUrl), 'redis', notes);
        config = {
          backend: 'redis',
          url,
          ...(password !== undefined ? { password } : {}),
          keyPrefix: str('keyPrefix', Defaults.redisKeyPrefix),
          connectTimeoutMs,
          ...common,
        };
        break;
      }
      default: {
        const contribution = this.catalog.get(e.backend);
        if (!contribution) {
          throw new RegistryError(
            'INVALID_CONFIG',
            vscode.l10n.t('The backend "{0}" of the connection {1} is not available: the extension that adds it is not installed or not active.', e.backend, e.name),
          );
        }
        const { name: _name, backend: _backend, ...fields } = e;
        const log = logger(e.backend);
        const passwords = this.passwords;
        const name = e.name;
        return {
          requested: e.backend,
          effective: e.backend,
          notes,
          // Shown as the config in logs and tests; the contribution opens it.
          config: { backend: 'memory', ...common },
          open: () =>
            contribution.open(fields, {
              name,
              log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
              secrets: { get: async (field: string) => (field === 'password' ? passwords.getConnection(name) : passwords.getConnection(`${name}.${field}`)) },
            }),
        };
      }
    }
    return { requested: e.backend, effective: e.backend, notes, config };
  }
}
