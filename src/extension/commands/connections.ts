import * as vscode from 'vscode';
import { RegistryError } from '../../registry';
import { getChannel } from '../log';
import type { ServerBackend } from '../secrets';
import { splitPassword } from '../secrets';
import type { BackendSetting } from '../settings';
import { BACKEND_SETTINGS, Commands, Defaults, EXTENSION_ID, KEYS_VIEW_ID, SECTION, Setting } from '../settings';
import type { CommandUnit, Invocation } from './base';
import { command } from './base';
import { isRecord, str } from './context';

function configTarget(target: unknown): vscode.ConfigurationTarget {
  if (target === 'global' || target === 'user') {
    return vscode.ConfigurationTarget.Global;
  }
  if (target === 'workspace') {
    return vscode.ConfigurationTarget.Workspace;
  }
  return vscode.workspace.workspaceFolders?.length || vscode.workspace.workspaceFile ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

async function switchBackend(inv: Invocation): Promise<string | undefined> {
  const { service } = inv.env;
  const second = inv.arg(1);
  let backend = inv.text('backend', 0);
  const target = configTarget(inv.named?.target ?? (isRecord(second) ? second.target : undefined));
  if (backend === undefined) {
    const current = service.status.requested;
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const items: (vscode.QuickPickItem & { value: BackendSetting })[] = [
      { value: 'sqlite', label: '$(database) SQLite', description: vscode.l10n.t('per workspace, saved in the workspace storage folder') },
      { value: 'memory', label: '$(circuit-board) Memory', description: vscode.l10n.t('temporary, lost when the window closes') },
      { value: 'postgres', label: '$(server) PostgreSQL', description: cfg.get<string>(Setting.postgresUrl, Defaults.postgresUrl) },
      { value: 'redis', label: '$(server) Redis', description: cfg.get<string>(Setting.redisUrl, Defaults.redisUrl) },
    ];
    for (const i of items) {
      if (i.value === current) {
        i.detail = vscode.l10n.t('current');
      }
    }
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Switch Backend'), placeHolder: vscode.l10n.t('Where the registry keeps its keys') });
    if (!pick) {
      return undefined;
    }
    backend = pick.value;
  }
  if (!(BACKEND_SETTINGS as readonly string[]).includes(backend)) {
    throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('Unknown backend "{0}"; use one of {1}.', backend, BACKEND_SETTINGS.join(', ')));
  }
  await vscode.workspace.getConfiguration(SECTION).update(Setting.backend, backend, target);
  await service.ensureCurrent();
  return service.status.backend;
}

interface ConnectArgs {
  url?: string;
  password?: string;
  schema?: string;
  table?: string;
  ssl?: boolean;
  keyPrefix?: string;
  target?: string;
}

async function connect(backend: ServerBackend, inv: Invocation): Promise<boolean | undefined> {
  const { service, passwords } = inv.env;
  const named = (inv.named ?? {}) as ConnectArgs;
  const label = backend === 'postgres' ? 'PostgreSQL' : 'Redis';
  const urlSetting = backend === 'postgres' ? Setting.postgresUrl : Setting.redisUrl;
  const cfg = vscode.workspace.getConfiguration(SECTION);
  let url = named.url;
  if (url === undefined) {
    url = await vscode.window.showInputBox({
      title: vscode.l10n.t('Connect to {0} (1/2)', label),
      prompt: backend === 'postgres' ? vscode.l10n.t('postgres://user@host:5432/database (leave the password out)') : vscode.l10n.t('redis://[user@]host:6379[/db] (leave the password out)'),
      value: cfg.get<string>(urlSetting, backend === 'postgres' ? Defaults.postgresUrl : Defaults.redisUrl),
      ignoreFocusOut: true,
      validateInput: (v) => validateServerUrl(backend, v),
    });
    if (url === undefined) {
      return undefined;
    }
  }
  const split = splitPassword(url);
  url = split.url;
  let password = named.password ?? split.password;
  if (password === undefined && inv.interactive) {
    password = await vscode.window.showInputBox({
      title: vscode.l10n.t('Connect to {0} (2/2)', label),
      prompt: vscode.l10n.t('Password for {0} (kept in VS Code secret storage; leave empty when the server needs none)', url),
      password: true,
      ignoreFocusOut: true,
    });
    if (password === undefined) {
      return undefined;
    }
  }
  if (password !== undefined && password !== '') {
    await passwords.set(backend, url, password);
  } else if (password === '') {
    await passwords.delete(backend, url);
  }
  const target = configTarget(named.target);
  await cfg.update(urlSetting, url, target);
  if (backend === 'postgres') {
    if (named.schema !== undefined) {
      await cfg.update(Setting.postgresSchema, named.schema, target);
    }
    if (named.table !== undefined) {
      await cfg.update(Setting.postgresTable, named.table, target);
    }
    if (named.ssl !== undefined) {
      await cfg.update(Setting.postgresSsl, named.ssl, target);
    }
  } else if (named.keyPrefix !== undefined) {
    await cfg.update(Setting.redisKeyPrefix, named.keyPrefix, target);
  }
  await cfg.update(Setting.backend, backend, target);
  if (!service.isTrusted()) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Saved. This workspace is not trusted, so the extension keeps using the local registry until you trust it.'));
    return false;
  }
  await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => service.ensureCurrent());
  if (inv.interactive) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Connected to {0}: {1}', label, service.status.location ?? url));
  }
  return true;
}

/** Undefined when `value` is a URL of the backend's scheme, else what is wrong with it. */
export function validateServerUrl(backend: ServerBackend, value: string): string | undefined {
  try {
    const u = new URL(value);
    const ok = backend === 'postgres' ? ['postgres:', 'postgresql:'].includes(u.protocol) : ['redis:', 'rediss:'].includes(u.protocol);
    return ok ? undefined : vscode.l10n.t('The URL must start with {0}', backend === 'postgres' ? 'postgres://' : 'redis://');
  } catch {
    return vscode.l10n.t('Not a URL');
  }
}

async function forgetPassword(inv: Invocation): Promise<boolean | undefined> {
  const { passwords } = inv.env;
  const named = inv.named;
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const urls: Record<ServerBackend, string> = {
    postgres: splitPassword(str(named?.url) ?? cfg.get<string>(Setting.postgresUrl, Defaults.postgresUrl)).url,
    redis: splitPassword(str(named?.url) ?? cfg.get<string>(Setting.redisUrl, Defaults.redisUrl)).url,
  };
  let backend = inv.text('backend', 0) as ServerBackend | undefined;
  if (backend === undefined) {
    const items: (vscode.QuickPickItem & { value: ServerBackend })[] = [];
    for (const b of ['postgres', 'redis'] as const) {
      if ((await passwords.get(b, urls[b])) !== undefined) {
        items.push({ value: b, label: b === 'postgres' ? 'PostgreSQL' : 'Redis', description: urls[b] });
      }
    }
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No password is saved for the configured servers.'));
      return false;
    }
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Forget Saved Password') });
    if (!pick) {
      return undefined;
    }
    backend = pick.value;
  }
  if (backend !== 'postgres' && backend !== 'redis') {
    throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('Forget Saved Password takes "postgres" or "redis".'));
  }
  const had = await passwords.delete(backend, urls[backend]);
  if (inv.interactive) {
    void vscode.window.showInformationMessage(had ? vscode.l10n.t('Forgot the password for {0}.', urls[backend]) : vscode.l10n.t('No password was saved for {0}.', urls[backend]));
  }
  return had;
}

async function reconnect(inv: Invocation): Promise<string> {
  const target = await inv.managed(vscode.l10n.t('Reconnect which registry?'));
  await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => target.reconnect());
  return target.status.state;
}

/** Backends, servers, passwords, the log and the settings. */
export const connectionCommands: readonly CommandUnit[] = [
  command(Commands.switchBackend, switchBackend),
  command(Commands.connectPostgres, (inv) => connect('postgres', inv)),
  command(Commands.connectRedis, (inv) => connect('redis', inv)),
  command(Commands.forgetPassword, forgetPassword),
  command(Commands.reconnect, reconnect),
  command(Commands.showLog, () => getChannel().show(true)),
  command(Commands.openSettings, () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID}`)),
];
