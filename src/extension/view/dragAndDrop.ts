import * as vscode from 'vscode';
import { RegistryError, leafName, parentOf } from '../../registry';
import { errorMessage, logger } from '../log';
import type { RegistryService } from '../registryService';
import { WORKSPACE_REGISTRY } from '../settings';
import type { CommandEnv } from '../commands/base';
import { pickPolicy, runTransfer } from '../commands/transfer';
import type { TransferReport } from '../transfer/transfer';
import { confirmReplace } from '../ui/prompts';
import type { KeysTreeProvider } from './keysTreeProvider';
import { FolderNode, KeyNode } from './treeNodes';
import type { TreeNode } from './treeNodes';

const log = logger('dnd');
export const KEYS_MIME = 'application/vnd.code.tree.nautilusregistry.keys';

interface Dragged {
  kind: 'folder' | 'key';
  key: string;
  /** The registry it was dragged from (the workspace registry when absent). */
  registry?: string;
}

export interface MovePlan {
  kind: 'folder' | 'key';
  from: string;
  to: string;
}

/**
 * Where dropping `items` onto folder `target` ('' = top level) moves them. Items already in the
 * target and folders dropped into themselves are left out.
 */
export function planMove(items: readonly Dragged[], target: string, separator: string): MovePlan[] {
  const plans: MovePlan[] = [];
  // A folder moves everything below it: drop items that are inside another dragged folder.
  const folders = items.filter((i) => i.kind === 'folder').map((i) => i.key);
  for (const item of items) {
    if (folders.some((f) => f !== item.key && item.key.startsWith(f))) {
      continue;
    }
    if (item.kind === 'folder') {
      if (target.startsWith(item.key) || parentOf(item.key, separator, true) === target) {
        continue;
      }
      plans.push({ kind: 'folder', from: item.key, to: target + leafName(item.key, separator, true) + separator });
    } else {
      if (parentOf(item.key, separator) === target) {
        continue;
      }
      plans.push({ kind: 'key', from: item.key, to: target + leafName(item.key, separator) });
    }
  }
  return plans;
}

/** Drag keys and folders onto a folder (or a key, meaning its folder, or empty space, the top level) to move them. */
export class KeysDragAndDrop implements vscode.TreeDragAndDropController<TreeNode> {
  readonly dragMimeTypes = [KEYS_MIME];
  readonly dropMimeTypes = [KEYS_MIME];
  /** Set once the commands exist: dropping onto another registry copies or moves through them. */
  env: CommandEnv | undefined;

  constructor(
    private readonly service: RegistryService,
    private readonly provider: KeysTreeProvider,
  ) {}

  handleDrag(source: readonly TreeNode[], data: vscode.DataTransfer): void {
    const items: Dragged[] = [];
    for (const n of source) {
      if (n instanceof FolderNode) {
        items.push({ kind: 'folder', key: n.prefix, registry: n.registry });
      } else if (n instanceof KeyNode) {
        items.push({ kind: 'key', key: n.key, registry: n.registry });
      }
    }
    if (items.length > 0) {
      data.set(KEYS_MIME, new vscode.DataTransferItem(items));
    }
  }

  async handleDrop(target: TreeNode | undefined, data: vscode.DataTransfer, token: vscode.CancellationToken): Promise<void> {
    const raw = data.get(KEYS_MIME)?.value as unknown;
    let items: Dragged[] | undefined;
    if (Array.isArray(raw)) {
      items = raw as Dragged[];
    } else if (typeof raw === 'string') {
      try {
        items = JSON.parse(raw) as Dragged[];
      } catch {
        items = undefined;
      }
    }
    if (!items || items.length === 0) {
      return;
    }
    const sep = this.provider.separator;
    const folder =
      target instanceof FolderNode ? target.prefix : target instanceof KeyNode ? parentOf(target.key, sep) : '';
    const registry = target?.registry ?? WORKSPACE_REGISTRY;
    const same = items.filter((i) => (i.registry ?? WORKSPACE_REGISTRY) === registry);
    const other = items.filter((i) => (i.registry ?? WORKSPACE_REGISTRY) !== registry);
    if (same.length > 0) {
      await moveItems(this.service, same, folder, sep, token, undefined, registry);
    }
    if (other.length > 0) {
      await this.dropAcross(other, registry, folder);
    }
  }

  /**
   * Keys dragged from another registry: the user chooses Copy or Move and what to do with keys that
   * exist, then they go in batches with progress (see runTransfer). `choices` answers the questions
   * (for calls from code and tests).
   */
  async dropAcross(
    items: readonly Dragged[],
    targetRegistry: string,
    folder: string,
    choices?: { move: boolean; policy: 'replace' | 'skip' | 'ask' },
  ): Promise<TransferReport | undefined> {
    const env = this.env;
    if (!env || items.length === 0) {
      return undefined;
    }
    const sourceName = items[0].registry ?? WORKSPACE_REGISTRY;
    const source = this.service.get(sourceName);
    const target = this.service.get(targetRegistry);
    const fromSource = items.filter((i) => (i.registry ?? WORKSPACE_REGISTRY) === sourceName);
    let move = choices?.move;
    if (move === undefined) {
      const where = folder === '' ? target.name : `${target.name}: ${folder}`;
      const copy = { label: vscode.l10n.t('$(copy) Copy here'), detail: vscode.l10n.t('The keys stay in {0} too', source.name), move: false };
      const moveItem = { label: vscode.l10n.t('$(arrow-right) Move here'), detail: vscode.l10n.t('Each key leaves {0} once {1} holds it', source.name, target.name), move: true };
      const pick = await vscode.window.showQuickPick([copy, moveItem], {
        title: vscode.l10n.t('Drop {0} into {1}', fromSource.length === 1 ? fromSource[0].key : vscode.l10n.t('{0} items', fromSource.length), where),
        ignoreFocusOut: true,
      });
      if (!pick) {
        return undefined;
      }
      move = pick.move;
    }
    const policy = choices?.policy ?? (await pickPolicy(target.name));
    if (!policy) {
      return undefined;
    }
    try {
      return await runTransfer(
        env,
        source,
        target,
        fromSource.map((i) => ({ kind: i.kind, key: i.key })),
        folder,
        { move, policy, interactive: choices === undefined },
      );
    } catch (err) {
      log.error('The drop failed', err);
      if (choices) {
        throw err;
      }
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not copy into {0}: {1}', target.name, errorMessage(err)));
      return undefined;
    }
  }
}

/** Moves keys and folders into `folder`; asks once before overwriting. Returns how many keys moved. */
export async function moveItems(
  service: RegistryService,
  items: readonly Dragged[],
  folder: string,
  separator: string,
  token?: vscode.CancellationToken,
  overwrite?: boolean,
  registryName: string = WORKSPACE_REGISTRY,
): Promise<number> {
  const plans = planMove(items, folder, separator);
  if (plans.length === 0) {
    return 0;
  }
  const managed = service.get(registryName);
  const registry = await managed.getRegistry();
  let moved = 0;
  let allowOverwrite = overwrite;
  for (const plan of plans) {
    if (token?.isCancellationRequested) {
      break;
    }
    try {
      moved += await movePlan(plan, allowOverwrite === true);
    } catch (err) {
      if (RegistryError.is(err, 'ALREADY_EXISTS') && allowOverwrite === undefined) {
        if (!(await confirmReplace(vscode.l10n.t('{0} already exists in the target folder. Replace it?', plan.to), errorMessage(err)))) {
          allowOverwrite = false;
          continue;
        }
        allowOverwrite = true;
        moved += await movePlan(plan, true);
      } else if (RegistryError.is(err, 'ALREADY_EXISTS')) {
        continue;
      } else {
        managed.reportError(err, registry);
        log.error(`Moving ${plan.from} to ${plan.to} failed`, err);
        void vscode.window.showErrorMessage(vscode.l10n.t('Could not move {0}: {1}', plan.from, errorMessage(err)));
        break;
      }
    }
  }
  log.info(`Moved ${moved} key(s) into ${folder === '' ? 'the top level' : folder}.`);
  return moved;

  async function movePlan(plan: MovePlan, ow: boolean): Promise<number> {
    if (plan.kind === 'folder') {
      return registry.renamePrefix(plan.from, plan.to, { overwrite: ow });
    }
    await registry.rename(plan.from, plan.to, { overwrite: ow });
    return 1;
  }
}
