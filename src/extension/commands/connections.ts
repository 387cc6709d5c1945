import * as vscode from 'vscode';
import { RegistryError } from '../../registry';
import { getChannel, redact } from '../log';
import type { BackendContribution } from '../registries/backendCatalog';
import type { ConnectionEntry } from '../registries/connections';
import { checkConnectionName } from '../registries/connections';
import { serverBackendUnavailable } from '../platform';
import type { ManagedRegistry } from '../registries/managedRegistry';
import type { ServerBackend } from '../secrets';
import { splitPassword } from '../secrets';
import { Commands, Defaults, EXTENSION_ID, KEYS_VIEW_ID, SECTION, Setting, WORKSPACE_REGISTRY } from '../settings';
import { pickRegistry } from '../ui/prompts';
import type { CommandEnv, CommandUnit, Invocation } from './base';
import { Cancelled, command } from './base';
import { str } from './context';

type Target = vscode.ConfigurationTarget.Global | vscode.ConfigurationTarget.Workspace;

function configTarget(target: unknown): Target {
  if (target === 'global' || target === 'user') {
    return vscode.ConfigurationTarget.Global;
  }
  if (target === 'workspace') {
    return vscode.ConfigurationTarget.Workspace;
  }
  return vscode.workspace.workspaceFolders?.length || vscode.workspace.workspaceFile ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

/** The connection lists as written at user and workspace level. */
function connectionLists(): { target: Target; list: ConnectionEntry[] }[] {
  const i = vscode.workspace.getConfiguration(SECTION).inspect<ConnectionEntry[]>(Setting.connections);
  return [
    { target: vscode.ConfigurationTarget.Workspace, list: Array.isArray(i?.workspaceValue) ? [...i.workspaceValue] : [] },
    { target: vscode.ConfigurationTarget.Global, list: Array.isArray(i?.globalValue) ? [...i.globalValue] : [] },
  ];
}

/** Where the connection `name` is written (the workspace's list wins, as VS Code reads it). */
function findConnection(name: string): { target: Target; list: ConnectionEntry[]; index: number } | undefined {
  for (const l of connectionLists()) {
    const index = l.list.findIndex((c) => c?.name === name);
    if (index >= 0) {
      return { ...l, index };
    }
  }
  return undefined;
}

async function writeList(target: Target, list: ConnectionEntry[]): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update(Setting.connections, list.length > 0 ? list : undefined, target);
}

function allNames(): string[] {
  return connectionLists().flatMap((l) => l.list.map((c) => String(c?.name ?? '')));
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

function suggestName(entry: Partial<ConnectionEntry>, taken: readonly string[]): string {
  let base = 'connection';
  try {
    if (typeof entry.url === 'string') {
      const u = new URL(entry.url);
      base = `${u.hostname}${u.pathname.length > 1 ? '-' + u.pathname.slice(1) : ''}`;
    } else if (typeof entry.file === 'string') {
      base = entry.file.split(/[\\/]/).pop()!.replace(/\.[^.]*$/, '');
    } else if (entry.backend === 'memory') {
      base = 'scratch';
    } else if (entry.backend) {
      base = entry.backend;
    }
  } catch {
    // keep the default
  }
  base = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 50) || 'connection';
  let name = base;
  for (let i = 2; checkConnectionName(name, taken) !== undefined; i++) {
    name = `${base}-${i}`;
  }
  return name;
}

interface Step {
  title: string;
}

/** Asks for the fields of a connection (the guided Add/Edit Connection… input). Undefined: cancelled. */
async function askEntry(env: CommandEnv, start: Partial<ConnectionEntry>, editing: string | undefined): Promise<{ entry: ConnectionEntry; password?: string; secrets: Record<string, string> } | undefined> {
  const catalog = env.service.catalog;
  const verb = editing ? vscode.l10n.t('Edit Connection') : vscode.l10n.t('Add Connection');
  const step: Step = { title: verb };
  let backend = start.backend;
  if (!backend) {
    const items = catalog.all().map((b) => ({
      label: b.label,
      description: b.contribution ? vscode.l10n.t('from another extension') : undefined,
      detail:
        b.id === 'postgres'
          ? vscode.l10n.t('A table in a PostgreSQL database, shared with your team')
          : b.id === 'redis'
            ? vscode.l10n.t('Keys under a prefix in a Redis server')
            : b.id === 'sqlite'
              ? vscode.l10n.t('Another registry file, for example one committed in the repository')
              : b.id === 'memory'
                ? vscode.l10n.t('A scratchpad, lost when the window closes')
                : undefined,
      id: b.id,
    }));
    for (const item of items) {
      // In a browser (VS Code for the Web) a server cannot be reached: say so where it is picked.
      if ((item.id === 'postgres' || item.id === 'redis') && serverBackendUnavailable(item.label)) {
        item.description = vscode.l10n.t('needs VS Code Desktop or a Remote window');
      }
    }
    const pick = await vscode.window.showQuickPick(items, { title: `${step.title}: ${vscode.l10n.t('backend')}`, placeHolder: vscode.l10n.t('Where are the keys?'), ignoreFocusOut: true });
    if (!pick) {
      return undefined;
    }
    backend = pick.id;
  }
  const unavailable = backend === 'postgres' || backend === 'redis' ? serverBackendUnavailable(catalog.label(backend)) : undefined;
  if (unavailable) {
    throw new RegistryError('UNSUPPORTED', unavailable);
  }
  const entry: ConnectionEntry = { ...start, name: start.name ?? '', backend };
  const label = catalog.label(backend);
  let password: string | undefined;
  const secrets: Record<string, string> = {};
  if (backend === 'postgres' || backend === 'redis') {
    const url = await vscode.window.showInputBox({
      title: `${step.title}: ${label} URL`,
      prompt: backend === 'postgres' ? vscode.l10n.t('postgres://user@host:5432/database (leave the password out: it is asked next)') : vscode.l10n.t('redis://[user@]host:6379[/db] (leave the password out: it is asked next)'),
      value: typeof entry.url === 'string' ? entry.url : backend === 'postgres' ? Defaults.postgresUrl : Defaults.redisUrl,
      ignoreFocusOut: true,
      validateInput: (v) => validateServerUrl(backend, v),
    });
    if (url === undefined) {
      return undefined;
    }
    const split = splitPassword(url);
    entry.url = split.url;
    password = split.password;
  } else if (backend === 'sqlite') {
    const file = await vscode.window.showInputBox({
      title: `${step.title}: ${label}`,
      prompt: vscode.l10n.t('Path of the registry file: absolute, or relative to the workspace folder (it is created if missing)'),
      value: typeof entry.file === 'string' ? entry.file : 'registry.sqlite',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('A file is needed.') : undefined),
    });
    if (file === undefined) {
      return undefined;
    }
    entry.file = file.trim();
  } else if (backend !== 'memory') {
    const contribution = catalog.get(backend);
    if (!contribution) {
      throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('The backend "{0}" is not available.', backend));
    }
    const fields = await askContributedFields(contribution, entry, step.title);
    if (!fields) {
      return undefined;
    }
    Object.assign(entry, fields.values);
    Object.assign(secrets, fields.secrets);
  }
  const taken = allNames().filter((n) => n !== editing);
  const name = await vscode.window.showInputBox({
    title: `${step.title}: ${vscode.l10n.t('name')}`,
    prompt: vscode.l10n.t('The name shown in the Keys view and in value tabs (nautilus-registry://<name>/<key>)'),
    value: entry.name || suggestName(entry, taken),
    ignoreFocusOut: true,
    validateInput: (v) => checkConnectionName(v, taken),
  });
  if (name === undefined) {
    return undefined;
  }
  entry.name = name;
  if ((backend === 'postgres' || backend === 'redis') && password === undefined) {
    password = await vscode.window.showInputBox({
      title: `${step.title}: ${vscode.l10n.t('password')}`,
      prompt: editing
        ? vscode.l10n.t('Password for {0} (kept in VS Code secret storage; leave empty to keep the saved one or when the server needs none)', String(entry.url))
        : vscode.l10n.t('Password for {0} (kept in VS Code secret storage; leave empty when the server needs none)', String(entry.url)),
      password: true,
      ignoreFocusOut: true,
    });
    if (password === undefined) {
      return undefined;
    }
  }
  return { entry, password, secrets };
}

async function askContributedFields(
  contribution: BackendContribution,
  entry: ConnectionEntry,
  title: string,
): Promise<{ values: Record<string, unknown>; secrets: Record<string, string> } | undefined> {
  const values: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [field, schema] of Object.entries(contribution.configSchema?.properties ?? {})) {
    if (field === 'name' || field === 'backend') {
      continue;
    }
    const current = entry[field] ?? schema.default;
    if (schema.type === 'boolean') {
      const yes = vscode.l10n.t('Yes');
      const no = vscode.l10n.t('No');
      const pick = await vscode.window.showQuickPick([yes, no], { title: `${title}: ${schema.title ?? field}`, placeHolder: schema.description, ignoreFocusOut: true });
      if (!pick) {
        return undefined;
      }
      values[field] = pick === yes;
      continue;
    }
    const text = await vscode.window.showInputBox({
      title: `${title}: ${schema.title ?? field}`,
      prompt: schema.description,
      value: schema.secret || current === undefined ? '' : String(current),
      password: schema.secret === true,
      ignoreFocusOut: true,
      validateInput: (v) => {
        if (schema.required && v.trim() === '' && !schema.secret) {
          return vscode.l10n.t('{0} is required.', schema.title ?? field);
        }
        if (schema.type === 'number' && v.trim() !== '' && !Number.isFinite(Number(v))) {
          return vscode.l10n.t('{0} must be a number.', schema.title ?? field);
        }
        return undefined;
      },
    });
    if (text === undefined) {
      return undefined;
    }
    if (schema.secret) {
      if (text !== '') {
        secrets[field] = text;
      }
    } else if (text.trim() !== '') {
      values[field] = schema.type === 'number' ? Number(text) : text;
    }
  }
  return { values, secrets };
}

/** Saves an entry (new, or replacing `previous`), its password and secrets; opens it; returns its registry. */
async function saveEntry(
  env: CommandEnv,
  result: { entry: ConnectionEntry; password?: string; secrets: Record<string, string> },
  previous: string | undefined,
  target: Target,
): Promise<ManagedRegistry | undefined> {
  const { entry, password, secrets } = result;
  const problem = checkConnectionName(entry.name, allNames().filter((n) => n !== previous));
  if (problem) {
    throw new RegistryError('INVALID_CONFIG', problem);
  }
  const { passwords, service } = env;
  if (previous !== undefined && previous !== entry.name) {
    const from = secretKeys(env, entry.backend, previous);
    const to = secretKeys(env, entry.backend, entry.name);
    for (let i = 0; i < from.length; i++) {
      if (from[i] === previous) {
        await passwords.renameConnection(previous, entry.name);
      } else {
        await passwords.renameConnection(from[i], to[i]);
      }
    }
  }
  if (password !== undefined && password !== '') {
    await passwords.setConnection(entry.name, password);
  }
  for (const [field, value] of Object.entries(secrets)) {
    await passwords.setConnection(field === 'password' ? entry.name : `${entry.name}.${field}`, value);
  }
  const found = previous !== undefined ? findConnection(previous) : undefined;
  if (found) {
    found.list[found.index] = entry;
    await writeList(found.target, found.list);
  } else {
    const l = connectionLists().find((x) => x.target === target)!;
    await writeList(target, [...l.list, entry]);
  }
  service.syncConnections();
  return service.find(entry.name);
}

/** The secret-storage entries of a connection: its password, and each secret field of a contributed backend. */
function secretKeys(env: CommandEnv, backend: string, name: string): string[] {
  const fields = Object.entries(env.service.catalog.get(backend)?.configSchema?.properties ?? {})
    .filter(([field, schema]) => schema.secret && field !== 'password')
    .map(([field]) => `${name}.${field}`);
  return [name, ...fields];
}

/** Opens a registry with progress on the view; false (and the root shows why) when it cannot be opened. */
async function tryOpen(managed: ManagedRegistry): Promise<boolean> {
  try {
    await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => managed.ensureCurrent());
    return true;
  } catch {
    return false;
  }
}

/** From code: { name, backend, url | file | fields…, password, target }. From the UI: the guided input. Returns the connection's name. */
async function addConnection(inv: Invocation, preset?: Partial<ConnectionEntry>): Promise<string | undefined> {
  const { env } = inv;
  if (!env.service.isTrusted()) {
    void vscode.window.showWarningMessage(vscode.l10n.t('This workspace is not trusted: only its own registry is shown. Trust the workspace to add connections.'));
    return undefined;
  }
  const named = (inv.named ?? {}) as Record<string, unknown>;
  const target = configTarget(named.target);
  let result: { entry: ConnectionEntry; password?: string; secrets: Record<string, string> } | undefined;
  if (!inv.interactive) {
    const { password, target: _t, registry: _r, secrets, ...fields } = named;
    const entry = { ...preset, ...fields } as ConnectionEntry;
    if (typeof entry.url === 'string') {
      const split = splitPassword(entry.url);
      entry.url = split.url;
      result = { entry, password: str(password) ?? split.password, secrets: (secrets ?? {}) as Record<string, string> };
    } else {
      result = { entry, password: str(password), secrets: (secrets ?? {}) as Record<string, string> };
    }
    if (!entry.name) {
      entry.name = suggestName(entry, allNames());
    }
    if (typeof entry.backend !== 'string' || entry.backend === '') {
      throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('Add Connection needs a backend: {0}.', env.service.catalog.ids().join(', ')));
    }
    // From code, connecting an existing name updates it (what connectPostgres always did).
    const existing = findConnection(entry.name);
    const managed = await saveEntry(env, result, existing ? entry.name : undefined, target);
    if (managed) {
      await tryOpen(managed);
    }
    return entry.name;
  }
  result = await askEntry(env, { ...preset }, undefined);
  if (!result) {
    return undefined;
  }
  const managed = await saveEntry(env, result, undefined, target);
  if (managed) {
    const ok = await tryOpen(managed);
    void inv.env.provider.revealRegistry(managed.name);
    if (ok) {
      void vscode.window.setStatusBarMessage(vscode.l10n.t('Connected to {0}', managed.name), 4000);
    } else {
      void vscode.window.showWarningMessage(vscode.l10n.t('Added {0}, but it could not be opened: {1}', managed.name, managed.status.error ?? ''));
    }
  }
  return result.entry.name;
}

/** The connection a command acts on: the clicked root, `{ registry }`, or picked. Never the workspace registry. */
async function connectionTarget(inv: Invocation, title: string): Promise<ManagedRegistry> {
  const { service, recent } = inv.env;
  const ctx = inv.ctx;
  const explicit = ctx.kind === 'tree' ? ctx.registry : ctx.kind === 'args' ? ctx.registry : ctx.selection[0]?.registry;
  if (explicit !== undefined && explicit !== WORKSPACE_REGISTRY) {
    return service.get(explicit);
  }
  if (ctx.kind === 'args') {
    throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('Name the connection: {0}', '{ registry: "<name>" }'));
  }
  const picked = await pickRegistry(service.registries, recent, title, { exclude: WORKSPACE_REGISTRY });
  if (!picked) {
    throw new Cancelled();
  }
  return picked;
}

async function editConnection(inv: Invocation): Promise<string | undefined> {
  const managed = await connectionTarget(inv, vscode.l10n.t('Edit which connection?'));
  const found = findConnection(managed.name);
  if (!found) {
    throw new RegistryError('NOT_FOUND', vscode.l10n.t('The connection {0} is not in the settings.', managed.name));
  }
  const current = found.list[found.index];
  let result: { entry: ConnectionEntry; password?: string; secrets: Record<string, string> } | undefined;
  if (!inv.interactive) {
    const { password, registry: _r, target: _t, secrets, ...fields } = (inv.named ?? {}) as Record<string, unknown>;
    result = { entry: { ...current, ...fields, name: typeof fields.name === 'string' ? fields.name : current.name } as ConnectionEntry, password: str(password), secrets: (secrets ?? {}) as Record<string, string> };
  } else {
    result = await askEntry(inv.env, current, current.name);
  }
  if (!result) {
    return undefined;
  }
  const saved = await saveEntry(inv.env, result, current.name, found.target);
  if (saved) {
    await tryOpen(saved);
  }
  return result.entry.name;
}

async function renameConnection(inv: Invocation): Promise<string | undefined> {
  const managed = await connectionTarget(inv, vscode.l10n.t('Rename which connection?'));
  const found = findConnection(managed.name);
  if (!found) {
    throw new RegistryError('NOT_FOUND', vscode.l10n.t('The connection {0} is not in the settings.', managed.name));
  }
  const taken = allNames().filter((n) => n !== managed.name);
  let to = str(inv.named?.to) ?? str(inv.arg(1));
  if (to === undefined) {
    to = await vscode.window.showInputBox({
      title: vscode.l10n.t('Rename Connection {0}', managed.name),
      value: managed.name,
      validateInput: (v) => checkConnectionName(v, taken),
    });
    if (to === undefined || to === managed.name) {
      return undefined;
    }
  }
  const entry = { ...found.list[found.index], name: to };
  await saveEntry(inv.env, { entry, secrets: {} }, managed.name, found.target);
  return to;
}

async function removeConnection(inv: Invocation): Promise<boolean | undefined> {
  const managed = await connectionTarget(inv, vscode.l10n.t('Remove which connection?'));
  const found = findConnection(managed.name);
  if (!found) {
    throw new RegistryError('NOT_FOUND', vscode.l10n.t('The connection {0} is not in the settings.', managed.name));
  }
  if (inv.interactive) {
    const remove = vscode.l10n.t('Remove Connection');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Remove the connection {0}?', managed.name),
      { modal: true, detail: vscode.l10n.t('Only the connection and its saved password are removed; the keys stay where they are ({0}).', managed.status.location ?? managed.status.backend) },
      remove,
    );
    if (choice !== remove) {
      return undefined;
    }
  }
  const [removed] = found.list.splice(found.index, 1);
  await writeList(found.target, found.list);
  for (const key of secretKeys(inv.env, String(removed?.backend ?? managed.status.backend), managed.name)) {
    await inv.env.passwords.deleteConnection(key);
  }
  inv.env.service.syncConnections();
  return true;
}

async function moveConnection(inv: Invocation, delta: -1 | 1): Promise<boolean> {
  const managed = await connectionTarget(inv, vscode.l10n.t('Move which connection?'));
  const found = findConnection(managed.name);
  if (!found) {
    return false;
  }
  const to = found.index + delta;
  if (to < 0 || to >= found.list.length) {
    return false;
  }
  const [entry] = found.list.splice(found.index, 1);
  found.list.splice(to, 0, entry);
  await writeList(found.target, found.list);
  inv.env.service.syncConnections();
  return true;
}

/** Connect to PostgreSQL… / Redis…: Add Connection… with the backend chosen (and, from code, its fields). True when it opened. */
async function connect(backend: ServerBackend, inv: Invocation): Promise<boolean | undefined> {
  const unavailable = serverBackendUnavailable(backend === 'postgres' ? 'PostgreSQL' : 'Redis');
  if (unavailable) {
    throw new RegistryError('UNSUPPORTED', unavailable);
  }
  const name = await addConnection(inv, { backend, ...(inv.interactive ? {} : { name: str(inv.named?.name) ?? (backend === 'postgres' ? 'PostgreSQL' : 'Redis') }) });
  if (name === undefined) {
    return inv.env.service.isTrusted() ? undefined : false;
  }
  const managed = inv.env.service.find(name);
  if (!managed) {
    return false;
  }
  inv.target = managed;
  if (!inv.interactive) {
    await managed.ensureCurrent();
  }
  return managed.status.state === 'connected';
}

async function forgetPassword(inv: Invocation): Promise<boolean | undefined> {
  const { passwords, service } = inv.env;
  let name = inv.text('registry', 0) ?? (inv.ctx.kind === 'tree' && inv.ctx.registry !== WORKSPACE_REGISTRY ? inv.ctx.registry : undefined);
  if (name === undefined) {
    const items: (vscode.QuickPickItem & { name: string })[] = [];
    for (const r of service.registries) {
      if (r.name !== WORKSPACE_REGISTRY && (await passwords.getConnection(r.name)) !== undefined) {
        items.push({ name: r.name, label: r.name, description: r.status.location ? redact(r.status.location) : r.status.backend });
      }
    }
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No password is saved for the connections.'));
      return false;
    }
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Forget Saved Password') });
    if (!pick) {
      return undefined;
    }
    name = pick.name;
  }
  const had = await passwords.deleteConnection(name);
  if (inv.interactive) {
    void vscode.window.showInformationMessage(had ? vscode.l10n.t('Forgot the password of {0}.', name) : vscode.l10n.t('No password was saved for {0}.', name));
  }
  return had;
}

async function reconnect(inv: Invocation): Promise<string> {
  const target = await inv.managed(vscode.l10n.t('Reconnect which registry?'));
  await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => target.reconnect().catch(() => undefined));
  return target.status.state;
}

/** Connections: add, edit, rename, remove, reorder; passwords; reconnect; the log and the settings. */
export const connectionCommands: readonly CommandUnit[] = [
  command(Commands.addConnection, (inv) => addConnection(inv)),
  command(Commands.editConnection, editConnection),
  command(Commands.renameConnection, renameConnection),
  command(Commands.removeConnection, removeConnection),
  command(Commands.moveConnectionUp, (inv) => moveConnection(inv, -1)),
  command(Commands.moveConnectionDown, (inv) => moveConnection(inv, 1)),
  command(Commands.connectPostgres, (inv) => connect('postgres', inv)),
  command(Commands.connectRedis, (inv) => connect('redis', inv)),
  command(Commands.forgetPassword, forgetPassword),
  command(Commands.reconnect, reconnect),
  command(Commands.showLog, () => getChannel().show(true)),
  command(Commands.openSettings, () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID} connections`)),
];
