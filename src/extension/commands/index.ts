import type { CommandEnv } from './base';
import { registerUnits } from './base';
import { connectionCommands } from './connections';
import { importExportCommands } from './importExport';
import { compareCommands } from './compare';
import { keyCommands } from './keys';
import { transferCommands } from './transfer';
import { viewCommands } from './view';

export type { CommandEnv } from './base';
export { parseDuration } from './keys';

/** Registers every command of the extension (each a small unit in this folder, grouped by concern). */
export function registerCommands(env: CommandEnv): void {
  registerUnits(env, [...keyCommands, ...transferCommands, ...compareCommands, ...viewCommands, ...importExportCommands, ...connectionCommands]);
}
