/**
 * The `nautilusRegistry.connections` setting: parsed and checked here, with no `vscode` import
 * (unit-tested). Each entry is one registry shown next to the workspace's own:
 *
 *   { "name": "team", "backend": "postgres", "url": "postgres://me@db:5432/app", "schema": "public", "table": "registry" }
 *   { "name": "cache", "backend": "redis", "url": "redis://127.0.0.1:6379", "keyPrefix": "nautilus:" }
 *   { "name": "shared", "backend": "sqlite", "file": "config/registry.sqlite" }   (relative: to the first workspace folder)
 *   { "name": "scratch", "backend": "memory" }
 *   { "name": "json", "backend": "<id of a backend another extension registered>", ...its own fields }
 *
 * Passwords never live here: they are in secret storage, one entry per connection name.
 */

export interface ConnectionEntry {
  name: string;
  backend: string;
  /** Every other field as written (url, file, schema, table, ssl, keyPrefix, or a third-party backend's own). */
  [field: string]: unknown;
}

export interface ParsedConnections {
  connections: ConnectionEntry[];
  /** Entries left out, and why (shown in the view's message and the log). */
  problems: string[];
}

/** Names the workspace registry and the tree use; a connection may not take them. */
export const RESERVED_NAMES: readonly string[] = ['workspace'];

/** Undefined when `name` can name a connection (it is part of value-tab URIs: nautilus-registry://<name>/<key>). */
export function checkConnectionName(name: string, taken: readonly string[] = []): string | undefined {
  if (name.trim() === '') {
    return 'A connection needs a name.';
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
    return 'Use letters, digits, ".", "_" and "-" (at most 63, starting with a letter or digit): the name is part of value-tab addresses.';
  }
  if (RESERVED_NAMES.includes(name.toLowerCase())) {
    return `"${name}" is the workspace's own registry.`;
  }
  if (taken.some((t) => t.toLowerCase() === name.toLowerCase())) {
    return `There is a connection named "${name}" already.`;
  }
  return undefined;
}

/** Turns the raw setting into entries; bad entries are left out with a reason, never silently. */
export function parseConnections(raw: unknown, knownBackends?: readonly string[]): ParsedConnections {
  const connections: ConnectionEntry[] = [];
  const problems: string[] = [];
  if (raw === undefined || raw === null) {
    return { connections, problems };
  }
  if (!Array.isArray(raw)) {
    return { connections, problems: ['nautilusRegistry.connections must be a list of connections.'] };
  }
  raw.forEach((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`Connection ${i + 1} is not an object.`);
      return;
    }
    const entry = item as Record<string, unknown>;
    const name = typeof entry.name === 'string' ? entry.name : '';
    const nameProblem = checkConnectionName(
      name,
      connections.map((c) => c.name),
    );
    if (nameProblem) {
      problems.push(`Connection ${i + 1}${name ? ` (${name})` : ''}: ${nameProblem}`);
      return;
    }
    const backend = typeof entry.backend === 'string' ? entry.backend : '';
    // Without a list, any backend is accepted: one another extension adds may register later (until then its root says so).
    if (backend === '' || (knownBackends && !knownBackends.includes(backend))) {
      problems.push(`Connection ${name}: unknown backend "${backend}"${knownBackends ? ` (known: ${knownBackends.join(', ')})` : ''}.`);
      return;
    }
    const needs = backend === 'postgres' || backend === 'redis' ? 'url' : backend === 'sqlite' ? 'file' : undefined;
    if (needs && (typeof entry[needs] !== 'string' || (entry[needs] as string).trim() === '')) {
      problems.push(`Connection ${name}: the ${backend} backend needs "${needs}".`);
      return;
    }
    connections.push({ ...entry, name, backend });
  });
  return { connections, problems };
}

/** Where a connection's data lives, for display (URLs are redacted by the caller). */
export function connectionLocation(entry: ConnectionEntry): string {
  if (typeof entry.url === 'string') {
    return entry.url;
  }
  if (typeof entry.file === 'string') {
    return entry.file;
  }
  return entry.backend === 'memory' ? 'in memory' : entry.backend;
}
