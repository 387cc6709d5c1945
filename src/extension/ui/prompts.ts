import * as vscode from 'vscode';
import type { RegistryStorage } from '../../registry';
import { errorMessage } from '../log';
import type { ManagedRegistry } from '../registries/managedRegistry';
import { skippedText } from '../importExport';

/** The prompts several commands share: one place each. */

/** Asks before replacing what exists. True: replace. */
export async function confirmReplace(message: string, detail?: string): Promise<boolean> {
  const replace = vscode.l10n.t('Replace');
  const choice = await vscode.window.showWarningMessage(message, { modal: true, ...(detail ? { detail } : {}) }, replace);
  return choice === replace;
}

/** What to do with a key that exists on the other side; `forAll` answers the rest of the batch too. */
export type ConflictAnswer = { action: 'replace' | 'skip'; forAll: boolean } | undefined;

/** Asks what to do with one existing key (Replace, Skip, and both "for all"); undefined: cancel. */
export async function askConflict(key: string, where: string, remaining: number): Promise<ConflictAnswer> {
  const replace = vscode.l10n.t('Replace');
  const skip = vscode.l10n.t('Skip');
  const replaceAll = vscode.l10n.t('Replace All');
  const skipAll = vscode.l10n.t('Skip All');
  const buttons = remaining > 1 ? [replace, skip, replaceAll, skipAll] : [replace, skip];
  const choice = await vscode.window.showWarningMessage(vscode.l10n.t('{0} already exists in {1}.', key, where), { modal: true }, ...buttons);
  switch (choice) {
    case replace:
      return { action: 'replace', forAll: false };
    case skip:
      return { action: 'skip', forAll: false };
    case replaceAll:
      return { action: 'replace', forAll: true };
    case skipAll:
      return { action: 'skip', forAll: true };
    default:
      return undefined;
  }
}

/** A result message; with skipped keys, a Show Details action opens the list with the reasons. */
export async function announce(message: string, title: string, skipped: readonly { key: string; reason: string }[]): Promise<void> {
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

/** Remembers the registries the user picked, most recent first (per workspace). */
export class RecentRegistries {
  private static readonly KEY = 'nautilusRegistry.recentRegistries';
  constructor(private readonly memento: vscode.Memento) {}

  get(): string[] {
    const v = this.memento.get<unknown>(RecentRegistries.KEY);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  async use(name: string): Promise<void> {
    await this.memento.update(RecentRegistries.KEY, [name, ...this.get().filter((n) => n !== name)].slice(0, 20));
  }

  /** `registries` ordered with the most recently used first; the rest keep their order. */
  order<T extends { name: string }>(registries: readonly T[]): T[] {
    const recent = this.get();
    const rank = (r: T): number => {
      const i = recent.indexOf(r.name);
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    return [...registries].map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
  }
}

/** A quick pick of registries, the last used first. Only one registry: it, without asking. */
export async function pickRegistry(
  registries: readonly ManagedRegistry[],
  recent: RecentRegistries,
  title: string,
  options: { exclude?: string; describe?: (r: ManagedRegistry) => string | undefined } = {},
): Promise<ManagedRegistry | undefined> {
  const candidates = registries.filter((r) => r.name !== options.exclude);
  if (candidates.length <= 1 && options.exclude === undefined) {
    return candidates[0];
  }
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('There is no other registry. Add a connection first.'));
    return undefined;
  }
  const items = recent.order(candidates).map((r) => ({
    label: r.name,
    description: options.describe?.(r) ?? r.status.backend,
    detail: r.status.location,
    registry: r,
  }));
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder: vscode.l10n.t('Which registry?') });
  if (pick) {
    await recent.use(pick.registry.name);
  }
  return pick?.registry;
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
