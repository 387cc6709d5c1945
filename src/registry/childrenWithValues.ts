/**
 * A children page together with the values of its keys (the Keys view shows a preview of each):
 * one call where the registry can do it in one (the sqlite engine in a worker: one message each way
 * instead of two), `children` then `retrieveMany` everywhere else.
 */
import type { ChildrenOptions, ChildrenPage, RegistryStorage } from './types';

export interface ChildrenWithValues {
  page: ChildrenPage;
  /** One per item of the page: the key's value (its first `valueChars` characters), undefined for a folder or a key gone meanwhile. */
  values: (string | undefined)[];
}

/**
 * The method a registry object may have to answer both in one call (shared by every copy of this
 * module through the global symbol registry: the extension's bundle and dist/registry.js).
 */
export const CHILDREN_WITH_VALUES = Symbol.for('nautilus-registry.childrenWithValues');

type WithMethod = {
  [CHILDREN_WITH_VALUES]?: (prefix: string, separator: string, options: ChildrenOptions, valueChars: number | undefined) => Promise<ChildrenWithValues>;
};

/** `valueChars`: only this many characters of each value are needed (large values then do not cross a thread boundary whole). */
export async function childrenWithValues(
  registry: RegistryStorage,
  prefix: string,
  separator: string,
  options: ChildrenOptions = {},
  valueChars?: number,
): Promise<ChildrenWithValues> {
  const oneCall = (registry as RegistryStorage & WithMethod)[CHILDREN_WITH_VALUES];
  if (typeof oneCall === 'function') {
    return oneCall.call(registry, prefix, separator, options, valueChars);
  }
  const page = await registry.children(prefix, separator, options);
  const at: number[] = [];
  page.items.forEach((item, i) => item.kind === 'key' && at.push(i));
  const values: (string | undefined)[] = new Array<string | undefined>(page.items.length).fill(undefined);
  if (at.length > 0) {
    const got = await registry.retrieveMany(at.map((i) => page.items[i].key));
    at.forEach((itemAt, j) => {
      const v = got[j];
      values[itemAt] = v !== undefined && valueChars !== undefined && v.length > valueChars ? v.slice(0, valueChars) : v;
    });
  }
  return { page, values };
}
