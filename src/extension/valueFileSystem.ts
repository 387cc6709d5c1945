import * as vscode from 'vscode';
import { RegistryError } from '../registry';
import type { RegistryChange, RegistryStorage } from '../registry';
import { errorMessage, logger } from './log';
import type { RegistryService } from './registryService';
import { FS_SCHEME, WORKSPACE_REGISTRY } from './settings';

const log = logger('editor');
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The editor URI of a key: `nautilus-registry://<registry>/<key>`; the workspace registry's keys keep
 * the authority-less `nautilus-registry:/<key>` they always had (the tab shows the key's last segment).
 */
export function keyUri(key: string, registry: string = WORKSPACE_REGISTRY): vscode.Uri {
  return vscode.Uri.from({ scheme: FS_SCHEME, authority: registry === WORKSPACE_REGISTRY ? '' : registry, path: '/' + key });
}

/** The registry of an editor URI: its authority, or the workspace registry without one. */
export function registryOfUri(uri: vscode.Uri): string {
  return uri.authority === '' ? WORKSPACE_REGISTRY : uri.authority;
}

/** The key of an editor URI, or undefined for the root. */
export function keyOfUri(uri: vscode.Uri): string | undefined {
  const key = uri.path.startsWith('/') ? uri.path.slice(1) : uri.path;
  return key === '' ? undefined : key;
}

/** True when the text parses as JSON (the editor then uses the JSON language mode). */
export function looksLikeJson(text: string): boolean {
  const t = text.trim();
  if (t === '' || t.length > 8 * 1024 * 1024) {
    return false;
  }
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** Turns a registry failure into the FileSystemError VS Code expects. */
export function toFileSystemError(err: unknown, uri: vscode.Uri): vscode.FileSystemError {
  if (err instanceof vscode.FileSystemError) {
    return err;
  }
  const message = errorMessage(err);
  if (RegistryError.is(err)) {
    switch (err.code) {
      case 'NOT_FOUND':
        return vscode.FileSystemError.FileNotFound(uri);
      case 'ALREADY_EXISTS':
        return vscode.FileSystemError.FileExists(uri);
      case 'LOCKED':
        return vscode.FileSystemError.NoPermissions(message);
      case 'UNAVAILABLE':
      case 'CLOSED':
        return vscode.FileSystemError.Unavailable(message);
      default:
        return new vscode.FileSystemError(message);
    }
  }
  return vscode.FileSystemError.Unavailable(message);
}

/**
 * Values as files, so a value opens in a real editor tab: reading retrieves, saving stores (keeping
 * the key's TTL), and changes from anywhere fire onDidChangeFile so open editors follow.
 * Folders are directories (read-only listing); deleting removes keys or whole folders.
 */
export class ValueFileSystemProvider implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly _onDidChangeFile = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this._onDidChangeFile.event;
  /** Modification time per key as this window saw it change; stat reports it so editors notice updates. */
  private readonly mtimes = new Map<string, number>();
  private readonly started = Date.now();
  private pending: vscode.FileChangeEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly service: RegistryService,
    private readonly separator: () => string,
  ) {
    this.disposables.push(
      this._onDidChangeFile,
      service.onDidChangeAnyData(({ registry, change }) => this.onChange(registry.name, change)),
      service.onDidChangeAnyRegistry((registry) => this.allChanged(registry.name)),
      vscode.workspace.onDidOpenTextDocument((d) => this.track(d, true)),
      vscode.workspace.onDidCloseTextDocument((d) => this.track(d, false)),
    );
    for (const d of vscode.workspace.textDocuments) {
      this.track(d, true);
    }
  }

  /**
   * Keys with an open document, per registry: only those need change events (an import of 100,000
   * keys touches none), and a change in one registry never touches another registry's tabs.
   */
  private readonly open = new Map<string, Set<string>>();

  private track(doc: vscode.TextDocument, isOpen: boolean): void {
    const key = doc.uri.scheme === FS_SCHEME ? keyOfUri(doc.uri) : undefined;
    if (key !== undefined) {
      const registry = this.canonical(doc.uri);
      let keys = this.open.get(registry);
      if (isOpen) {
        if (!keys) {
          keys = new Set();
          this.open.set(registry, keys);
        }
        keys.add(key);
      } else {
        keys?.delete(key);
      }
    }
  }

  /** The registry name of a URI as the service spells it (an authority may come back lower-cased). */
  private canonical(uri: vscode.Uri): string {
    const name = registryOfUri(uri);
    return this.service.find(name)?.name ?? name;
  }

  private tick(registry: string, key: string): number {
    const id = mtimeId(registry, key);
    const now = Math.max(Date.now(), (this.mtimes.get(id) ?? 0) + 1);
    this.mtimes.set(id, now);
    return now;
  }

  private onChange(registry: string, change: RegistryChange): void {
    const q = (type: vscode.FileChangeType, key: string): void => this.queue(registry, type, key);
    switch (change.kind) {
      case 'store':
        q(vscode.FileChangeType.Changed, change.key!);
        break;
      case 'remove':
        q(vscode.FileChangeType.Deleted, change.key!);
        break;
      case 'rename':
        if (change.prefix !== undefined) {
          this.openKeys(registry)
            .filter((k) => k.startsWith(change.from!))
            .forEach((k) => q(vscode.FileChangeType.Deleted, k));
          this.openKeys(registry)
            .filter((k) => k.startsWith(change.to!))
            .forEach((k) => q(vscode.FileChangeType.Changed, k));
        } else {
          q(vscode.FileChangeType.Deleted, change.from!);
          q(vscode.FileChangeType.Created, change.to!);
        }
        break;
      case 'removePrefix':
        this.openKeys(registry)
          .filter((k) => k.startsWith(change.prefix!))
          .forEach((k) => q(vscode.FileChangeType.Deleted, k));
        break;
      default:
        this.allChanged(registry);
    }
  }

  private openKeys(registry: string): string[] {
    return [...(this.open.get(registry) ?? [])];
  }

  private allChanged(registry: string): void {
    for (const k of this.openKeys(registry)) {
      this.queue(registry, vscode.FileChangeType.Changed, k);
    }
  }

  private queue(registry: string, type: vscode.FileChangeType, key: string): void {
    if (!this.open.get(registry)?.has(key)) {
      this.mtimes.delete(mtimeId(registry, key));
      return;
    }
    this.tick(registry, key);
    this.pending.push({ type, uri: keyUri(key, registry) });
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        const events = this.pending;
        this.pending = [];
        this._onDidChangeFile.fire(events);
        void this.closeDeleted(events);
      }, 50);
    }
  }

  /** A deleted key's tab closes when it has no unsaved edits; with edits it stays, marked deleted. */
  private async closeDeleted(events: vscode.FileChangeEvent[]): Promise<void> {
    const deleted = new Set(events.filter((e) => e.type === vscode.FileChangeType.Deleted).map((e) => e.uri.toString()));
    if (deleted.size === 0) {
      return;
    }
    const tabs: vscode.Tab[] = [];
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputText && deleted.has(input.uri.toString()) && !tab.isDirty) {
          // Renamed onto itself or re-created meanwhile: keep it.
          const key = keyOfUri(input.uri);
          const registry = this.service.find(registryOfUri(input.uri))?.current;
          if (key !== undefined && registry && (await registry.contains(key).catch(() => false))) {
            continue;
          }
          tabs.push(tab);
        }
      }
    }
    if (tabs.length > 0) {
      await vscode.window.tabGroups.close(tabs, true);
    }
  }

  watch(): vscode.Disposable {
    // Every change of the registry is reported already (onDidChangeData covers all keys).
    return new vscode.Disposable(() => undefined);
  }

  private async registry(uri: vscode.Uri): Promise<RegistryStorage> {
    try {
      const managed = this.service.find(registryOfUri(uri));
      if (!managed) {
        throw vscode.FileSystemError.Unavailable(vscode.l10n.t('There is no registry named "{0}".', registryOfUri(uri)));
      }
      return await managed.getRegistry();
    } catch (err) {
      throw toFileSystemError(err, uri);
    }
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const key = keyOfUri(uri);
    const registry = await this.registry(uri);
    if (key === undefined) {
      return { type: vscode.FileType.Directory, ctime: this.started, mtime: this.started, size: 0 };
    }
    try {
      const info = await registry.inspect(key);
      if (info) {
        const mtime = this.mtimes.get(mtimeId(this.canonical(uri), key)) ?? this.started;
        return {
          type: vscode.FileType.File,
          ctime: this.started,
          mtime,
          size: info.bytes,
          permissions: registry.describe().readOnly ? vscode.FilePermission.Readonly : undefined,
        };
      }
      const sep = this.separator();
      if ((await registry.count(key.endsWith(sep) ? key : key + sep)) > 0) {
        return { type: vscode.FileType.Directory, ctime: this.started, mtime: this.started, size: 0 };
      }
    } catch (err) {
      this.service.reportError(err, registry);
      throw toFileSystemError(err, uri);
    }
    throw vscode.FileSystemError.FileNotFound(uri);
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const registry = await this.registry(uri);
    const sep = this.separator();
    const key = keyOfUri(uri);
    const prefix = key === undefined ? '' : key.endsWith(sep) ? key : key + sep;
    const out: [string, vscode.FileType][] = [];
    try {
      let after: string | undefined;
      do {
        const page = await registry.children(prefix, sep, { after, limit: 1000 });
        for (const item of page.items) {
          const name = item.key.slice(prefix.length);
          out.push(item.kind === 'folder' ? [name.slice(0, name.length - sep.length), vscode.FileType.Directory] : [name, vscode.FileType.File]);
        }
        after = page.next;
      } while (after !== undefined);
    } catch (err) {
      throw toFileSystemError(err, uri);
    }
    return out;
  }

  /** Folders exist while keys are in them: creating one is accepted and changes nothing (writeFile calls it for parents). */
  createDirectory(_uri: vscode.Uri): void {
    return;
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const key = keyOfUri(uri);
    if (key === undefined) {
      throw vscode.FileSystemError.FileIsADirectory(uri);
    }
    const registry = await this.registry(uri);
    let value: string | undefined;
    try {
      value = await registry.retrieve(key);
    } catch (err) {
      this.service.reportError(err, registry);
      throw toFileSystemError(err, uri);
    }
    if (value === undefined) {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    return encoder.encode(value);
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    const key = keyOfUri(uri);
    if (key === undefined) {
      throw vscode.FileSystemError.FileIsADirectory(uri);
    }
    const registry = await this.registry(uri);
    let value: string;
    try {
      value = decoder.decode(content);
    } catch {
      throw new vscode.FileSystemError(vscode.l10n.t('The value of {0} is not valid UTF-8 text; the registry stores text only.', key));
    }
    try {
      const info = await registry.inspect(key);
      if (!info && !options.create) {
        throw vscode.FileSystemError.FileNotFound(uri);
      }
      if (info && options.create && !options.overwrite) {
        throw vscode.FileSystemError.FileExists(uri);
      }
      // Saving keeps the key's remaining time to live.
      const ttlMs = info?.expiresAt !== undefined ? Math.max(1, info.expiresAt - Date.now()) : undefined;
      await registry.store(key, value, ttlMs !== undefined ? { ttlMs } : undefined);
      this.tick(this.canonical(uri), key);
      log.info(`Saved ${key} from the editor (${content.byteLength} bytes).`);
    } catch (err) {
      this.service.reportError(err, registry);
      throw toFileSystemError(err, uri);
    }
  }

  async delete(uri: vscode.Uri, options: { recursive: boolean }): Promise<void> {
    const key = keyOfUri(uri);
    const registry = await this.registry(uri);
    try {
      if (key === undefined) {
        throw vscode.FileSystemError.NoPermissions(uri);
      }
      if (await registry.remove(key)) {
        return;
      }
      const sep = this.separator();
      const prefix = key.endsWith(sep) ? key : key + sep;
      if (options.recursive && (await registry.removePrefix(prefix)) > 0) {
        return;
      }
      throw vscode.FileSystemError.FileNotFound(uri);
    } catch (err) {
      throw toFileSystemError(err, uri);
    }
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    const from = keyOfUri(oldUri);
    const to = keyOfUri(newUri);
    if (from === undefined || to === undefined) {
      throw vscode.FileSystemError.NoPermissions(oldUri);
    }
    const registry = await this.registry(oldUri);
    try {
      await registry.rename(from, to, { overwrite: options.overwrite });
    } catch (err) {
      throw toFileSystemError(err, RegistryError.is(err, 'ALREADY_EXISTS') ? newUri : oldUri);
    }
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

function mtimeId(registry: string, key: string): string {
  return `${registry}\u0000${key}`;
}

/** Opens a key's value in an editor; JSON values get the JSON language mode. */
export async function openValue(
  key: string,
  options: { preview?: boolean; viewColumn?: vscode.ViewColumn; registry?: string } = {},
): Promise<vscode.TextEditor> {
  const uri = keyUri(key, options.registry);
  let doc = await vscode.workspace.openTextDocument(uri);
  doc = await applyLanguage(doc);
  return vscode.window.showTextDocument(doc, { preview: options.preview ?? false, viewColumn: options.viewColumn });
}

/** Sets the JSON language mode on a value document that parses as JSON and has no language chosen yet. */
export async function applyLanguage(doc: vscode.TextDocument): Promise<vscode.TextDocument> {
  if (doc.uri.scheme === FS_SCHEME && doc.languageId === 'plaintext' && looksLikeJson(doc.getText())) {
    try {
      return await vscode.languages.setTextDocumentLanguage(doc, 'json');
    } catch (err) {
      log.warn(`Could not set the JSON mode for ${doc.uri.path}: ${errorMessage(err)}`);
    }
  }
  return doc;
}

