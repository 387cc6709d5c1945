import type * as vscode from 'vscode';
import { addSecret, logger } from './log';

const log = logger('secrets');

export type ServerBackend = 'postgres' | 'redis';

const CONNECTION_PREFIX = 'nautilusRegistry.connectionPassword:';

/**
 * Passwords of the server backends, in VS Code's secret storage only. A password belongs to one
 * server identity (backend, user, host, port, database), never to a workspace, so the same server
 * configured in two workspaces asks once. Values are never logged; they are registered with the
 * log's redaction instead.
 */
export class PasswordStore {
  /** Bumped whenever a saved password changes (here or in another window): the registry reopens. */
  version = 0;
  private readonly ownWrites = new Set<string>();

  constructor(private readonly storage: vscode.SecretStorage) {}

  /** The identity of a server URL, without password or query: `postgres://user@host:5432/db`. */
  static identity(backend: ServerBackend, url: string): string {
    try {
      const u = new URL(url);
      const port = u.port || (backend === 'postgres' ? '5432' : '6379');
      const user = decodeURIComponent(u.username || (backend === 'postgres' ? 'postgres' : 'default'));
      return `${backend}://${user}@${u.hostname}:${port}${u.pathname === '/' ? '' : u.pathname}`;
    } catch {
      return `${backend}://${url.replace(/:[^/@]*@/, '@')}`;
    }
  }

  private storageKey(backend: ServerBackend, url: string): string {
    return `nautilusRegistry.password:${PasswordStore.identity(backend, url)}`;
  }

  async get(backend: ServerBackend, url: string): Promise<string | undefined> {
    const value = await this.storage.get(this.storageKey(backend, url));
    addSecret(value);
    return value;
  }

  async set(backend: ServerBackend, url: string, password: string): Promise<void> {
    addSecret(password);
    const key = this.storageKey(backend, url);
    this.version++;
    this.ownWrites.add(key);
    await this.storage.store(key, password);
    log.info(`Saved the password for ${PasswordStore.identity(backend, url)} in secret storage.`);
  }

  /** True when a password was saved. */
  async delete(backend: ServerBackend, url: string): Promise<boolean> {
    const key = this.storageKey(backend, url);
    const had = (await this.storage.get(key)) !== undefined;
    if (had) {
      this.version++;
      this.ownWrites.add(key);
    }
    await this.storage.delete(key);
    if (had) {
      log.info(`Forgot the saved password for ${PasswordStore.identity(backend, url)}.`);
    }
    return had;
  }

  // ---- one entry per connection (nautilusRegistry.connections) ------------------------------------
  private connectionKey(name: string): string {
    return `${CONNECTION_PREFIX}${name}`;
  }

  /** The password saved for the connection `name`. */
  async getConnection(name: string): Promise<string | undefined> {
    const value = await this.storage.get(this.connectionKey(name));
    addSecret(value);
    return value;
  }

  async setConnection(name: string, password: string): Promise<void> {
    addSecret(password);
    const key = this.connectionKey(name);
    this.version++;
    this.ownWrites.add(key);
    await this.storage.store(key, password);
    log.info(`Saved the password of the connection ${name} in secret storage.`);
  }

  /** True when a password was saved. */
  async deleteConnection(name: string): Promise<boolean> {
    const key = this.connectionKey(name);
    const had = (await this.storage.get(key)) !== undefined;
    if (had) {
      this.version++;
      this.ownWrites.add(key);
      await this.storage.delete(key);
      log.info(`Forgot the saved password of the connection ${name}.`);
    }
    return had;
  }

  /** Moves a connection's password to its new name. */
  async renameConnection(from: string, to: string): Promise<void> {
    const pw = await this.getConnection(from);
    if (pw !== undefined) {
      await this.setConnection(to, pw);
      await this.deleteConnection(from);
    }
  }

  onDidChange(listener: () => void): vscode.Disposable {
    return this.storage.onDidChange((e) => {
      if (!e.key.startsWith('nautilusRegistry.password:') && !e.key.startsWith(CONNECTION_PREFIX)) {
        return;
      }
      if (this.ownWrites.delete(e.key)) {
        return; // the echo of our own write: version was bumped already
      }
      this.version++;
      listener();
    });
  }
}

/** Splits a password out of a connection URL: the URL without it, and the password if there was one. */
export function splitPassword(url: string): { url: string; password?: string } {
  try {
    const u = new URL(url);
    if (!u.password) {
      return { url };
    }
    const password = decodeURIComponent(u.password);
    u.password = '';
    return { url: u.toString(), password };
  } catch {
    return { url };
  }
}
