import * as vscode from 'vscode';
import { Commands } from '../settings';
import { LoadMoreNode } from '../view/treeNodes';
import type { CommandUnit, Invocation } from './base';
import { command } from './base';
import { str } from './context';

async function filter(inv: Invocation): Promise<string | undefined> {
  const { provider } = inv.env;
  let prefix = inv.text('prefix', 0);
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
}

async function loadMore(inv: Invocation): Promise<void> {
  const ctx = inv.ctx;
  const node =
    ctx.kind === 'tree' && ctx.node instanceof LoadMoreNode
      ? ctx.node
      : new LoadMoreNode(str(inv.named?.folder) ?? inv.text('parentKey', 0) ?? '', (await inv.managed()).name);
  await inv.env.provider.loadMore(node);
}

/** Commands on the view itself. */
export const viewCommands: readonly CommandUnit[] = [
  command(Commands.filter, filter),
  command(Commands.clearFilter, (inv) => inv.env.provider.setFilter(undefined)),
  command(Commands.refresh, (inv) => {
    inv.env.provider.refresh();
    return true;
  }),
  command(Commands.loadMore, loadMore),
];
