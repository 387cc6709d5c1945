import * as vscode from 'vscode';
import { RegistryError, parentOf } from '../../registry';
import { logger } from '../log';
import type { ManagedRegistry } from '../registries/managedRegistry';
import { Commands, WORKSPACE_REGISTRY } from '../settings';
import type { TransferItem, TransferReport } from '../transfer/transfer';
import { summarize, transfer } from '../transfer/transfer';
import { announce, askConflict, pickRegistry } from '../ui/prompts';
import { FolderNode, KeyNode, RegistryNode } from '../view/treeNodes';
import type { CommandEnv, CommandUnit, Invocation } from './base';
import { Cancelled, command } from './base';
import { nodesOf, str } from './context';

const log = logger('transfer');

type Policy = 'replace' | 'skip' | 'ask';

function displayName(r: ManagedRegistry): string {
  return r.name === WORKSPACE_REGISTRY ? vscode.l10n.t('the workspace registry') : r.name;
}

/** Asks how to handle keys that exist in the target. */
export async function pickPolicy(targetName: string): Promise<Policy | undefined> {
  const items: (vscode.QuickPickItem & { policy: Policy })[] = [
    { policy: 'ask', label: vscode.l10n.t('Ask for each existing key'), detail: vscode.l10n.t('Replace, Skip, or the same for all the rest') },
    { policy: 'skip', label: vscode.l10n.t('Skip existing keys'), detail: vscode.l10n.t('Keys that exist in {0} stay as they are', targetName) },
    { policy: 'replace', label: vscode.l10n.t('Replace existing keys'), detail: vscode.l10n.t('Keys that exist in {0} get the copied value and TTL', targetName) },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Keys that exist in {0} already', targetName), ignoreFocusOut: true });
  return pick?.policy;
}

/**
 * Copies or moves items between registries with progress and Cancel, then reports what was copied,
 * skipped and why, and where it stopped. Shared by the commands and drag and drop.
 */
export async function runTransfer(
  env: CommandEnv,
  source: ManagedRegistry,
  target: ManagedRegistry,
  items: readonly TransferItem[],
  targetFolder: string,
  options: { move: boolean; policy: Policy; interactive: boolean; token?: vscode.CancellationToken },
): Promise<TransferReport> {
  const from = await source.ensureCurrent();
  const to = await target.ensureCurrent();
  if (to.describe().readOnly) {
    throw new RegistryError('LOCKED', vscode.l10n.t('{0} is read-only: nothing can be copied into it.', displayName(target)));
  }
  const separator = env.provider.separator;
  let forAll: 'replace' | 'skip' | undefined;
  const title = options.move
    ? vscode.l10n.t('Moving keys from {0} to {1}', displayName(source), displayName(target))
    : vscode.l10n.t('Copying keys from {0} to {1}', displayName(source), displayName(target));
  const work = (progress?: vscode.Progress<{ message?: string; increment?: number }>, token?: vscode.CancellationToken): Promise<TransferReport> => {
    let last = 0;
    return transfer(from, to, items, {
      targetFolder,
      separator,
      move: options.move,
      conflict: options.policy,
      isCancelled: () => token?.isCancellationRequested === true,
      ask: async (key, remaining) => {
        if (forAll) {
          return forAll;
        }
        const answer = await askConflict(key, displayName(target), remaining);
        if (!answer) {
          return 'cancel';
        }
        if (answer.forAll) {
          forAll = answer.action;
        }
        return answer.action;
      },
      onProgress: (done, total) => {
        if (progress && total) {
          const pct = (done / total) * 100;
          progress.report({ increment: pct - last, message: vscode.l10n.t('{0} of {1} keys', done.toLocaleString(), total.toLocaleString()) });
          last = pct;
        }
      },
    });
  };
  const report = options.interactive
    ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => work(progress, token))
    : await work(undefined, options.token);
  const line = summarize(report, options.move, displayName(target));
  log.info(`${line}${report.notes.length ? ' ' + report.notes.join(' ') : ''}`);
  if (report.failed) {
    // A server that went away shows on its root (the source's own health watch covers a failing source).
    if (report.failed.code === 'UNAVAILABLE' && !['sqlite', 'memory'].includes(to.describe().backend)) {
      target.reportError(new RegistryError('UNAVAILABLE', report.failed.error), to);
    }
  }
  if (options.interactive) {
    const details = [...report.skipped, ...(report.failed ? [{ key: report.failed.stoppedAt, reason: vscode.l10n.t('not transferred: {0} (the transfer stopped here)', report.failed.error) }] : [])];
    const message = [line, ...report.notes].join(' ');
    if (report.failed) {
      void announce(message, title, details.length > 0 ? details : [{ key: report.failed.stoppedAt, reason: report.failed.error }]);
    } else {
      void announce(message, title, details);
    }
    if (report.copied > 0) {
      void env.provider.revealRegistry(target.name);
    }
  }
  return report;
}

/** The items of an invocation: clicked or selected nodes of one registry, or `{ keys, folders }` from code. */
function itemsOf(inv: Invocation): { source: string | undefined; items: TransferItem[] } {
  if (inv.ctx.kind === 'args') {
    const named = inv.named ?? {};
    const list = (x: unknown): string[] => (Array.isArray(x) ? x.filter((k): k is string => typeof k === 'string') : typeof x === 'string' ? [x] : []);
    const items: TransferItem[] = [
      ...list(named.keys ?? named.key ?? inv.arg(0)).map((key) => ({ kind: 'key' as const, key })),
      ...list(named.folders ?? named.prefix).map((key) => ({ kind: 'folder' as const, key: key === '' || key.endsWith(inv.separator) ? key : key + inv.separator })),
    ];
    return { source: inv.ctx.registry, items };
  }
  const nodes = nodesOf(inv.ctx);
  const source = nodes[0]?.registry;
  const items: TransferItem[] = [];
  for (const n of nodes.filter((x) => x.registry === source)) {
    if (n instanceof KeyNode) {
      items.push({ kind: 'key', key: n.key });
    } else if (n instanceof FolderNode) {
      items.push({ kind: 'folder', key: n.prefix });
    } else if (n instanceof RegistryNode) {
      items.push({ kind: 'folder', key: '' });
    }
  }
  return { source, items };
}

async function copyOrMove(inv: Invocation, move: boolean): Promise<TransferReport | undefined> {
  const { service, recent } = inv.env;
  const { source: sourceName, items } = itemsOf(inv);
  if (items.length === 0) {
    if (inv.interactive) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Select keys or folders in the Keys view first.'));
      return undefined;
    }
    throw new RegistryError('INVALID_KEY', vscode.l10n.t('Name the keys or folders: {0}', '{ keys: [...], folders: [...], to: "<registry>" }'));
  }
  const source = service.get(sourceName);
  inv.target = source;
  const sep = inv.separator;
  let target: ManagedRegistry | undefined;
  const toName = str(inv.named?.to);
  if (toName !== undefined) {
    target = service.get(toName);
  } else if (!inv.interactive) {
    throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('Name the target registry: {0}', '{ to: "<registry>" }'));
  } else {
    const what = items.length === 1 ? (items[0].key === '' ? displayName(source) : items[0].key) : vscode.l10n.t('{0} items', items.length);
    target = await pickRegistry(service.registries, recent, move ? vscode.l10n.t('Move {0} to which registry?', what) : vscode.l10n.t('Copy {0} to which registry?', what), {
      exclude: source.name,
    });
    if (!target) {
      throw new Cancelled();
    }
  }
  const first = items[0];
  // By default keys keep their paths: they go into the folder that holds them in the source.
  const defaultFolder = first.key === '' ? '' : first.kind === 'folder' ? parentOf(first.key, sep, true) : parentOf(first.key, sep);
  let folder = str(inv.named?.folder);
  if (folder === undefined && inv.interactive) {
    folder = await vscode.window.showInputBox({
      title: move ? vscode.l10n.t('Move to {0}: folder', displayName(target)) : vscode.l10n.t('Copy to {0}: folder', displayName(target)),
      prompt: vscode.l10n.t('Folder of {0} to put them in (empty: the top level). The default keeps their paths.', displayName(target)),
      value: defaultFolder,
      ignoreFocusOut: true,
    });
    if (folder === undefined) {
      throw new Cancelled();
    }
  }
  folder ??= defaultFolder;
  if (folder !== '' && !folder.endsWith(sep)) {
    folder += sep;
  }
  let policy = str(inv.named?.conflict) as Policy | undefined;
  if (policy === undefined && inv.interactive) {
    policy = await pickPolicy(displayName(target));
    if (!policy) {
      throw new Cancelled();
    }
  }
  policy ??= 'skip';
  if (!['replace', 'skip', 'ask'].includes(policy) || (policy === 'ask' && !inv.interactive)) {
    throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('conflict must be "replace" or "skip".'));
  }
  await recent.use(target.name);
  // From code, a CancellationToken in `token` cancels between batches.
  const token = inv.named?.token as vscode.CancellationToken | undefined;
  return runTransfer(inv.env, source, target, items, folder, { move, policy, interactive: inv.interactive, token });
}

/** Copy / Move to Registry…: keys, folders or a whole registry into another registry. */
export const transferCommands: readonly CommandUnit[] = [
  command(Commands.copyToRegistry, (inv) => copyOrMove(inv, false)),
  command(Commands.moveToRegistry, (inv) => copyOrMove(inv, true)),
];
