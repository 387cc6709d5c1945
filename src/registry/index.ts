/**
 * Nautilus Registry core: the public entry of dist/registry.js. No `vscode` import anywhere below
 * this folder (enforced by lint), so it runs in plain Node, in tests, in scripts and in other extensions.
 */
export { openRegistry } from './factory';
export { RegistryError, REGISTRY_ERROR_CODES } from './errors';
export type { RegistryErrorCode } from './errors';
export { compareKeys, prefixEnd, parentOf, leafName, childOf, utf8Length } from './keys';
export { MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, MAX_PAGE, BACKENDS, showKey } from './validation';
export { redactUrl } from './redact';
export { childrenWithValues, listWithValues } from './withValues';
export type { ChildrenWithValues, ListWithValues } from './withValues';
export type * from './types';
export type { RegistryFileSystem, FileAppender, FileLock } from './backends/sqliteFiles';
export { webFileSystem } from './backends/sqliteWebFiles';
export { sqliteLockIsFree } from './backends/sqliteLockProbe';
export type { BasicFileSystem, LockManagerLike, WebFileSystemOptions } from './backends/sqliteWebFiles';
