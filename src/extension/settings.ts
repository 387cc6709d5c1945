/** Setting keys, context keys, ids and defaults of the extension: one place, no magic strings elsewhere. */

export const EXTENSION_ID = 'nautilus.nautilus-registry';
export const SECTION = 'nautilusRegistry';

export const VIEW_CONTAINER_ID = 'nautilusRegistry';
export const KEYS_VIEW_ID = 'nautilusRegistry.keys';
export const FS_SCHEME = 'nautilus-registry';
export const LOG_NAME = 'Nautilus Registry';

/** Keys below `nautilusRegistry.` (read with `workspace.getConfiguration(SECTION).get(Setting.X)`). */
export const Setting = {
  backend: 'backend',
  separator: 'separator',
  pageSize: 'pageSize',
  previewLength: 'valuePreviewLength',
  folderCounts: 'folderCounts',
  maxValueBytes: 'maxValueBytes',
  postgresUrl: 'postgres.url',
  postgresSchema: 'postgres.schema',
  postgresTable: 'postgres.table',
  postgresSsl: 'postgres.ssl',
  redisUrl: 'redis.url',
  redisKeyPrefix: 'redis.keyPrefix',
  connectTimeoutMs: 'connectTimeoutMs',
  connections: 'connections',
  sqliteMaxDatabaseMiB: 'sqlite.maxDatabaseMiB',
} as const;

/** Settings whose change reopens the registry (the rest only refresh the view). */
export const CONNECTION_SETTINGS: readonly string[] = [
  Setting.backend,
  Setting.maxValueBytes,
  Setting.postgresUrl,
  Setting.postgresSchema,
  Setting.postgresTable,
  Setting.postgresSsl,
  Setting.redisUrl,
  Setting.redisKeyPrefix,
  Setting.connectTimeoutMs,
  Setting.sqliteMaxDatabaseMiB,
];

/**
 * The settings an open backend depends on. A change to any other connection setting (say the
 * PostgreSQL URL while the local sqlite registry is open) leaves the registry as it is.
 */
export function connectionSettingsOf(backend: string): readonly string[] {
  const common = [Setting.backend, Setting.maxValueBytes];
  switch (backend) {
    case 'postgres':
      return [...common, Setting.connectTimeoutMs, Setting.postgresUrl, Setting.postgresSchema, Setting.postgresTable, Setting.postgresSsl];
    case 'redis':
      return [...common, Setting.connectTimeoutMs, Setting.redisUrl, Setting.redisKeyPrefix];
    case 'sqlite':
      return [...common, Setting.sqliteMaxDatabaseMiB];
    default:
      return common;
  }
}

/** Settings that only change how the tree shows keys. */
export const VIEW_SETTINGS: readonly string[] = [Setting.separator, Setting.pageSize, Setting.previewLength, Setting.folderCounts];

/**
 * A registry that is opening shows so (status bar, context key, view message) only once it has taken
 * this long: a quick open does not flash "opening", and costs the window no repaint while it runs.
 */
export const SHOW_CONNECTING_AFTER_MS = 150;

export const Defaults = {
  backend: 'sqlite',
  separator: '/',
  pageSize: 200,
  previewLength: 60,
  folderCounts: 'auto',
  postgresUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  postgresSchema: 'public',
  postgresTable: 'registry',
  redisUrl: 'redis://127.0.0.1:6379',
  redisKeyPrefix: 'nautilus:',
  connectTimeoutMs: 5000,
} as const;

export const SQLITE_FILE_NAME = 'registry.sqlite';

/** The name of the workspace's own registry: always there, the one commands use when not told otherwise. */
export const WORKSPACE_REGISTRY = 'workspace';

/** A tree item id unique across registries; the workspace registry's ids stay as they always were. */
export function scopedId(registry: string, id: string): string {
  return registry === WORKSPACE_REGISTRY ? id : `${registry}\u0000${id}`;
}

/** Context keys set with `setContext`, read by `when` clauses in package.json. */
export const ContextKey = {
  /** 'idle' | 'connecting' | 'connected' | 'failed' | 'lost' */
  state: 'nautilusRegistry.state',
  /** True when the registry is open and holds no key (and no filter is active). */
  empty: 'nautilusRegistry.empty',
  /** True while a prefix filter is active in the Keys view. */
  filtered: 'nautilusRegistry.filtered',
  /** True when the open registry refuses writes. */
  readOnly: 'nautilusRegistry.readOnly',
  /** True when every selected item of the Keys view is a key (Enter opens it). */
  selectionIsKey: 'nautilusRegistry.selectionIsKey',
  /** The active backend name. */
  backend: 'nautilusRegistry.backend',
} as const;

export const Commands = {
  store: 'nautilusRegistry.store',
  storeInFolder: 'nautilusRegistry.storeInFolder',
  retrieve: 'nautilusRegistry.retrieve',
  remove: 'nautilusRegistry.remove',
  contains: 'nautilusRegistry.contains',
  rename: 'nautilusRegistry.rename',
  removeFolder: 'nautilusRegistry.removeFolder',
  copyKey: 'nautilusRegistry.copyKey',
  copyValue: 'nautilusRegistry.copyValue',
  openValue: 'nautilusRegistry.openValue',
  setTtl: 'nautilusRegistry.setTtl',
  filter: 'nautilusRegistry.filter',
  clearFilter: 'nautilusRegistry.clearFilter',
  refresh: 'nautilusRegistry.refresh',
  importJson: 'nautilusRegistry.import',
  exportJson: 'nautilusRegistry.export',
  compareWith: 'nautilusRegistry.compareWith',
  compareLoadMore: 'nautilusRegistry.compareLoadMore',
  openDiff: 'nautilusRegistry.openDiff',
  closeComparison: 'nautilusRegistry.closeComparison',
  copyToRegistry: 'nautilusRegistry.copyToRegistry',
  moveToRegistry: 'nautilusRegistry.moveToRegistry',
  addConnection: 'nautilusRegistry.addConnection',
  editConnection: 'nautilusRegistry.editConnection',
  renameConnection: 'nautilusRegistry.renameConnection',
  removeConnection: 'nautilusRegistry.removeConnection',
  moveConnectionUp: 'nautilusRegistry.moveConnectionUp',
  moveConnectionDown: 'nautilusRegistry.moveConnectionDown',
  connectPostgres: 'nautilusRegistry.connectPostgres',
  connectRedis: 'nautilusRegistry.connectRedis',
  forgetPassword: 'nautilusRegistry.forgetPassword',
  showLog: 'nautilusRegistry.showLog',
  reconnect: 'nautilusRegistry.reconnect',
  openSettings: 'nautilusRegistry.openSettings',
  loadMore: 'nautilusRegistry.loadMore',
} as const;

export type BackendSetting = 'sqlite' | 'memory' | 'postgres' | 'redis';
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['sqlite', 'memory', 'postgres', 'redis'];
