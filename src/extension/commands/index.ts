import type { CommandEnv } from './base';
import { registerUnits } from './base';
import { connectionCommands } from './connections';
import { importExportCommands } from './importExport';
import { keyCommands } from './keys';
import { viewCommands } from './view';

export type { CommandEnv } from './base';
export { parseDuration } from './keys';

/** Registers every command of the extension (each a small unit in this folder, grouped by concern). */
export function registerCommands(env: CommandEnv): void {
  registerUnits(env, [...keyCommands, ...viewCommands, ...importExportCommands, ...connectionCommands]);
}
