/**
 * The part of node:assert/strict the extension-host tests use, for the web worker extension host
 * (no Node there). esbuild.mjs --web-tests maps `node:assert/strict` to this file.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

function show(v: unknown): string {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : v instanceof Map ? `Map(${JSON.stringify([...v])})` : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function fail(message: string | Error | undefined, fallback: string): never {
  if (message instanceof Error) {
    throw message;
  }
  throw new AssertionError(message ? `${message}\n${fallback}` : fallback);
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return false;
  }
  if (a instanceof Map && b instanceof Map) {
    return a.size === b.size && [...a].every(([k, v]) => b.has(k) && same(v, b.get(k)));
  }
  if (a instanceof Set && b instanceof Set) {
    return a.size === b.size && [...a].every((v) => b.has(v));
  }
  if (a instanceof Date && b instanceof Date) {
    return a.getTime() === b.getTime();
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function ok(value: unknown, message?: string | Error): asserts value {
  if (!value) {
    fail(message, `expected a truthy value, got ${show(value)}`);
  }
}

export function equal<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  if (!Object.is(actual, expected)) {
    fail(message, `expected ${show(expected)}, got ${show(actual)}`);
  }
}
export const strictEqual = equal;

export function notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected)) {
    fail(message, `expected anything but ${show(expected)}`);
  }
}

export function deepEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T {
  if (!same(actual, expected)) {
    fail(message, `expected ${show(expected)}, got ${show(actual)}`);
  }
}
export const deepStrictEqual = deepEqual;

export function match(value: string, re: RegExp, message?: string | Error): void {
  if (!re.test(value)) {
    fail(message, `expected ${show(value)} to match ${re}`);
  }
}

type Expected = RegExp | ((err: unknown) => boolean) | { [k: string]: unknown } | (new (...args: never[]) => unknown);

function check(err: unknown, expected: Expected | undefined, message?: string | Error): void {
  if (expected === undefined) {
    return;
  }
  if (expected instanceof RegExp) {
    if (!expected.test(err instanceof Error ? err.message : String(err))) {
      fail(message, `the error ${show(err instanceof Error ? err.message : err)} does not match ${expected}`);
    }
  } else if (typeof expected === 'function') {
    if (expected.prototype !== undefined && expected.prototype instanceof Error) {
      ok(err instanceof (expected as new () => Error), message);
    } else if ((expected as (e: unknown) => boolean)(err) !== true) {
      fail(message, `the error ${show(err)} is not the one expected`);
    }
  } else {
    for (const [k, v] of Object.entries(expected)) {
      const got = (err as Record<string, unknown>)[k];
      if (v instanceof RegExp ? !v.test(String(got)) : !same(got, v)) {
        fail(message, `the error's ${k} is ${show(got)}, expected ${show(v)}`);
      }
    }
  }
}

export async function rejects(block: Promise<unknown> | (() => Promise<unknown>), expected?: Expected | string, message?: string | Error): Promise<void> {
  try {
    await (typeof block === 'function' ? block() : block);
  } catch (err) {
    check(err, typeof expected === 'string' ? undefined : expected, typeof expected === 'string' ? expected : message);
    return;
  }
  fail(typeof expected === 'string' ? expected : message, 'expected a rejection');
}

export function throws(block: () => unknown, expected?: Expected | string, message?: string | Error): void {
  try {
    block();
  } catch (err) {
    check(err, typeof expected === 'string' ? undefined : expected, typeof expected === 'string' ? expected : message);
    return;
  }
  fail(typeof expected === 'string' ? expected : message, 'expected an exception');
}
