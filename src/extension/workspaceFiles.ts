import * as vscode from 'vscode';
import type { BasicFileSystem } from '../registry';

function notFound(err: unknown): boolean {
  if (err instanceof vscode.FileSystemError && err.code === 'FileNotFound') {
    return true;
  }
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  return e?.code === 'FileNotFound' || e?.code === 'ENOENT' || /EntryNotFound|FileNotFound|ENOENT/.test(String(e?.name ?? '') + String(e?.message ?? ''));
}

/**
 * vscode.workspace.fs as the sqlite web seam needs it (whole-file read and write, delete, list),
 * on paths below the same authority and scheme as `base` (the extension's storage folder).
 */
export function workspaceFiles(base: vscode.Uri): BasicFileSystem {
  const fs = vscode.workspace.fs;
  const at = (path: string) => base.with({ path });
  return {
    async readFile(path) {
      try {
        return await fs.readFile(at(path));
      } catch (err) {
        if (notFound(err)) {
          return undefined;
        }
        throw err;
      }
    },
    writeFile: (path, data) => Promise.resolve(fs.writeFile(at(path), data)),
    async delete(path) {
      try {
        await fs.delete(at(path), { useTrash: false });
      } catch (err) {
        if (!notFound(err)) {
          throw err;
        }
      }
    },
    async readDirectory(dir) {
      try {
        return (await fs.readDirectory(at(dir))).filter(([, type]) => (type & vscode.FileType.File) !== 0).map(([name]) => name);
      } catch (err) {
        if (notFound(err)) {
          return [];
        }
        throw err;
      }
    },
  };
}
