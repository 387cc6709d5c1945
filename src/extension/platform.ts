/**
 * What differs between the Node extension host (desktop, Remote, code-server) and the browser's web
 * worker host. esbuild.mjs builds the web bundle with platform.browser.ts in place of this file.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SqliteConfig } from '../registry';

/** True in the web worker extension host (VS Code for the Web), where only memory and SQLite work. */
export const RUNS_IN_BROWSER = false;

/** Where the sqlite registry named `name` lives in `dir`, and how the backend reaches its files and engine. */
export async function sqliteLocation(context: vscode.ExtensionContext, dir: vscode.Uri, name: string): Promise<Pick<SqliteConfig, 'file' | 'wasmPath' | 'fileSystem' | 'wasmBinary'>> {
  // Node's fs directly: the folder is on the extension host's machine, and workspace.fs can cost a round trip to the window.
  if (dir.scheme === 'file') {
    await mkdir(dir.fsPath, { recursive: true });
  } else {
    await vscode.workspace.fs.createDirectory(dir);
  }
  return { file: path.join(dir.fsPath, name), wasmPath: path.join(context.extensionPath, 'dist', 'sql-wasm.wasm') };
}

/** Why a server backend (PostgreSQL, Redis) cannot be used here, or undefined when it can. */
export function serverBackendUnavailable(_label: string): string | undefined {
  return undefined;
}
