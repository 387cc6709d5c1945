import * as vscode from 'vscode';

/** "1 key", "1,234 keys": the one place that says how many keys something holds. */
export function keyCount(n: number): string {
  return n === 1 ? vscode.l10n.t('1 key') : vscode.l10n.t('{0} keys', n.toLocaleString());
}
