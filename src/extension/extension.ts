import * as vscode from 'vscode';
import type { RegistryStorage } from '../registry';
import { registerCommands } from './commands';
import type { BackendContribution } from './registries/backendCatalog';
import { RecentRegistries } from './ui/prompts';
import { disposeLog, getChannel, logger, recentLogLines } from './log';
import { RegistryService } from './registryService';
import { PasswordStore } from './secrets';
import { ContextKey, FS_SCHEME, KEYS_VIEW_ID } from './settings';
import { RegistryStatusBar } from './statusBar';
import { ValueFileSystemProvider, applyLanguage } from './valueFileSystem';
import { KeysDragAndDrop } from './view/dragAndDrop';
import { COMPARE_VIEW_ID, CompareTreeProvider } from './view/compareTreeProvider';
import { KeysTreeProvider } from './view/keysTreeProvider';
import { KeyNode } from './view/treeNodes';
import type { TreeNode } from './view/treeNodes';

/** What other extensions get from `vscode.extensions.getExtension('nautilus.nautilus-registry').activate()`. */
export interface NautilusRegistryApi {
  /** The workspace registry, or undefined before it was first needed, while reopening, or when it failed to open. */
  readonly registry: RegistryStorage | undefined;
  /**
   * A registry, opened if needed: the workspace registry without a name, else the connection of that
   * name. Rejects with a RegistryError when there is none or it cannot be opened.
   */
  getRegistry(name?: string): Promise<RegistryStorage>;
  /** The names of the registries shown, in order ('workspace' first). */
  readonly registryNames: readonly string[];
  /** Fires when the workspace registry is opened, reopened or closed (undefined). */
  readonly onDidChangeRegistry: vscode.Event<RegistryStorage | undefined>;
  /** Fires when connections are added, removed, renamed or reordered. */
  readonly onDidChangeRegistries: vscode.Event<void>;
  /**
   * Adds a backend: it appears in Add Connection… with the fields of its configSchema; a connection
   * `{ "name": …, "backend": id, …fields }` opens with `open(fields, { secrets, log, name })`.
   * Test it with the conformance suite shipped as dist/conformance.js. Dispose to remove it.
   */
  registerBackend(backend: BackendContribution): vscode.Disposable;
  /** Internals for the extension's own tests; not a stable API. */
  readonly _test: {
    service: RegistryService;
    provider: KeysTreeProvider;
    view: vscode.TreeView<TreeNode>;
    statusBar: RegistryStatusBar;
    passwords: PasswordStore;
    fileSystem: ValueFileSystemProvider;
    dragAndDrop: KeysDragAndDrop;
    compare: CompareTreeProvider;
    /** The last lines of the log, as written (redacted). */
    logLines(): readonly string[];
    /** The extension's log folder (the LogOutputChannel's file is below it). */
    logUri: vscode.Uri;
  };
}

/**
 * Registers the view, commands, editor file system and status bar. Nothing is opened here: the
 * registry opens when the Keys view first asks for children or a command first needs it.
 */
export function activate(context: vscode.ExtensionContext): NautilusRegistryApi {
  const started = Date.now();
  const log = logger('extension');
  context.subscriptions.push({ dispose: disposeLog });
  getChannel();

  const passwords = new PasswordStore(context.secrets);
  const service = new RegistryService(context, passwords);
  activeService = service;
  const provider = new KeysTreeProvider(service);
  const dragAndDrop = new KeysDragAndDrop(service, provider);
  const view = vscode.window.createTreeView<TreeNode>(KEYS_VIEW_ID, {
    treeDataProvider: provider,
    dragAndDropController: dragAndDrop,
    canSelectMany: true,
    showCollapseAll: true,
  });
  provider.attach(view);
  const fs = new ValueFileSystemProvider(service, () => provider.separator);
  const statusBar = new RegistryStatusBar(service, view);
  if (service.isTrusted() === false) {
    log.info('Restricted Mode: only the workspace registry is shown.');
  }

  context.subscriptions.push(
    { dispose: () => void service.dispose() },
    provider,
    view,
    fs,
    statusBar,
    vscode.workspace.registerFileSystemProvider(FS_SCHEME, fs, { isCaseSensitive: true }),
    vscode.workspace.onDidOpenTextDocument((doc) => void applyLanguage(doc)),
    // Enter opens a key's value; on a folder it keeps its usual meaning (expand/collapse).
    view.onDidChangeSelection((e) =>
      vscode.commands.executeCommand('setContext', ContextKey.selectionIsKey, e.selection.length > 0 && e.selection.every((n) => n instanceof KeyNode)),
    ),
  );
  const compare = new CompareTreeProvider();
  context.subscriptions.push(compare, vscode.window.createTreeView(COMPARE_VIEW_ID, { treeDataProvider: compare, showCollapseAll: false }));
  const env = { context, service, provider, view, passwords, compare, recent: new RecentRegistries(context.workspaceState) };
  registerCommands(env);
  dragAndDrop.env = env;

  log.info(`Activated in ${Date.now() - started} ms (the registry opens when first needed).`);

  return {
    get registry() {
      return service.current;
    },
    getRegistry: (name?: string) => (name === undefined ? service.ensureCurrent() : Promise.resolve().then(() => service.get(name).ensureCurrent())),
    get registryNames() {
      return service.registries.map((r) => r.name);
    },
    onDidChangeRegistry: service.onDidChangeRegistry,
    onDidChangeRegistries: service.onDidChangeRegistries,
    registerBackend: (backend: BackendContribution) => {
      const registration = service.catalog.register(backend);
      log.info(`Another extension registered the backend "${backend.id}" (${backend.label}).`);
      const d = new vscode.Disposable(() => registration.dispose());
      context.subscriptions.push(d);
      return d;
    },
    _test: { service, provider, view, statusBar, passwords, fileSystem: fs, dragAndDrop, compare, logLines: recentLogLines, logUri: context.logUri },
  };
}

let activeService: RegistryService | undefined;

/** Closes the registry and waits for it (a sqlite registry finishes writing its file). The rest is in context.subscriptions. */
export async function deactivate(): Promise<void> {
  const service = activeService;
  activeService = undefined;
  await service?.dispose();
}
