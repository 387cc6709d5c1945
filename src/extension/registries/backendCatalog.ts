import type { RegistryStorage } from '../../registry';

/** One field of a backend's configuration, as Add Connection… asks for it. */
export interface BackendConfigField {
  /** A short label, e.g. "File" or "Endpoint". */
  title?: string;
  description?: string;
  type?: 'string' | 'number' | 'boolean';
  default?: unknown;
  /** Asked for in Add Connection… (otherwise only in settings.json). */
  required?: boolean;
  /** Asked with a hidden input and kept in secret storage (never in settings). */
  secret?: boolean;
}

/** What a backend needs from the extension when it opens. */
export interface BackendOpenContext {
  /** The connection's secrets (the fields declared `secret`), read from VS Code's secret storage. */
  secrets: { get(field: string): Promise<string | undefined> };
  /** The extension's log, tagged with the backend id; values are redacted. */
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
  /** The connection's name. */
  name: string;
}

/** A backend another extension adds: `api.registerBackend({ id, label, configSchema, open })`. */
export interface BackendContribution {
  /** Unique, lowercase: 'etcd', 'dynamodb', 'jsonfile'. Not one of the built-in ids. */
  id: string;
  label: string;
  /** The fields of a connection of this backend (besides name and backend), JSON-schema-like. */
  configSchema?: { properties?: Record<string, BackendConfigField> };
  /** Opens a registry from a connection's fields. Reject with a RegistryError (INVALID_CONFIG, UNAVAILABLE, …) when it cannot. */
  open(config: Record<string, unknown>, context: BackendOpenContext): Promise<RegistryStorage>;
}

export const BUILTIN_BACKENDS: readonly { id: string; label: string }[] = [
  { id: 'postgres', label: 'PostgreSQL' },
  { id: 'redis', label: 'Redis' },
  { id: 'sqlite', label: 'SQLite file' },
  { id: 'memory', label: 'Memory' },
];

/** The backends connections can use: the built-in ones and those other extensions registered. */
export class BackendCatalog {
  private readonly contributed = new Map<string, BackendContribution>();
  private readonly listeners = new Set<() => void>();

  register(contribution: BackendContribution): { dispose(): void } {
    const id = contribution?.id;
    if (typeof id !== 'string' || !/^[a-z][a-z0-9._-]{0,40}$/.test(id)) {
      throw new TypeError(`registerBackend: the id must be lowercase letters, digits, ".", "_" or "-" (got ${JSON.stringify(id)}).`);
    }
    if (BUILTIN_BACKENDS.some((b) => b.id === id) || this.contributed.has(id)) {
      throw new TypeError(`registerBackend: a backend with the id "${id}" exists already.`);
    }
    if (typeof contribution.open !== 'function' || typeof contribution.label !== 'string') {
      throw new TypeError('registerBackend: a backend needs a label and an open(config, context) function.');
    }
    this.contributed.set(id, contribution);
    this.fire();
    return {
      dispose: () => {
        if (this.contributed.get(id) === contribution) {
          this.contributed.delete(id);
          this.fire();
        }
      },
    };
  }

  get(id: string): BackendContribution | undefined {
    return this.contributed.get(id);
  }

  /** Every backend id, built-in first. */
  ids(): string[] {
    return [...BUILTIN_BACKENDS.map((b) => b.id), ...this.contributed.keys()];
  }

  all(): { id: string; label: string; contribution?: BackendContribution }[] {
    return [...BUILTIN_BACKENDS, ...[...this.contributed.values()].map((c) => ({ id: c.id, label: c.label, contribution: c }))];
  }

  label(id: string): string {
    return BUILTIN_BACKENDS.find((b) => b.id === id)?.label ?? this.contributed.get(id)?.label ?? id;
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const l of this.listeners) {
      l();
    }
  }
}
