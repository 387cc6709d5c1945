/**
 * What differs between the Node extension host (desktop, Remote, code-server) and the browser's web
 * worker host. esbuild.mjs builds the web bundle with platform.browser.ts in place of this file.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RegistryError } from '../registry';
import type { SqliteConfig } from '../registry';

/** True in the web worker extension host (VS Code for the Web), where only memory and SQLite work. */
export const RUNS_IN_BROWSER = false;

/** Folders sqliteLocation made sure of in this session (a reopen skips the call). */
const madeFolders = new Set<string>();

/** Where the sqlite registry named `name` lives in `dir`, and how the backend reaches its files and engine. */
export async function sqliteLocation(context: vscode.ExtensionContext, dir: vscode.Uri, name: string): Promise<Pick<SqliteConfig, 'file' | 'wasmPath' | 'fileSystem' | 'wasmBinary'>> {
  // Node's fs directly: the folder is on the extension host's machine, and workspace.fs can cost a round trip to the window.
  // Once per session: should the folder vanish later, the backend's lock makes it again (it creates the lock file's folder).
  if (dir.scheme === 'file') {
    if (!madeFolders.has(dir.fsPath)) {
      await mkdir(dir.fsPath, { recursive: true });
      madeFolders.add(dir.fsPath);
    }
  } else {
    await vscode.workspace.fs.createDirectory(dir);
  }
  return { file: path.join(dir.fsPath, name), wasmPath: path.join(context.extensionPath, 'dist', 'sql-wasm.wasm') };
}

/** Why a server backend (PostgreSQL, Redis) cannot be used here, or undefined when it can. */
export function serverBackendUnavailable(_label: string): string | undefined {
  return undefined;
}

/** Resolves a sqlite connection's file: absolute as written, `${workspaceFolder}` expanded, relative to the first workspace folder. */
export function resolveSqliteFile(file: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  let f = file.replace(/\$\{workspaceFolder\}/g, folder?.fsPath ?? '');
  if (f.startsWith('~/') && process.env.HOME) {
    f = path.join(process.env.HOME, f.slice(2));
  }
  if (!path.isAbsolute(f)) {
    if (!folder || folder.scheme !== 'file') {
      throw new RegistryError('INVALID_CONFIG', vscode.l10n.t('The file {0} is relative, and no local folder is open to resolve it against.', file));
    }
    f = path.join(folder.fsPath, f);
  }
  return f;
}

/** A sqlite connection to a file of the user's (nautilusRegistry.connections): its path resolved, and the engine. */
export async function sqliteFileConnection(context: vscode.ExtensionContext, file: string): Promise<Pick<SqliteConfig, 'file' | 'wasmPath' | 'fileSystem' | 'wasmBinary'>> {
  return { file: resolveSqliteFile(file), wasmPath: path.join(context.extensionPath, 'dist', 'sql-wasm.wasm') };
}
