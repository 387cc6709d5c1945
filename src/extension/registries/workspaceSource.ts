import * as vscode from 'vscode';
import type { RegistryLogger } from '../../registry';
import { logger } from '../log';
import { sqliteLocation } from '../platform';
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

/** Where the workspace's own sqlite file lives (the workspace storage folder, or the global one without a folder), and how the backend reaches it. */
export async function workspaceSqliteLocation(context: vscode.ExtensionContext, notes: string[]): Promise<Awaited<ReturnType<typeof sqliteLocation>>> {
  let dir = context.storageUri;
  if (!dir) {
    dir = context.globalStorageUri;
    notes.push(vscode.l10n.t('No folder is open: the registry is kept in the global storage folder, shared by every window without a folder.'));
  }
  return sqliteLocation(context, dir, SQLITE_FILE_NAME);
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
    const location = await workspaceSqliteLocation(this.context, notes);
    return {
      requested: 'sqlite',
      effective: 'sqlite',
      notes,
      config: {
        backend: 'sqlite',
        ...location,
        readOnlyIfLocked: true,
        logger: registryLogger('sqlite'),
        ...sqliteLimit(),
        ...(typeof maxValueBytes === 'number' && maxValueBytes > 0 ? { maxValueBytes } : {}),
      },
    };
  }
}
