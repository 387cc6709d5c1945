/**
 * The browser build's stand-in for sqliteNodeFiles.ts (esbuild.mjs substitutes `X.browser.ts` for
 * `X.ts` in the web bundle): there is no Node fs, so the sqlite backend needs `fileSystem` (e.g.
 * webFileSystem over the browser's storage) and `wasmBinary`, or a wasmPath that fetch can load.
 */
import { describeCause, RegistryError } from '../errors';
import type { RegistryFileSystem } from './sqliteFiles';

export function nodeFileSystem(): RegistryFileSystem {
  throw new RegistryError(
    'INVALID_CONFIG',
    'In a browser the sqlite backend has no local files: pass fileSystem (webFileSystem over the storage the host offers, e.g. vscode.workspace.fs).',
  );
}

export function locateSqlWasm(configured: string | undefined): string {
  return configured ?? 'sql-wasm.wasm';
}

export async function readSqlWasm(url: string): Promise<Uint8Array> {
  try {
    const res = await fetch(url);
    if (!res.ok) {
      throw new Error(`HTTP ${res.status}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw new RegistryError('UNAVAILABLE', `Cannot load the SQLite engine from ${url}: ${describeCause(err)}. Pass its bytes as wasmBinary.`, { cause: err });
  }
}
