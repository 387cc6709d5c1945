import * as vscode from 'vscode';
import { RegistryError, parentOf } from '../registry';
import type { RegistryStorage } from '../registry';
import type { ExportOptions, ExportReport, ImportOptions, ImportReport } from './importExport';
import { exportEntries, importEntries, parseImport, skippedText, withCancellableProgress } from './importExport';
import { errorMessage, getChannel, logger } from './log';
import { serverBackendUnavailable } from './platform';
import type { RegistryService } from './registryService';
import { showErrorWithLog } from './registryService';
import type { PasswordStore, ServerBackend } from './secrets';
import { splitPassword } from './secrets';
import type { BackendSetting } from './settings';
import { BACKEND_SETTINGS, Commands, Defaults, EXTENSION_ID, KEYS_VIEW_ID, SECTION, Setting } from './settings';
import { openValue } from './valueFileSystem';
import type { KeysTreeProvider } from './view/keysTreeProvider';
import { ErrorNode, FolderNode, KeyNode, LoadMoreNode } from './view/treeNodes';
import type { TreeNode } from './view/treeNodes';

const log = logger('commands');

export interface CommandDeps {
  service: RegistryService;
  provider: KeysTreeProvider;
  view: vscode.TreeView<TreeNode>;
  passwords: PasswordStore;
}

/**
 * How commands take arguments (so keybindings, tasks and other extensions can call them):
 * - From the tree: (clicked node, selected nodes). Destructive ones confirm.
 * - From code: plain values (`store('a/b', 'v', {ttlMs})`) or one object with named fields
 *   (`store({key, value, ttlMs})`, what a keybinding's "args" can carry). Given their inputs, commands
 *   neither prompt nor confirm; they return their result and reject with the RegistryError on failure.
 * - From the palette (no arguments): they ask, confirm and report in the UI.
 */
type Args = unknown[];

function isNode(x: unknown): x is TreeNode {
  return x instanceof FolderNode || x instanceof KeyNode || x instanceof LoadMoreNode || x instanceof ErrorNode;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !isNode(x) && !(x instanceof vscode.Uri);
}

/** True when the caller passed the inputs (not a tree node, not nothing). */
function isProgrammatic(args: Args): boolean {
  return args.length > 0 && args[0] !== undefined && !isNode(args[0]) && !(Array.isArray(args[0]) && args[0].every(isNode));
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

/** Keys and folders a command applies to: the clicked node plus the multi-selection, or the view's selection. */
function targetsOf(args: Args, view: vscode.TreeView<TreeNode>): { keys: string[]; folders: string[] } {
  const keys = new Set<string>();
  const folders = new Set<string>();
  const add = (x: unknown): void => {
    if (x instanceof KeyNode) {
      keys.add(x.key);
    } else if (x instanceof FolderNode) {
      folders.add(x.prefix);
    } else if (typeof x === 'string') {
      keys.add(x);
    } else if (Array.isArray(x)) {
      x.forEach(add);
    } else if (isRecord(x)) {
      add(x.key ?? x.keys);
    }
  };
  const [first, second] = args;
  if (Array.isArray(second) && second.some(isNode) && isNode(first) && second.includes(first)) {
    add(second);
  } else if (first !== undefined) {
    add(first);
  } else {
    add([...view.selection]);
  }
  return { keys: [...keys], folders: [...folders] };
}

/** '30s', '5m', '2h', '1d', '1500ms' or a plain number of seconds -> milliseconds; '' or '0' -> undefined (never). */
export function parseDuration(text: string): number | undefined | 'invalid' {
  const t = text.trim().toLowerCase();
  if (t === '' || t === '0' || t === 'never') {
    return undefined;
  }
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(t);
  if (!m) {
    return 'invalid';
  }
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Math.round(n * unit);
  return ms > 0 ? ms : undefined;
}

function configTarget(target: unknown): vscode.ConfigurationTarget {
  if (target === 'global' || target === 'user') {
    return vscode.ConfigurationTarget.Global;
  }
  if (target === 'workspace') {
    return vscode.ConfigurationTarget.Workspace;
  }
  return vscode.workspace.workspaceFolders?.length || vscode.workspace.workspaceFile ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

function asUri(x: unknown): vscode.Uri | undefined {
  if (x instanceof vscode.Uri) {
    return x;
  }
  if (typeof x === 'string' && x.length > 0) {
    return /^[a-z][a-z0-9+.-]+:/i.test(x) && !/^[a-z]:[\\/]/i.test(x) ? vscode.Uri.parse(x) : vscode.Uri.file(x);
  }
  return undefined;
}

export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const { service, provider, view, passwords } = deps;
  const sep = (): string => provider.separator;

  const register = (id: string, handler: (...args: Args) => Promise<unknown> | unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: Args) => {
        try {
          return await handler(...args);
        } catch (err) {
          service.reportError(err);
          log.error(`${id} failed`, err);
          if (isProgrammatic(args)) {
            throw err;
          }
          void showErrorWithLog(errorMessage(err));
          return undefined;
        }
      }),
    );
  };

  const registry = (): Promise<RegistryStorage> => service.ensureCurrent();

  const validateKeyInput = (value: string): string | undefined =>
    value.length === 0 ? vscode.l10n.t('A key must not be empty.') : undefined;

  // ---- keys --------------------------------------------------------------------------------
  const store = async (...args: Args): Promise<boolean | undefined> => {
    const named = isRecord(args[0]) ? args[0] : undefined;
    let key = str(named?.key) ?? str(args[0]);
    let value = str(named?.value) ?? str(args[1]);
    const options = (named ?? (isRecord(args[2]) ? args[2] : undefined)) as { ttlMs?: number } | undefined;
    const reg = await registry();
    if (key !== undefined && value !== undefined) {
      await reg.store(key, value, options?.ttlMs !== undefined ? { ttlMs: options.ttlMs } : undefined);
      return true;
    }
    const folder = args[0] instanceof FolderNode ? args[0].prefix : args[0] instanceof KeyNode ? parentOf(args[0].key, sep()) : '';
    key = await vscode.window.showInputBox({
      title: vscode.l10n.t('Store Key (1/2)'),
      prompt: vscode.l10n.t('Key (use "{0}" to make folders)', sep()),
      value: key ?? folder,
      valueSelection: key ? undefined : [folder.length, folder.length],
      validateInput: validateKeyInput,
      ignoreFocusOut: true,
    });
    if (key === undefined) {
      return undefined;
    }
    const existing = await reg.retrieve(key);
    value = await vscode.window.showInputBox({
      title: vscode.l10n.t('Store Key (2/2)'),
      prompt: vscode.l10n.t('Value of {0} (for long or multi-line values, store a short one and open it in the editor)', key),
      value: value ?? existing ?? '',
      ignoreFocusOut: true,
    });
    if (value === undefined) {
      return undefined;
    }
    await reg.store(key, value);
    void provider.reveal(key).catch(() => undefined);
    void vscode.window.setStatusBarMessage(vscode.l10n.t('Stored {0}', key), 3000);
    return true;
  };
  register(Commands.store, store);
  register(Commands.storeInFolder, (...args: Args) => store(...args));

  register(Commands.retrieve, async (...args: Args) => {
    const named = isRecord(args[0]) ? args[0] : undefined;
    const reg = await registry();
    const given = str(named?.key) ?? str(args[0]) ?? (args[0] instanceof KeyNode ? args[0].key : undefined);
    if (given !== undefined && isProgrammatic(args)) {
      return reg.retrieve(given);
    }
    const key = given ?? (await pickKey(reg, vscode.l10n.t('Retrieve Key')));
    if (key === undefined) {
      return undefined;
    }
    const value = await reg.retrieve(key);
    if (value === undefined) {
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} does not exist (or has expired).', key));
      return undefined;
    }
    const copy = vscode.l10n.t('Copy');
    const open = vscode.l10n.t('Open');
    const shown = value.length > 300 ? value.slice(0, 300) + '…' : value;
    void vscode.window.showInformationMessage(`${key} = ${shown}`, copy, open).then(async (choice) => {
      if (choice === copy) {
        await vscode.env.clipboard.writeText(value);
      } else if (choice === open) {
        await openValue(key);
      }
    });
    return value;
  });

  register(Commands.contains, async (...args: Args) => {
    const named = isRecord(args[0]) ? args[0] : undefined;
    const reg = await registry();
    let key = str(named?.key) ?? str(args[0]);
    if (key !== undefined) {
      return reg.contains(key);
    }
    key = await vscode.window.showInputBox({ title: vscode.l10n.t('Contains Key'), prompt: vscode.l10n.t('Key to look for'), validateInput: validateKeyInput });
    if (key === undefined) {
      return undefined;
    }
    const found = await reg.contains(key);
    void vscode.window.showInformationMessage(found ? vscode.l10n.t('{0} exists.', key) : vscode.l10n.t('{0} does not exist.', key));
    return found;
  });

  register(Commands.remove, async (...args: Args) => {
    const reg = await registry();
    const { keys, folders } = targetsOf(args, view);
    if (keys.length === 0 && folders.length === 0) {
      const key = await pickKey(reg, vscode.l10n.t('Remove Key'));
      if (key === undefined) {
        return 0;
      }
      keys.push(key);
    }
    if (!isProgrammatic(args)) {
      let total = keys.length;
      for (const f of folders) {
        total += await reg.count(f);
      }
      const remove = vscode.l10n.t('Remove');
      const what =
        keys.length === 1 && folders.length === 0
          ? vscode.l10n.t('Remove the key {0}?', keys[0])
          : folders.length === 0
            ? vscode.l10n.t('Remove {0} keys?', keys.length.toLocaleString())
            : vscode.l10n.t('Remove {0} keys (including {1} folders)?', total.toLocaleString(), folders.length);
      const choice = await vscode.window.showWarningMessage(what, { modal: true, detail: vscode.l10n.t('This cannot be undone.') }, remove);
      if (choice !== remove) {
        return 0;
      }
    }
    let removed = 0;
    for (const f of folders) {
      removed += await reg.removePrefix(f);
    }
    for (const k of keys) {
      if (await reg.remove(k)) {
        removed++;
      }
    }
    log.info(`Removed ${removed} key(s).`);
    return removed;
  });

  register(Commands.removeFolder, async (...args: Args) => {
    const reg = await registry();
    const named = isRecord(args[0]) ? args[0] : undefined;
    let prefix = args[0] instanceof FolderNode ? args[0].prefix : (str(named?.prefix) ?? str(args[0]));
    if (prefix === undefined) {
      prefix = await vscode.window.showInputBox({
        title: vscode.l10n.t('Remove Folder'),
        prompt: vscode.l10n.t('Folder to remove with every key in it'),
        validateInput: validateKeyInput,
      });
      if (prefix === undefined) {
        return 0;
      }
    }
    if (!prefix.endsWith(sep())) {
      prefix += sep();
    }
    if (!isProgrammatic(args)) {
      const n = await reg.count(prefix);
      if (n === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t('The folder {0} holds no keys.', prefix));
        return 0;
      }
      const remove = n === 1 ? vscode.l10n.t('Remove 1 Key') : vscode.l10n.t('Remove {0} Keys', n.toLocaleString());
      const choice = await vscode.window.showWarningMessage(
        n === 1 ? vscode.l10n.t('Remove the folder {0} and the 1 key in it?', prefix) : vscode.l10n.t('Remove the folder {0} and the {1} keys in it?', prefix, n.toLocaleString()),
        { modal: true, detail: vscode.l10n.t('This cannot be undone.') },
        remove,
      );
      if (choice !== remove) {
        return 0;
      }
    }
    const removed = await reg.removePrefix(prefix);
    log.info(`Removed the folder ${prefix} (${removed} keys).`);
    return removed;
  });

  register(Commands.rename, async (...args: Args) => {
    const reg = await registry();
    const named = isRecord(args[0]) ? args[0] : undefined;
    const node = isNode(args[0]) ? args[0] : view.selection[0];
    let from = str(named?.from) ?? str(args[0]);
    let to = str(named?.to) ?? str(args[1]);
    const overwrite = (named?.overwrite ?? (isRecord(args[2]) ? args[2].overwrite : undefined)) === true;
    let isFolder = false;
    if (from === undefined && node instanceof FolderNode) {
      from = node.prefix;
      isFolder = true;
    } else if (from === undefined && node instanceof KeyNode) {
      from = node.key;
    }
    if (from === undefined) {
      from = await pickKey(reg, vscode.l10n.t('Rename / Move Key'));
      if (from === undefined) {
        return undefined;
      }
    }
    if (from.endsWith(sep()) && !(await reg.contains(from))) {
      isFolder = true;
    }
    if (to === undefined) {
      const leafStart = isFolder ? parentOf(from, sep(), true).length : parentOf(from, sep()).length;
      to = await vscode.window.showInputBox({
        title: isFolder ? vscode.l10n.t('Rename / Move Folder') : vscode.l10n.t('Rename / Move Key'),
        prompt: isFolder ? vscode.l10n.t('New folder path for {0}', from) : vscode.l10n.t('New key for {0}', from),
        value: from,
        valueSelection: [leafStart, isFolder ? from.length - sep().length : from.length],
        validateInput: validateKeyInput,
      });
      if (to === undefined || to === from) {
        return undefined;
      }
    }
    if (isFolder && !to.endsWith(sep())) {
      to += sep();
    }
    const interactive = !isProgrammatic(args);
    const attempt = (ow: boolean): Promise<number> =>
      isFolder ? reg.renamePrefix(from, to, { overwrite: ow }) : reg.rename(from, to, { overwrite: ow }).then(() => 1);
    try {
      const n = await attempt(overwrite);
      if (interactive && !isFolder) {
        void provider.reveal(to).catch(() => undefined);
      }
      return n;
    } catch (err) {
      if (interactive && RegistryError.is(err, 'ALREADY_EXISTS')) {
        const replace = vscode.l10n.t('Replace');
        const choice = await vscode.window.showWarningMessage(errorMessage(err), { modal: true }, replace);
        return choice === replace ? attempt(true) : undefined;
      }
      throw err;
    }
  });

  register(Commands.copyKey, async (...args: Args) => {
    const { keys, folders } = targetsOf(args, view);
    const text = [...folders, ...keys].join('\n');
    if (text === '') {
      return undefined;
    }
    await vscode.env.clipboard.writeText(text);
    return text;
  });

  register(Commands.copyValue, async (...args: Args) => {
    const reg = await registry();
    const { keys } = targetsOf(args, view);
    const key = keys[0] ?? (await pickKey(reg, vscode.l10n.t('Copy Value')));
    if (key === undefined) {
      return undefined;
    }
    const value = await reg.retrieve(key);
    if (value === undefined) {
      throw new RegistryError('NOT_FOUND', vscode.l10n.t('{0} does not exist (or has expired).', key));
    }
    await vscode.env.clipboard.writeText(value);
    return value;
  });

  register(Commands.openValue, async (...args: Args) => {
    const named = isRecord(args[0]) ? args[0] : undefined;
    const options = (isRecord(args[1]) ? args[1] : (named ?? {})) as { preview?: boolean };
    let key: string | undefined = str(named?.key) ?? str(args[0]) ?? targetsOf(args, view).keys[0];
    if (key === undefined) {
      key = await pickKey(await registry(), vscode.l10n.t('Open Value'));
      if (key === undefined) {
        return undefined;
      }
    }
    const editor = await openValue(key, { preview: options.preview });
    return editor.document.uri.toString();
  });

  register(Commands.setTtl, async (...args: Args) => {
    const reg = await registry();
    const named = isRecord(args[0]) ? args[0] : undefined;
    let key: string | undefined = str(named?.key) ?? str(args[0]) ?? targetsOf(args, view).keys[0];
    const given = named ? ('ttlMs' in named ? { ttl: named.ttlMs } : undefined) : args.length >= 2 && !isNode(args[0]) ? { ttl: args[1] } : undefined;
    if (given) {
      if (key === undefined) {
        throw new RegistryError('INVALID_KEY', vscode.l10n.t('Set TTL needs a key.'));
      }
      const ttl = given.ttl === null || given.ttl === 0 ? undefined : (given.ttl as number | undefined);
      await reg.setTtl(key, ttl);
      return true;
    }
    if (key === undefined) {
      key = await pickKey(reg, vscode.l10n.t('Set TTL'));
      if (key === undefined) {
        return undefined;
      }
    }
    const text = await vscode.window.showInputBox({
      title: vscode.l10n.t('Set TTL of {0}', key),
      prompt: vscode.l10n.t('Time to live: 30s, 5m, 2h, 1d (a plain number means seconds). Empty or 0: never expire.'),
      validateInput: (v) => (parseDuration(v) === 'invalid' ? vscode.l10n.t('Use a number with s, m, h or d, like 90s or 2h.') : undefined),
    });
    if (text === undefined) {
      return undefined;
    }
    const ttl = parseDuration(text) as number | undefined;
    await reg.setTtl(key, ttl);
    void vscode.window.setStatusBarMessage(ttl === undefined ? vscode.l10n.t('{0} never expires', key) : vscode.l10n.t('{0} expires in {1}', key, text.trim()), 3000);
    return true;
  });

  // ---- view --------------------------------------------------------------------------------
  register(Commands.filter, async (...args: Args) => {
    const named = isRecord(args[0]) ? args[0] : undefined;
    let prefix = str(named?.prefix) ?? str(args[0]);
    if (prefix === undefined) {
      prefix = await vscode.window.showInputBox({
        title: vscode.l10n.t('Search / Filter Keys'),
        prompt: vscode.l10n.t('Show only keys that start with this prefix (empty: show all)'),
        value: provider.filter ?? '',
      });
      if (prefix === undefined) {
        return undefined;
      }
    }
    provider.setFilter(prefix);
    return provider.filter;
  });
  register(Commands.clearFilter, () => provider.setFilter(undefined));
  register(Commands.refresh, async () => {
    provider.refresh();
    return true;
  });
  register(Commands.loadMore, async (...args: Args) => {
    const node = args[0] instanceof LoadMoreNode ? args[0] : new LoadMoreNode(str(args[0]) ?? '');
    await provider.loadMore(node);
  });

  // ---- import / export ---------------------------------------------------------------------
  register(Commands.importJson, async (...args: Args): Promise<ImportReport | undefined> => {
    const reg = await registry();
    const named = isRecord(args[0]) ? args[0] : undefined;
    let uri = asUri(named?.uri ?? named?.path ?? args[0]);
    const options: ImportOptions = { ...((named ?? (isRecord(args[1]) ? args[1] : {})) as ImportOptions) };
    if (args[0] instanceof FolderNode) {
      options.prefix = args[0].prefix;
    }
    const interactive = !isProgrammatic(args);
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Import keys from JSON'),
        canSelectMany: false,
        filters: { JSON: ['json'] },
        openLabel: vscode.l10n.t('Import'),
      });
      if (!picked || picked.length === 0) {
        return undefined;
      }
      uri = picked[0];
    }
    if (interactive && options.existing === undefined && (await reg.count()) > 0) {
      const overwrite = { label: vscode.l10n.t('Replace existing keys'), value: 'overwrite' as const };
      const skip = { label: vscode.l10n.t('Keep existing keys (skip them)'), value: 'skip' as const };
      const choice = await vscode.window.showQuickPick([overwrite, skip], { title: vscode.l10n.t('Keys in the file that exist already') });
      if (!choice) {
        return undefined;
      }
      options.existing = choice.value;
    }
    const bytes = await vscode.workspace.fs.readFile(uri);
    const source = uri.fsPath || uri.toString();
    const report = await withCancellableProgress(vscode.l10n.t('Importing keys from {0}', source), async (sink) =>
      importEntries(reg, await parseImport(new TextDecoder('utf-8').decode(bytes), source), options, sink),
    );
    if (interactive || report.skipped.length > 0 || report.cancelled) {
      void announce(
        report.cancelled
          ? vscode.l10n.t('Import cancelled: {0} of {1} keys stored before cancelling (they stay); {2} skipped.', report.stored.toLocaleString(), report.total.toLocaleString(), report.skipped.length.toLocaleString())
          : vscode.l10n.t('Imported {0} of {1} keys; {2} skipped.', report.stored.toLocaleString(), report.total.toLocaleString(), report.skipped.length.toLocaleString()),
        vscode.l10n.t('Import from {0}', uri.fsPath),
        report.skipped,
      );
    }
    return report;
  });

  register(Commands.exportJson, async (...args: Args): Promise<ExportReport | undefined> => {
    const reg = await registry();
    const named = isRecord(args[0]) ? args[0] : undefined;
    let uri = asUri(named?.uri ?? named?.path ?? args[0]);
    const options: ExportOptions = { ...((named ?? (isRecord(args[1]) ? args[1] : {})) as ExportOptions) };
    if (args[0] instanceof FolderNode) {
      options.prefix = args[0].prefix;
    }
    if (!uri) {
      const base = vscode.workspace.workspaceFolders?.[0]?.uri;
      uri = await vscode.window.showSaveDialog({
        title: vscode.l10n.t('Export keys to JSON'),
        filters: { JSON: ['json'] },
        defaultUri: base ? vscode.Uri.joinPath(base, 'registry-export.json') : undefined,
        saveLabel: vscode.l10n.t('Export'),
      });
      if (!uri) {
        return undefined;
      }
    }
    const target = uri;
    const { text, report } = await withCancellableProgress(vscode.l10n.t('Exporting keys'), (sink) => exportEntries(reg, options, sink));
    if (report.cancelled) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Export cancelled: nothing was written.'));
      return report;
    }
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
    if (!isProgrammatic(args) || report.skipped.length > 0) {
      void announce(vscode.l10n.t('Exported {0} keys to {1}; {2} skipped.', report.exported.toLocaleString(), target.fsPath, report.skipped.length.toLocaleString()), vscode.l10n.t('Export to {0}', target.fsPath), report.skipped);
    }
    return report;
  });

  // ---- backends and connections --------------------------------------------------------------
  register(Commands.switchBackend, async (...args: Args) => {
    const named = isRecord(args[0]) ? args[0] : undefined;
    let backend = str(named?.backend) ?? str(args[0]);
    const target = configTarget(named?.target ?? (isRecord(args[1]) ? args[1].target : undefined));
    if (backend === undefined) {
      const current = service.status.requested;
      const items: (vscode.QuickPickItem & { value: BackendSetting })[] = [
        { value: 'sqlite', label: '$(database) SQLite', description: vscode.l10n.t('per workspace, saved in the workspace storage folder') },
        { value: 'memory', label: '$(circuit-board) Memory', description: vscode.l10n.t('temporary, lost when the window closes') },
        { value: 'postgres', label: '$(server) PostgreSQL', description: vscode.workspace.getConfiguration(SECTION).get<string>(Setting.postgresUrl, Defaults.postgresUrl) },
        { value: 'redis', label: '$(server) Redis', description: vscode.workspace.getConfiguration(SECTION).get<string>(Setting.redisUrl, Defaults.redisUrl) },
      ];
      for (const i of items) {
        if (i.value === current) {
          i.detail = vscode.l10n.t('current');
        }
        if ((i.value === 'postgres' || i.value === 'redis') && serverBackendUnavailable(i.value)) {
          i.detail = vscode.l10n.t('needs VS Code Desktop or a Remote window');
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
    const unavailable = backend === 'postgres' || backend === 'redis' ? serverBackendUnavailable(backend === 'postgres' ? 'PostgreSQL' : 'Redis') : undefined;
    if (unavailable) {
      throw new RegistryError('UNSUPPORTED', unavailable);
    }
    await vscode.workspace.getConfiguration(SECTION).update(Setting.backend, backend, target);
    await service.ensureCurrent();
    return service.status.backend;
  });

  const connect = async (backend: ServerBackend, args: Args): Promise<boolean | undefined> => {
    const named = (isRecord(args[0]) ? args[0] : {}) as {
      url?: string;
      password?: string;
      schema?: string;
      table?: string;
      ssl?: boolean;
      keyPrefix?: string;
      target?: string;
    };
    const label = backend === 'postgres' ? 'PostgreSQL' : 'Redis';
    const unavailable = serverBackendUnavailable(label);
    if (unavailable) {
      throw new RegistryError('UNSUPPORTED', unavailable);
    }
    const urlSetting = backend === 'postgres' ? Setting.postgresUrl : Setting.redisUrl;
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const programmatic = isProgrammatic(args);
    let url = named.url;
    if (url === undefined) {
      url = await vscode.window.showInputBox({
        title: vscode.l10n.t('Connect to {0} (1/2)', label),
        prompt: backend === 'postgres' ? vscode.l10n.t('postgres://user@host:5432/database (leave the password out)') : vscode.l10n.t('redis://[user@]host:6379[/db] (leave the password out)'),
        value: cfg.get<string>(urlSetting, backend === 'postgres' ? Defaults.postgresUrl : Defaults.redisUrl),
        ignoreFocusOut: true,
        validateInput: (v) => {
          try {
            const u = new URL(v);
            const ok = backend === 'postgres' ? ['postgres:', 'postgresql:'].includes(u.protocol) : ['redis:', 'rediss:'].includes(u.protocol);
            return ok ? undefined : vscode.l10n.t('The URL must start with {0}', backend === 'postgres' ? 'postgres://' : 'redis://');
          } catch {
            return vscode.l10n.t('Not a URL');
          }
        },
      });
      if (url === undefined) {
        return undefined;
      }
    }
    const split = splitPassword(url);
    url = split.url;
    let password = named.password ?? split.password;
    if (password === undefined && !programmatic) {
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
      void vscode.window.showWarningMessage(
        vscode.l10n.t('Saved. This workspace is not trusted, so the extension keeps using the local registry until you trust it.'),
      );
      return false;
    }
    await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => service.ensureCurrent());
    if (!programmatic) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Connected to {0}: {1}', label, service.status.location ?? url));
    }
    return true;
  };
  register(Commands.connectPostgres, (...args: Args) => connect('postgres', args));
  register(Commands.connectRedis, (...args: Args) => connect('redis', args));

  register(Commands.forgetPassword, async (...args: Args) => {
    const named = isRecord(args[0]) ? args[0] : undefined;
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const urls: Record<ServerBackend, string> = {
      postgres: splitPassword(str(named?.url) ?? cfg.get<string>(Setting.postgresUrl, Defaults.postgresUrl)).url,
      redis: splitPassword(str(named?.url) ?? cfg.get<string>(Setting.redisUrl, Defaults.redisUrl)).url,
    };
    let backend = (str(named?.backend) ?? str(args[0])) as ServerBackend | undefined;
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
    if (!isProgrammatic(args)) {
      void vscode.window.showInformationMessage(had ? vscode.l10n.t('Forgot the password for {0}.', urls[backend]) : vscode.l10n.t('No password was saved for {0}.', urls[backend]));
    }
    return had;
  });

  register(Commands.reconnect, async () => {
    await vscode.window.withProgress({ location: { viewId: KEYS_VIEW_ID } }, () => service.reconnect());
    return service.status.state;
  });

  register(Commands.showLog, () => getChannel().show(true));
  register(Commands.openSettings, () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID}`));
}

/** A result message; with skipped keys, a Show Details action opens the list with the reasons. */
async function announce(message: string, title: string, skipped: readonly { key: string; reason: string }[]): Promise<void> {
  if (skipped.length === 0) {
    void vscode.window.showInformationMessage(message);
    return;
  }
  const details = vscode.l10n.t('Show Details');
  const choice = await vscode.window.showWarningMessage(message, details);
  if (choice === details) {
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: skippedText(title, skipped) });
    await vscode.window.showTextDocument(doc);
  }
}

/** A quick pick of keys with live prefix search (typing lists keys that start with the text). */
export async function pickKey(registry: RegistryStorage, title: string): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = title;
  qp.placeholder = vscode.l10n.t('Type a key or a prefix');
  qp.matchOnDescription = false;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const search = (text: string): void => {
    const mine = ++seq;
    qp.busy = true;
    registry.list({ prefix: text, limit: 200 }).then(
      (page) => {
        if (mine !== seq) {
          return;
        }
        const items: vscode.QuickPickItem[] = page.keys.map((k) => ({ label: k, alwaysShow: true }));
        if (text !== '' && !page.keys.includes(text)) {
          items.unshift({ label: text, description: vscode.l10n.t('use as typed'), alwaysShow: true });
        }
        if (page.next !== undefined) {
          items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: vscode.l10n.t('More keys: type more of the key…'), alwaysShow: true, detail: '' });
        }
        qp.items = items;
        qp.busy = false;
      },
      (err: unknown) => {
        qp.busy = false;
        qp.items = [{ label: errorMessage(err), alwaysShow: true }];
      },
    );
  };
  search('');
  return new Promise<string | undefined>((resolve) => {
    let done = false;
    qp.onDidChangeValue((v) => {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(() => search(v), 120);
    });
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0];
      const key = item && item.detail === undefined ? item.label : qp.value || undefined;
      done = true;
      resolve(key && key.length > 0 ? key : undefined);
      qp.hide();
    });
    qp.onDidHide(() => {
      if (timer) {
        clearTimeout(timer);
      }
      if (!done) {
        resolve(undefined);
      }
      qp.dispose();
    });
    qp.show();
  });
}
