import * as vscode from 'vscode';
import type { ExportOptions, ExportReport, ImportOptions, ImportReport } from '../importExport';
import { exportEntries, importEntries, parseImport, withCancellableProgress } from '../importExport';
import { Commands } from '../settings';
import { announce } from '../ui/prompts';
import { FolderNode } from '../view/treeNodes';
import type { CommandUnit, Invocation } from './base';
import { command } from './base';
import { isRecord } from './context';

function asUri(x: unknown): vscode.Uri | undefined {
  if (x instanceof vscode.Uri) {
    return x;
  }
  if (typeof x === 'string' && x.length > 0) {
    return /^[a-z][a-z0-9+.-]+:/i.test(x) && !/^[a-z]:[\\/]/i.test(x) ? vscode.Uri.parse(x) : vscode.Uri.file(x);
  }
  return undefined;
}

/** The options of a call from code: the named fields, or the second argument; `registry` is not one of them. */
function optionsOf<T>(inv: Invocation): T {
  const second = inv.arg(1);
  const { registry: _registry, ...rest } = (inv.named ?? (isRecord(second) ? second : {})) as Record<string, unknown>;
  return rest as T;
}

async function importJson(inv: Invocation): Promise<ImportReport | undefined> {
  const reg = await inv.registry(vscode.l10n.t('Import: into which registry?'));
  const named = inv.named;
  let uri = asUri(named?.uri ?? named?.path ?? inv.arg(0));
  const options: ImportOptions = { ...optionsOf<ImportOptions>(inv) };
  if (inv.ctx.kind === 'tree' && inv.ctx.node instanceof FolderNode) {
    options.prefix = inv.ctx.node.prefix;
  }
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
  if (inv.interactive && options.existing === undefined && (await reg.count()) > 0) {
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
  if (inv.interactive || report.skipped.length > 0 || report.cancelled) {
    void announce(
      report.cancelled
        ? vscode.l10n.t('Import cancelled: {0} of {1} keys stored before cancelling (they stay); {2} skipped.', report.stored.toLocaleString(), report.total.toLocaleString(), report.skipped.length.toLocaleString())
        : vscode.l10n.t('Imported {0} of {1} keys; {2} skipped.', report.stored.toLocaleString(), report.total.toLocaleString(), report.skipped.length.toLocaleString()),
      vscode.l10n.t('Import from {0}', uri.fsPath),
      report.skipped,
    );
  }
  return report;
}

async function exportJson(inv: Invocation): Promise<ExportReport | undefined> {
  const reg = await inv.registry(vscode.l10n.t('Export: from which registry?'));
  const named = inv.named;
  let uri = asUri(named?.uri ?? named?.path ?? inv.arg(0));
  const options: ExportOptions = { ...optionsOf<ExportOptions>(inv) };
  if (inv.ctx.kind === 'tree' && inv.ctx.node instanceof FolderNode) {
    options.prefix = inv.ctx.node.prefix;
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
  if (inv.interactive || report.skipped.length > 0) {
    void announce(
      vscode.l10n.t('Exported {0} keys to {1}; {2} skipped.', report.exported.toLocaleString(), target.fsPath, report.skipped.length.toLocaleString()),
      vscode.l10n.t('Export to {0}', target.fsPath),
      report.skipped,
    );
  }
  return report;
}

/** Import from and export to JSON files. */
export const importExportCommands: readonly CommandUnit[] = [command(Commands.importJson, importJson), command(Commands.exportJson, exportJson)];
