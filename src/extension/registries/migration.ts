import * as vscode from 'vscode';
import { logger } from '../log';
import type { PasswordStore } from '../secrets';
import { splitPassword } from '../secrets';
import { Defaults, SECTION, Setting } from '../settings';
import type { ConnectionEntry } from './connections';

const log = logger('migration');

const TARGETS = [
  { target: vscode.ConfigurationTarget.Global, key: 'globalValue', label: 'user' },
  { target: vscode.ConfigurationTarget.Workspace, key: 'workspaceValue', label: 'workspace' },
] as const;

const LABELS: Record<string, string> = { postgres: 'PostgreSQL', redis: 'Redis', memory: 'Memory' };

/**
 * Before many registries, `nautilusRegistry.backend` chose the one registry shown. Now the workspace's
 * own sqlite registry is always there and other backends are connections. Where `backend` is set
 * (user or workspace settings), it becomes one connection with the same URL, schema, table, SSL or
 * key prefix, at the same level; a password saved for that server is copied to the connection's own
 * secret entry; then `backend` is removed. The old postgres.* and redis.* settings stay as they are.
 * Returns what was moved, one line each, for the log and a message.
 */
export async function migrateLegacySettings(passwords: PasswordStore): Promise<string[]> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const done: string[] = [];
  const inspected = cfg.inspect<string>(Setting.backend);
  for (const t of TARGETS) {
    const backend = inspected?.[t.key];
    if (backend === undefined) {
      continue;
    }
    const at = <T>(setting: string, fallback: T): T => {
      const i = cfg.inspect<T>(setting);
      return (i?.[t.key] as T | undefined) ?? (t.key === 'workspaceValue' ? i?.globalValue : undefined) ?? fallback;
    };
    if (backend !== 'sqlite' && (backend === 'postgres' || backend === 'redis' || backend === 'memory')) {
      const existing = (cfg.inspect<unknown[]>(Setting.connections)?.[t.key] ?? []).filter((x): x is ConnectionEntry => typeof x === 'object' && x !== null);
      const taken = [...existing, ...((cfg.get<unknown[]>(Setting.connections) ?? []) as ConnectionEntry[])].map((c) => String(c?.name ?? '').toLowerCase());
      let name = LABELS[backend];
      for (let i = 2; taken.includes(name.toLowerCase()); i++) {
        name = `${LABELS[backend]}-${i}`;
      }
      const entry: ConnectionEntry = { name, backend };
      if (backend === 'postgres' || backend === 'redis') {
        const raw = at<string>(backend === 'postgres' ? Setting.postgresUrl : Setting.redisUrl, backend === 'postgres' ? Defaults.postgresUrl : Defaults.redisUrl);
        const { url, password } = splitPassword(raw);
        entry.url = url;
        const saved = password ?? (await passwords.get(backend, url));
        if (saved !== undefined) {
          await passwords.setConnection(name, saved);
        }
        if (backend === 'postgres') {
          entry.schema = at<string>(Setting.postgresSchema, Defaults.postgresSchema);
          entry.table = at<string>(Setting.postgresTable, Defaults.postgresTable);
          entry.ssl = at<boolean>(Setting.postgresSsl, false);
        } else {
          entry.keyPrefix = at<string>(Setting.redisKeyPrefix, Defaults.redisKeyPrefix);
        }
      }
      await cfg.update(Setting.connections, [...existing, entry], t.target);
      done.push(vscode.l10n.t('The {0} backend in the {1} settings is now the connection "{2}", next to the workspace registry.', LABELS[backend], t.label, name));
    }
    await cfg.update(Setting.backend, undefined, t.target);
    if (backend === 'sqlite') {
      done.push(vscode.l10n.t('Removed "nautilusRegistry.backend": "sqlite" from the {0} settings: the workspace registry is always there.', t.label));
    }
  }
  for (const line of done) {
    log.info(line);
  }
  return done;
}
