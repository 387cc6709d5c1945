import * as vscode from 'vscode';
import { RegistryError } from '../../registry';
import type { ComparePage } from '../compare/compare';
import { Commands, WORKSPACE_REGISTRY } from '../settings';
import { pickRegistry } from '../ui/prompts';
import { keyUri, openValue } from '../valueFileSystem';
import { COMPARE_VIEW_ID, DiffNode } from '../view/compareTreeProvider';
import { FolderNode, RegistryNode } from '../view/treeNodes';
import type { CommandUnit, Invocation } from './base';
import { Cancelled, command } from './base';
import { str } from './context';

/**
 * Compare with…: the clicked folder (or registry) against a folder of any registry. From code:
 * `({ registry?, prefix, to?, toPrefix? })` → the first page `{ entries, next }` (also shown in the view).
 */
async function compareWith(inv: Invocation): Promise<ComparePage | undefined> {
  const { service, recent } = inv.env;
  const sep = inv.separator;
  const norm = (p: string): string => (p === '' || p.endsWith(sep) ? p : p + sep);
  let leftName: string | undefined;
  let leftPrefix: string | undefined;
  const ctx = inv.ctx;
  if (ctx.kind === 'tree') {
    leftName = ctx.registry;
    leftPrefix = ctx.node instanceof FolderNode ? ctx.node.prefix : ctx.node instanceof RegistryNode ? '' : undefined;
  } else if (ctx.kind === 'args') {
    leftName = ctx.registry;
    leftPrefix = inv.text('prefix', 0);
  } else {
    const node = ctx.selection[0];
    leftName = node?.registry;
    leftPrefix = node instanceof FolderNode ? node.prefix : node instanceof RegistryNode ? '' : undefined;
  }
  const left = service.get(leftName);
  inv.target = left;
  if (leftPrefix === undefined) {
    if (!inv.interactive) {
      throw new RegistryError('INVALID_KEY', vscode.l10n.t('Compare needs a folder: {0}', '{ prefix: "team/", to: "<registry>", toPrefix?: "…" }'));
    }
    leftPrefix = await vscode.window.showInputBox({ title: vscode.l10n.t('Compare: folder of {0}', left.name), prompt: vscode.l10n.t('Folder to compare (empty: the whole registry)'), value: '' });
    if (leftPrefix === undefined) {
      throw new Cancelled();
    }
  }
  leftPrefix = norm(leftPrefix);
  let right = str(inv.named?.to) !== undefined ? service.get(str(inv.named?.to)) : undefined;
  if (!right) {
    if (!inv.interactive) {
      right = left;
    } else {
      right = await pickRegistry(service.registries, recent, vscode.l10n.t('Compare {0} with a folder of which registry?', leftPrefix || left.name), {});
      if (!right) {
        throw new Cancelled();
      }
    }
  }
  let rightPrefix = str(inv.named?.toPrefix);
  if (rightPrefix === undefined) {
    if (!inv.interactive) {
      rightPrefix = leftPrefix;
    } else {
      rightPrefix = await vscode.window.showInputBox({
        title: vscode.l10n.t('Compare with: folder of {0}', right.name === WORKSPACE_REGISTRY ? vscode.l10n.t('the workspace registry') : right.name),
        prompt: vscode.l10n.t('Folder to compare {0} with (empty: the whole registry)', leftPrefix || left.name),
        value: leftPrefix,
        ignoreFocusOut: true,
      });
      if (rightPrefix === undefined) {
        throw new Cancelled();
      }
    }
  }
  rightPrefix = norm(rightPrefix);
  if (right === left && rightPrefix === leftPrefix) {
    throw new RegistryError('INVALID_KEY', vscode.l10n.t('That is the same folder: pick another folder or another registry.'));
  }
  await recent.use(right.name);
  const page = await inv.env.compare.start({ registry: left, prefix: leftPrefix }, { registry: right, prefix: rightPrefix });
  if (inv.interactive) {
    await vscode.commands.executeCommand(`${COMPARE_VIEW_ID}.focus`);
  }
  return page;
}

/** Opens a difference: the diff editor for a key on both sides, the value for a key on one side. */
async function openDiff(inv: Invocation): Promise<string | undefined> {
  const node = inv.ctx.kind === 'args' ? inv.arg(0) : undefined;
  const diff = node instanceof DiffNode ? node : undefined;
  if (!diff) {
    return undefined;
  }
  const { entry, left, right } = diff;
  const leftKey = left.prefix + entry.rel;
  const rightKey = right.prefix + entry.rel;
  if (entry.kind === 'left') {
    return (await openValue(leftKey, { registry: left.registry.name, preview: true })).document.uri.toString();
  }
  if (entry.kind === 'right') {
    return (await openValue(rightKey, { registry: right.registry.name, preview: true })).document.uri.toString();
  }
  const l = keyUri(leftKey, left.registry.name);
  const r = keyUri(rightKey, right.registry.name);
  const name = (n: string): string => (n === WORKSPACE_REGISTRY ? vscode.l10n.t('Workspace') : n);
  await vscode.commands.executeCommand('vscode.diff', l, r, `${entry.rel} (${name(left.registry.name)} ↔ ${name(right.registry.name)})`, { preview: true });
  return r.toString();
}

/** Compare with… and the Comparison view's commands. */
export const compareCommands: readonly CommandUnit[] = [
  command(Commands.compareWith, compareWith),
  command(Commands.compareLoadMore, (inv) => inv.env.compare.loadMore()),
  command(Commands.openDiff, openDiff),
  command(Commands.closeComparison, (inv) => inv.env.compare.close()),
];
