import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegistryLogger } from '../../registry';
import { logger } from '../log';
import { SECTION, Setting, SQLITE_FILE_NAME } from '../settings';
import type { BuiltConfig, RegistrySource } from './managedRegistry';

export function registryLogger(backend: string): RegistryLogger {
  const l = logger(backend);
  return { info: (m) => l.info(m), warn: (m) => l.warn(m), error: (m) => l.error(m) };
}

/** The sqlite size ceiling from the settings (`nautilusRegistry.sqlite.maxDatabaseMiB`), for a sqlite config. */
export function sqliteLimit(): { maxDatabaseMiB?: number } {
  const maxDatabaseMiB = vscode.workspace.getConfiguration(SECTION).get<number>(Setting.sqliteMaxDatabaseMiB);
  return typeof maxDatabaseMiB === 'number' && maxDatabaseMiB > 0 ? { maxDatabaseMiB } : {};
}

/** Where the workspace's own sqlite file lives: the workspace storage folder, or the global one without a folder. */
export async function workspaceSqliteFile(context: vscode.ExtensionContext, notes: string[]): Promise<string> {
  let dir = context.storageUri;
  if (!dir) {
    dir = context.globalStorageUri;
    notes.push(vscode.l10n.t('No folder is open: the registry is kept in the global storage folder, shared by every window without a folder.'));
  }
  // Node's fs directly: the folder is on the extension host's machine, and workspace.fs can cost a round trip to the window.
  if (dir.scheme === 'file') {
    await mkdir(dir.fsPath, { recursive: true });
  } else {
    await vscode.workspace.fs.createDirectory(dir);
  }
  return path.join(dir.fsPath, SQLITE_FILE_NAME);
}

/**
 * The workspace's own registry: a sqlite file in the workspace storage folder, always there (when the
 * file cannot be opened, a temporary in-memory registry stands in, loudly).
 */
export class WorkspaceSource implements RegistrySource {
  readonly fallbackToMemory = true;

  constructor(private readonly context: vscode.ExtensionContext) {}

  backends(): { requested: string; effective: string } {
    return { requested: 'sqlite', effective: 'sqlite' };
  }

  signature(): string {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    return JSON.stringify([cfg.get(Setting.maxValueBytes), cfg.get(Setting.sqliteMaxDatabaseMiB)]);
  }

  async build(): Promise<BuiltConfig> {
    const notes: string[] = [];
    const maxValueBytes = vscode.workspace.getConfiguration(SECTION).get<number>(Setting.maxValueBytes);
    const file = await workspaceSqliteFile(this.context, notes);
    return {
      requested: 'sqlite',
      effective: 'sqlite',
      notes,
      config: {
        backend: 'sqlite',
        file,
        readOnlyIfLocked: true,
        wasmPath: path.join(this.context.extensionPath, 'dist', 'sql-wasm.wasm'),
        logger: registryLogger('sqlite'),
        ...sqliteLimit(),
        ...(typeof maxValueBytes === 'number' && maxValueBytes > 0 ? { maxValueBytes } : {}),
      },
    };
  }
}
