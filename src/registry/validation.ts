import { RegistryError } from './errors';
import type { Entry, RegistryConfig } from './types';
import { utf8Length } from './keys';

export const MAX_KEY_BYTES = 1024;
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;
export const MAX_PAGE = 10_000;
export const DEFAULT_PAGE = 1_000;
/** About 292 years: ttlMs beyond this is surely a mistake (and overflows Date arithmetic in some servers). */
export const MAX_TTL_MS = 2 ** 53 / 1000;

/** A short, printable rendering of a key for messages: escapes control characters, truncates. */
export function showKey(key: string, max = 60): string {
  let s = key.length > max ? key.slice(0, max) + '…' : key;
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return JSON.stringify(s).replace(/\\\\u/g, '\\u');
}

function hex(cp: number): string {
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}

/** Index of the first lone surrogate, or -1. */
export function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return -1;
}

function isWellFormed(s: string): boolean {
  const f = (s as { isWellFormed?: () => boolean }).isWellFormed;
  return f ? f.call(s) : loneSurrogateAt(s) < 0;
}

/** What is wrong with a key-like string, or undefined when nothing is. */
function keyProblem(key: unknown, what: string, allowEmpty: boolean): string | undefined {
  if (typeof key !== 'string') {
    return `${what} must be a string (got ${key === null ? 'null' : typeof key})`;
  }
  if (key.length === 0) {
    return allowEmpty ? undefined : `${what} must not be empty`;
  }
  if (!isWellFormed(key)) {
    return `${what} ${showKey(key)} is not well-formed Unicode (lone surrogate at position ${loneSurrogateAt(key)})`;
  }
  // eslint-disable-next-line no-control-regex
  const m = /[\u0000-\u001f\u007f]/.exec(key);
  if (m) {
    return `${what} ${showKey(key)} contains control character ${hex(m[0].charCodeAt(0))} at position ${m.index}; keys may not contain U+0000–U+001F or U+007F`;
  }
  if (key.length > MAX_KEY_BYTES / 3 || key.length > MAX_KEY_BYTES) {
    const bytes = utf8Length(key);
    if (bytes > MAX_KEY_BYTES) {
      return `${what} ${showKey(key)} is ${bytes} bytes of UTF-8; the limit is ${MAX_KEY_BYTES}`;
    }
  }
  return undefined;
}

export function validateKey(key: unknown, what = 'Key'): asserts key is string {
  const problem = keyProblem(key, what, false);
  if (problem) {
    throw new RegistryError('INVALID_KEY', problem + '.');
  }
}

/** Prefixes follow the key rules but may be empty. */
export function validatePrefix(prefix: unknown, what = 'Prefix'): asserts prefix is string {
  const problem = keyProblem(prefix, what, true);
  if (problem) {
    throw new RegistryError('INVALID_KEY', problem + '.');
  }
}

export function validateSeparator(separator: unknown): asserts separator is string {
  const problem = keyProblem(separator, 'Separator', false);
  if (problem) {
    throw new RegistryError('INVALID_KEY', problem + '.');
  }
  if ((separator as string).length > 16) {
    throw new RegistryError('INVALID_KEY', 'Separator must be at most 16 characters long.');
  }
}

export function validateValue(value: unknown, maxBytes: number, key?: string): asserts value is string {
  // Built only when a message is needed: store() is a hot path.
  const forKey = () => (key === undefined ? '' : ` for key ${showKey(key)}`);
  if (typeof value !== 'string') {
    throw new RegistryError('INVALID_VALUE', `Value${forKey()} must be a string (got ${value === null ? 'null' : typeof value}).`);
  }
  // Cheap bound first: a UTF-16 string of n units is at most 3n bytes of UTF-8.
  if (value.length * 3 > maxBytes) {
    const bytes = utf8Length(value);
    if (bytes > maxBytes) {
      throw new RegistryError(
        'INVALID_VALUE',
        `Value${forKey()} is ${bytes} bytes of UTF-8; the limit is ${maxBytes} bytes (setting maxValueBytes).`,
      );
    }
  }
  if (!isWellFormed(value)) {
    throw new RegistryError(
      'INVALID_VALUE',
      `Value${forKey()} is not well-formed Unicode (lone surrogate at position ${loneSurrogateAt(value)}).`,
    );
  }
  const nul = value.indexOf('\u0000');
  if (nul >= 0) {
    throw new RegistryError('INVALID_VALUE', `Value${forKey()} contains U+0000 (NUL) at position ${nul}; values may not contain it.`);
  }
}

export function validateTtl(ttlMs: unknown, key?: string): number | undefined {
  if (ttlMs === undefined) {
    return undefined;
  }
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
    const forKey = key === undefined ? '' : ` for key ${showKey(key)}`;
    throw new RegistryError(
      'INVALID_VALUE',
      `ttlMs${forKey} must be a positive whole number of milliseconds (got ${String(ttlMs)}).`,
    );
  }
  return ttlMs;
}

export function validateLimit(limit: unknown, method: string): number {
  if (limit === undefined) {
    return DEFAULT_PAGE;
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new RegistryError('INVALID_CONFIG', `${method}: limit must be a whole number from 1 to ${MAX_PAGE} (got ${String(limit)}).`);
  }
  return limit;
}

/**
 * A paging cursor is a position in UTF-8 byte order: any string that has one, stored or not (past
 * the end, between keys, inside a folder), and also one that is not a valid key, since `next` can
 * be a key another client wrote to a shared server (a control character, more than 1,024 bytes).
 * Two kinds of string have no such position and are refused with INVALID_KEY, because backends
 * would otherwise disagree on the page: a lone surrogate (no UTF-8 form; sql.js, pg and Redis each
 * encoded it differently) and U+0000 (SQLite ends the string there, PostgreSQL refuses it).
 */
export function validateAfter(after: unknown, method: string): string | undefined {
  if (after === undefined) {
    return undefined;
  }
  if (typeof after !== 'string') {
    throw new RegistryError('INVALID_KEY', `${method}: after must be a string (got ${after === null ? 'null' : typeof after}).`);
  }
  const hint = 'Pass a key, or the next of an earlier page, as after.';
  if (!isWellFormed(after)) {
    throw new RegistryError(
      'INVALID_KEY',
      `${method}: after ${showKey(after)} is not well-formed Unicode (lone surrogate at position ${loneSurrogateAt(after)}), so it has no place in the registry's UTF-8 byte order. ${hint}`,
    );
  }
  const nul = after.indexOf('\u0000');
  if (nul >= 0) {
    throw new RegistryError('INVALID_KEY', `${method}: after ${showKey(after)} contains U+0000 (NUL) at position ${nul}, which no key can contain. ${hint}`);
  }
  return after;
}

/** Validates every entry before anything is stored; returns them with later duplicates winning. */
export function validateEntries(entries: unknown, maxValueBytes: number): Entry[] {
  if (!Array.isArray(entries)) {
    throw new RegistryError('INVALID_VALUE', 'storeMany expects an array of { key, value, ttlMs? } entries.');
  }
  const byKey = new Map<string, Entry>();
  entries.forEach((e: unknown, i: number) => {
    if (typeof e !== 'object' || e === null) {
      throw new RegistryError('INVALID_VALUE', `storeMany: entry ${i} is not an object with key and value.`);
    }
    const { key, value, ttlMs } = e as Partial<Entry>;
    try {
      validateKey(key);
      validateValue(value, maxValueBytes, key);
      validateTtl(ttlMs, key);
    } catch (err) {
      if (RegistryError.is(err)) {
        throw new RegistryError(err.code, `storeMany: entry ${i}: ${err.message} Nothing was stored.`);
      }
      throw err;
    }
    byKey.delete(key);
    byKey.set(key, ttlMs === undefined ? { key, value } : { key, value, ttlMs });
  });
  return [...byKey.values()];
}

// ---- configuration -------------------------------------------------------------------------

export const BACKENDS = ['memory', 'sqlite', 'postgres', 'redis'] as const;

function configError(field: string, problem: string): RegistryError {
  return new RegistryError('INVALID_CONFIG', `Registry configuration: ${field} ${problem}.`);
}

export function validateCommonConfig(config: unknown): asserts config is RegistryConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new RegistryError('INVALID_CONFIG', 'Registry configuration must be an object with a "backend" field.');
  }
  const c = config as Record<string, unknown>;
  if (typeof c.backend !== 'string' || !(BACKENDS as readonly string[]).includes(c.backend)) {
    throw configError('backend', `must be one of ${BACKENDS.join(', ')} (got ${JSON.stringify(c.backend) ?? 'nothing'})`);
  }
  if (c.maxValueBytes !== undefined) {
    const m = c.maxValueBytes;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 512 * 1024 * 1024) {
      throw configError('maxValueBytes', `must be a whole number of bytes from 1 to ${512 * 1024 * 1024} (got ${String(m)})`);
    }
  }
  if (c.logger !== undefined) {
    const l = c.logger as Record<string, unknown> | null;
    if (typeof l !== 'object' || l === null || typeof l.info !== 'function' || typeof l.warn !== 'function' || typeof l.error !== 'function') {
      throw configError('logger', 'must have info, warn and error methods');
    }
  }
}

/** Field checks for backend configs; each names the field in its error. */
export const configField = {
  string(c: object, field: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = (c as Record<string, unknown>)[field];
    if (v === undefined && opts.optional) {
      return undefined;
    }
    if (typeof v !== 'string') {
      throw configError(field, `must be a string (got ${v === undefined ? 'nothing' : typeof v})`);
    }
    if (opts.nonEmpty !== false && v.length === 0) {
      throw configError(field, 'must not be empty');
    }
    return v;
  },
  integer(c: object, field: string, min: number, max: number): number | undefined {
    const v = (c as Record<string, unknown>)[field];
    if (v === undefined) {
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw configError(field, `must be a whole number from ${min} to ${max} (got ${String(v)})`);
    }
    return v;
  },
  boolean(c: object, field: string): boolean | undefined {
    const v = (c as Record<string, unknown>)[field];
    if (v !== undefined && typeof v !== 'boolean') {
      throw configError(field, `must be true or false (got ${typeof v})`);
    }
    return v as boolean | undefined;
  },
  /** An SQL identifier we will quote: letters, digits, _ and $, not starting with a digit, at most 63 bytes. */
  identifier(c: object, field: string): string | undefined {
    const v = configField.string(c, field, { optional: true });
    if (v !== undefined && !/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(v)) {
      throw configError(field, `must be a plain identifier (letters, digits, _ or $, not starting with a digit, at most 63 characters; got ${showKey(v)})`);
    }
    return v;
  },
  error: configError,
};
