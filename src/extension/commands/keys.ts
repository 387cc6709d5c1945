import * as vscode from 'vscode';
import { RegistryError, parentOf } from '../../registry';
import { errorMessage, logger } from '../log';
import { Commands } from '../settings';
import { confirmReplace, pickKey } from '../ui/prompts';
import { openValue } from '../valueFileSystem';
import { FolderNode, KeyNode } from '../view/treeNodes';
import type { CommandUnit, Invocation } from './base';
import { command } from './base';
import { isRecord, targetsOf } from './context';

const log = logger('commands');

const validateKeyInput = (value: string): string | undefined => (value.length === 0 ? vscode.l10n.t('A key must not be empty.') : undefined);

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

/** The clicked node (tree) or the first selected one (palette). */
function nodeOf(inv: Invocation): unknown {
  return inv.ctx.kind === 'tree' ? inv.ctx.node : inv.ctx.kind === 'palette' ? inv.ctx.selection[0] : undefined;
}

async function store(inv: Invocation): Promise<boolean | undefined> {
  const named = inv.named;
  let key = inv.text('key', 0);
  let value = inv.text('value', 1);
  const options = (named ?? (isRecord(inv.arg(2)) ? inv.arg(2) : undefined)) as { ttlMs?: number } | undefined;
  const reg = await inv.registry(vscode.l10n.t('Store Key: in which registry?'));
  if (key !== undefined && value !== undefined) {
    await reg.store(key, value, options?.ttlMs !== undefined ? { ttlMs: options.ttlMs } : undefined);
    return true;
  }
  const sep = inv.separator;
  const node = inv.ctx.kind === 'tree' ? inv.ctx.node : undefined;
  const folder = node instanceof FolderNode ? node.prefix : node instanceof KeyNode ? parentOf(node.key, sep) : '';
  key = await vscode.window.showInputBox({
    title: vscode.l10n.t('Store Key (1/2)'),
    prompt: vscode.l10n.t('Key (use "{0}" to make folders)', sep),
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
  const target = await inv.managed();
  void inv.env.provider.reveal(key, {}, target.name).catch(() => undefined);
  void vscode.window.setStatusBarMessage(vscode.l10n.t('Stored {0}', key), 3000);
  return true;
}

async function retrieve(inv: Invocation): Promise<string | undefined> {
  const node = nodeOf(inv);
  const reg = await inv.registry(vscode.l10n.t('Retrieve Key: from which registry?'));
  const given = inv.text('key', 0) ?? (inv.ctx.kind === 'tree' && node instanceof KeyNode ? node.key : undefined);
  if (given !== undefined && !inv.interactive) {
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
  const name = (await inv.managed()).name;
  void vscode.window.showInformationMessage(`${key} = ${shown}`, copy, open).then(async (choice) => {
    if (choice === copy) {
      await vscode.env.clipboard.writeText(value);
    } else if (choice === open) {
      await openValue(key, { registry: name });
    }
  });
  return value;
}

async function contains(inv: Invocation): Promise<boolean | undefined> {
  const reg = await inv.registry(vscode.l10n.t('Contains Key: in which registry?'));
  let key = inv.text('key', 0);
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
}

async function remove(inv: Invocation): Promise<number> {
  const reg = await inv.registry(vscode.l10n.t('Remove Key: from which registry?'));
  const { keys, folders } = targetsOf(inv.ctx);
  if (keys.length === 0 && folders.length === 0) {
    const key = await pickKey(reg, vscode.l10n.t('Remove Key'));
    if (key === undefined) {
      return 0;
    }
    keys.push(key);
  }
  if (inv.interactive) {
    let total = keys.length;
    for (const f of folders) {
      total += await reg.count(f);
    }
    const removeLabel = vscode.l10n.t('Remove');
    const what =
      keys.length === 1 && folders.length === 0
        ? vscode.l10n.t('Remove the key {0}?', keys[0])
        : folders.length === 0
          ? vscode.l10n.t('Remove {0} keys?', keys.length.toLocaleString())
          : vscode.l10n.t('Remove {0} keys (including {1} folders)?', total.toLocaleString(), folders.length);
    const choice = await vscode.window.showWarningMessage(what, { modal: true, detail: vscode.l10n.t('This cannot be undone.') }, removeLabel);
    if (choice !== removeLabel) {
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
}

async function removeFolder(inv: Invocation): Promise<number> {
  const reg = await inv.registry(vscode.l10n.t('Remove Folder: from which registry?'));
  const node = inv.ctx.kind === 'tree' ? inv.ctx.node : undefined;
  let prefix = node instanceof FolderNode ? node.prefix : inv.text('prefix', 0);
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
  const sep = inv.separator;
  if (!prefix.endsWith(sep)) {
    prefix += sep;
  }
  if (inv.interactive) {
    const n = await reg.count(prefix);
    if (n === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The folder {0} holds no keys.', prefix));
      return 0;
    }
    const removeLabel = n === 1 ? vscode.l10n.t('Remove 1 Key') : vscode.l10n.t('Remove {0} Keys', n.toLocaleString());
    const choice = await vscode.window.showWarningMessage(
      n === 1 ? vscode.l10n.t('Remove the folder {0} and the 1 key in it?', prefix) : vscode.l10n.t('Remove the folder {0} and the {1} keys in it?', prefix, n.toLocaleString()),
      { modal: true, detail: vscode.l10n.t('This cannot be undone.') },
      removeLabel,
    );
    if (choice !== removeLabel) {
      return 0;
    }
  }
  const removed = await reg.removePrefix(prefix);
  log.info(`Removed the folder ${prefix} (${removed} keys).`);
  return removed;
}

async function rename(inv: Invocation): Promise<number | undefined> {
  const reg = await inv.registry(vscode.l10n.t('Rename: in which registry?'));
  const sep = inv.separator;
  const node = nodeOf(inv);
  let from = inv.text('from', 0);
  let to = inv.text('to', 1);
  const third = inv.arg(2);
  const overwrite = (inv.named?.overwrite ?? (isRecord(third) ? third.overwrite : undefined)) === true;
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
  if (from.endsWith(sep) && !(await reg.contains(from))) {
    isFolder = true;
  }
  if (to === undefined) {
    const leafStart = isFolder ? parentOf(from, sep, true).length : parentOf(from, sep).length;
    to = await vscode.window.showInputBox({
      title: isFolder ? vscode.l10n.t('Rename / Move Folder') : vscode.l10n.t('Rename / Move Key'),
      prompt: isFolder ? vscode.l10n.t('New folder path for {0}', from) : vscode.l10n.t('New key for {0}', from),
      value: from,
      valueSelection: [leafStart, isFolder ? from.length - sep.length : from.length],
      validateInput: validateKeyInput,
    });
    if (to === undefined || to === from) {
      return undefined;
    }
  }
  if (isFolder && !to.endsWith(sep)) {
    to += sep;
  }
  const source = from;
  const target = to;
  const attempt = (ow: boolean): Promise<number> =>
    isFolder ? reg.renamePrefix(source, target, { overwrite: ow }) : reg.rename(source, target, { overwrite: ow }).then(() => 1);
  try {
    const n = await attempt(overwrite);
    if (inv.interactive && !isFolder) {
      void inv.env.provider.reveal(target, {}, (await inv.managed()).name).catch(() => undefined);
    }
    return n;
  } catch (err) {
    if (inv.interactive && RegistryError.is(err, 'ALREADY_EXISTS')) {
      return (await confirmReplace(errorMessage(err))) ? attempt(true) : undefined;
    }
    throw err;
  }
}

async function copyKey(inv: Invocation): Promise<string | undefined> {
  const { keys, folders } = targetsOf(inv.ctx);
  const text = [...folders, ...keys].join('\n');
  if (text === '') {
    return undefined;
  }
  await vscode.env.clipboard.writeText(text);
  return text;
}

async function copyValue(inv: Invocation): Promise<string | undefined> {
  const reg = await inv.registry(vscode.l10n.t('Copy Value: from which registry?'));
  const { keys } = targetsOf(inv.ctx);
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
}

async function openValueCommand(inv: Invocation): Promise<string | undefined> {
  const ctx = inv.ctx;
  const second = ctx.kind === 'tree' ? ctx.rest[0] : inv.arg(1);
  const options = (isRecord(second) ? second : (inv.named ?? {})) as { preview?: boolean };
  let key: string | undefined = inv.text('key', 0) ?? targetsOf(ctx).keys[0];
  const target = await inv.managed(vscode.l10n.t('Open Value: from which registry?'));
  if (key === undefined) {
    key = await pickKey(await target.ensureCurrent(), vscode.l10n.t('Open Value'));
    if (key === undefined) {
      return undefined;
    }
  }
  const editor = await openValue(key, { preview: options.preview, registry: target.name });
  return editor.document.uri.toString();
}

async function setTtl(inv: Invocation): Promise<boolean | undefined> {
  const reg = await inv.registry(vscode.l10n.t('Set TTL: in which registry?'));
  const named = inv.named;
  let key: string | undefined = inv.text('key', 0) ?? targetsOf(inv.ctx).keys[0];
  const given = named ? ('ttlMs' in named ? { ttl: named.ttlMs } : undefined) : inv.ctx.kind === 'args' && inv.ctx.positional.length >= 2 ? { ttl: inv.arg(1) } : undefined;
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
}

/** Commands on keys and folders. */
export const keyCommands: readonly CommandUnit[] = [
  command(Commands.store, store),
  command(Commands.storeInFolder, store),
  command(Commands.retrieve, retrieve),
  command(Commands.contains, contains),
  command(Commands.remove, remove),
  command(Commands.removeFolder, removeFolder),
  command(Commands.rename, rename),
  command(Commands.copyKey, copyKey),
  command(Commands.copyValue, copyValue),
  command(Commands.openValue, openValueCommand),
  command(Commands.setTtl, setTtl),
];
