import * as vscode from 'vscode';
import type { RegistryStorage } from '../registry';
import { registerCommands } from './commands';
import { RecentRegistries } from './ui/prompts';
import { disposeLog, getChannel, logger, recentLogLines } from './log';
import { RegistryService } from './registryService';
import { PasswordStore } from './secrets';
import { ContextKey, FS_SCHEME, KEYS_VIEW_ID } from './settings';
import { RegistryStatusBar } from './statusBar';
import { ValueFileSystemProvider, applyLanguage } from './valueFileSystem';
import { KeysDragAndDrop } from './view/dragAndDrop';
import { KeysTreeProvider } from './view/keysTreeProvider';
import { KeyNode } from './view/treeNodes';
import type { TreeNode } from './view/treeNodes';

/** What other extensions get from `vscode.extensions.getExtension('nautilus.nautilus-registry').activate()`. */
export interface NautilusRegistryApi {
  /** The open registry, or undefined before it was first needed, while switching, or when it failed to open. */
  readonly registry: RegistryStorage | undefined;
  /** The registry for the current settings, opened if needed; rejects with a RegistryError when it cannot be. */
  getRegistry(): Promise<RegistryStorage>;
  /** Fires when the registry is opened, switched (settings changed) or closed (undefined). */
  readonly onDidChangeRegistry: vscode.Event<RegistryStorage | undefined>;
  /** Internals for the extension's own tests; not a stable API. */
  readonly _test: {
    service: RegistryService;
    provider: KeysTreeProvider;
    view: vscode.TreeView<TreeNode>;
    statusBar: RegistryStatusBar;
    passwords: PasswordStore;
    fileSystem: ValueFileSystemProvider;
    dragAndDrop: KeysDragAndDrop;
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
  const statusBar = new RegistryStatusBar(service);

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
  registerCommands({ context, service, provider, view, passwords, recent: new RecentRegistries(context.workspaceState) });

  log.info(`Activated in ${Date.now() - started} ms (the registry opens when first needed).`);

  return {
    get registry() {
      return service.current;
    },
    getRegistry: () => service.ensureCurrent(),
    onDidChangeRegistry: service.onDidChangeRegistry,
    _test: { service, provider, view, statusBar, passwords, fileSystem: fs, dragAndDrop, logLines: recentLogLines, logUri: context.logUri },
  };
}

let activeService: RegistryService | undefined;

/** Closes the registry and waits for it (a sqlite registry finishes writing its file). The rest is in context.subscriptions. */
export async function deactivate(): Promise<void> {
  const service = activeService;
  activeService = undefined;
  await service?.dispose();
}
