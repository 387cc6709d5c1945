/**
 * A page of keys together with their values (the Keys view shows a preview of each): one call where
 * the registry can do it in one (the sqlite engine in a worker: one message each way instead of
 * two), the page then `retrieveMany` everywhere else. Two pages have this: a folder's children, and
 * the flat list of keys under a prefix (the view's filter).
 */
import type { ChildrenOptions, ChildrenPage, ListOptions, ListPage, RegistryStorage } from './types';

export interface ChildrenWithValues {
  page: ChildrenPage;
  /** One per item of the page: the key's value (its first `valueChars` characters), undefined for a folder or a key gone meanwhile. */
  values: (string | undefined)[];
}

export interface ListWithValues {
  page: ListPage;
  /** One per key of the page: its value (its first `valueChars` characters), undefined for a key gone meanwhile. */
  values: (string | undefined)[];
}

/**
 * The methods a registry object may have to answer a page and its values in one call (shared by
 * every copy of this module through the global symbol registry: the extension's bundle and
 * dist/registry.js).
 */
export const CHILDREN_WITH_VALUES = Symbol.for('nautilus-registry.childrenWithValues');
export const LIST_WITH_VALUES = Symbol.for('nautilus-registry.listWithValues');

type WithMethods = {
  [CHILDREN_WITH_VALUES]?: (prefix: string, separator: string, options: ChildrenOptions, valueChars: number | undefined) => Promise<ChildrenWithValues>;
  [LIST_WITH_VALUES]?: (options: ListOptions, valueChars: number | undefined) => Promise<ListWithValues>;
};

/** The values of `keys` (undefined where a key is missing), each cut to `valueChars` characters. */
async function valuesOf(registry: RegistryStorage, keys: readonly string[], valueChars: number | undefined): Promise<(string | undefined)[]> {
  if (keys.length === 0) {
    return [];
  }
  const got = await registry.retrieveMany(keys);
  return got.map((v) => (v !== undefined && valueChars !== undefined && v.length > valueChars ? v.slice(0, valueChars) : v));
}

/** `valueChars`: only this many characters of each value are needed (large values then do not cross a thread boundary whole). */
export async function childrenWithValues(
  registry: RegistryStorage,
  prefix: string,
  separator: string,
  options: ChildrenOptions = {},
  valueChars?: number,
): Promise<ChildrenWithValues> {
  const oneCall = (registry as RegistryStorage & WithMethods)[CHILDREN_WITH_VALUES];
  if (typeof oneCall === 'function') {
    return oneCall.call(registry, prefix, separator, options, valueChars);
  }
  const page = await registry.children(prefix, separator, options);
  const at: number[] = [];
  page.items.forEach((item, i) => item.kind === 'key' && at.push(i));
  const got = await valuesOf(
    registry,
    at.map((i) => page.items[i].key),
    valueChars,
  );
  const values: (string | undefined)[] = new Array<string | undefined>(page.items.length).fill(undefined);
  at.forEach((itemAt, j) => (values[itemAt] = got[j]));
  return { page, values };
}

/** The keys `list(options)` returns, with their values; `valueChars` as for childrenWithValues. */
export async function listWithValues(registry: RegistryStorage, options: ListOptions = {}, valueChars?: number): Promise<ListWithValues> {
  const oneCall = (registry as RegistryStorage & WithMethods)[LIST_WITH_VALUES];
  if (typeof oneCall === 'function') {
    return oneCall.call(registry, options, valueChars);
  }
  const page = await registry.list(options);
  return { page, values: await valuesOf(registry, page.keys, valueChars) };
}
