/**
 * The web worker extension host's platform.ts (esbuild.mjs substitutes it in dist/web/extension.js):
 * no Node fs, so the sqlite registry lives in the storage folder through vscode.workspace.fs, on
 * the web file seam (no append, no atomic replace needed), and sql-wasm.wasm is read from the
 * extension's own folder the same way, with the engine's Web Worker script (dist/web/sqliteThread.js).
 */
import * as vscode from 'vscode';
import { RegistryError, webFileSystem } from '../registry';
import type { SqliteConfig } from '../registry';
import { workspaceFiles } from './workspaceFiles';

export const RUNS_IN_BROWSER = true;

let wasm: Promise<Uint8Array> | undefined;
let engineScript: Promise<string> | undefined;

export async function sqliteLocation(context: vscode.ExtensionContext, dir: vscode.Uri, name: string): Promise<Pick<SqliteConfig, 'file' | 'wasmPath' | 'fileSystem' | 'wasmBinary' | 'engineWorkerScript'>> {
  await vscode.workspace.fs.createDirectory(dir);
  if (!wasm) {
    wasm = Promise.resolve(vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.extensionUri, 'dist', 'sql-wasm.wasm')));
    wasm.catch(() => (wasm = undefined));
  }
  if (!engineScript) {
    // The engine's Web Worker script, started from a blob: URL (workers from the extension's own URL are refused here).
    engineScript = Promise.resolve(vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.extensionUri, 'dist', 'web', 'sqliteThread.js'))).then((b) => new TextDecoder().decode(b));
    engineScript.catch(() => (engineScript = undefined));
  }
  const folder = dir.path.endsWith('/') ? dir.path : `${dir.path}/`;
  return { file: folder + name, wasmBinary: await wasm, engineWorkerScript: await engineScript, fileSystem: webFileSystem(workspaceFiles(dir)) };
}

export function serverBackendUnavailable(label: string): string | undefined {
  return vscode.l10n.t(
    '{0} needs a network connection that a browser cannot open: use VS Code Desktop or a Remote window to connect to it. Here the registry keeps its keys in SQLite or in memory.',
    label,
  );
}

/** A sqlite connection to a file of the user's: a browser has no local files to open. */
export async function sqliteFileConnection(_context: vscode.ExtensionContext, file: string): Promise<Pick<SqliteConfig, 'file' | 'wasmPath' | 'fileSystem' | 'wasmBinary'>> {
  throw new RegistryError(
    'UNSUPPORTED',
    vscode.l10n.t(
      'A SQLite file connection ({0}) needs VS Code Desktop or a Remote window: a browser has no local files. The workspace registry works here.',
      file,
    ),
  );
}
