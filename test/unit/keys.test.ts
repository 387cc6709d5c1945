import * as assert from 'node:assert/strict';
import { childOf, compareKeys, leafName, parentOf, prefixEnd } from '../../src/registry/keys';
import { SortedKeys } from '../../src/registry/sortedKeys';
import { openRegistry } from '../../src/registry';
import type { ChildItem } from '../../src/registry/types';
import { rng } from '../support/random';

const utf8Compare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const alphabet = ['a', 'b', '/', '~', '\u0080', 'é', '\u07ff', '\u0800', '中', '\ud7ff', '\ue000', '\ufffd', '\uffff', '😀', '\u{10000}', '\u{10ffff}'];

function randomString(next: () => number, max = 6): string {
  const n = Math.floor(next() * max);
  return Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('keys: ordering and folder arithmetic', () => {
  it('compareKeys agrees with UTF-8 byte order on 20,000 random pairs', () => {
    const next = seeded(7);
    for (let i = 0; i < 20_000; i++) {
      const a = randomString(next);
      const b = randomString(next);
      assert.equal(Math.sign(compareKeys(a, b)), Math.sign(utf8Compare(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });
  it('puts U+E000..U+FFFF before non-BMP characters, unlike JavaScript <', () => {
    assert.ok('\u{10000}' < '\uffff', 'JavaScript orders by UTF-16 code units');
    assert.ok(compareKeys('\uffff', '\u{10000}') < 0);
    assert.ok(compareKeys('\ue000', '😀') < 0);
  });
  it('prefixEnd bounds exactly the strings that start with the prefix', () => {
    const next = seeded(11);
    for (let i = 0; i < 5000; i++) {
      const p = randomString(next, 3);
      const s = randomString(next, 5);
      const end = prefixEnd(p);
      const inRange = compareKeys(s, p) >= 0 && (end === undefined || compareKeys(s, end) < 0);
      assert.equal(inRange, s.startsWith(p), `prefix ${JSON.stringify(p)} string ${JSON.stringify(s)}`);
    }
    assert.equal(prefixEnd(''), undefined);
    assert.equal(prefixEnd('\u{10ffff}'), undefined);
    assert.equal(prefixEnd('a\u{10ffff}'), 'b');
    assert.equal(prefixEnd('a\ud7ff'), 'a\ue000');
    assert.equal(prefixEnd('team/'), 'team0');
  });
  it('childOf, parentOf and leafName', () => {
    assert.deepEqual(childOf('team/', '/', 'team/api/url'), { kind: 'folder', key: 'team/api/' });
    assert.deepEqual(childOf('team/', '/', 'team/readme'), { kind: 'key', key: 'team/readme' });
    assert.deepEqual(childOf('', '::', 'a::b::c'), { kind: 'folder', key: 'a::' });
    assert.equal(parentOf('team/api/url', '/'), 'team/api/');
    assert.equal(parentOf('team/api/', '/', true), 'team/');
    assert.equal(parentOf('top', '/'), '');
    assert.equal(parentOf('team/', '/', true), '');
    assert.equal(leafName('team/api/url', '/'), 'url');
    assert.equal(leafName('team/api/', '/', true), 'api');
    assert.equal(leafName('a::b::', '::', true), 'b');
  });
});

describe('SortedKeys', () => {
  it('stays ordered and counts ranges through 30,000 random adds and deletes', () => {
    const next = seeded(3);
    const set = new SortedKeys();
    const model = new Set<string>();
    for (let i = 0; i < 30_000; i++) {
      const k = `k${Math.floor(next() * 5000)}${randomString(next, 2)}`;
      if (next() < 0.65) {
        assert.equal(set.add(k), !model.has(k));
        model.add(k);
      } else {
        assert.equal(set.delete(k), model.has(k));
        model.delete(k);
      }
    }
    const sorted = [...model].sort(utf8Compare);
    assert.equal(set.size, model.size);
    assert.deepEqual([...set.from('', true)], sorted);
    for (const p of ['k1', 'k25', 'k4999', 'x']) {
      const expected = sorted.filter((k) => k.startsWith(p)).length;
      assert.equal(set.countRange(p, prefixEnd(p)), expected, p);
    }
    const mid = sorted[Math.floor(sorted.length / 2)];
    assert.deepEqual([...set.from(mid, false)], sorted.slice(sorted.indexOf(mid) + 1));
    assert.equal(set.has(mid), true);
    assert.equal(set.has(mid + '\u0000'), false);
  });
});

describe('keys: folders when separator occurrences overlap', () => {
  // The split, defined once (src/registry/keys.ts): scanning from the start, each separator
  // occurrence that begins at or after the end of the previous one closes a folder.
  it('parentOf, leafName and childOf agree on the examples', () => {
    assert.deepEqual(childOf('', '::', 'a:::b'), { kind: 'folder', key: 'a::' });
    assert.deepEqual(childOf('a::', '::', 'a:::b'), { kind: 'key', key: 'a:::b' });
    assert.equal(parentOf('a:::b', '::'), 'a::');
    assert.equal(leafName('a:::b', '::'), ':b');
    assert.equal(parentOf('a::::b', '::'), 'a::::');
    assert.equal(parentOf('a::::', '::', true), 'a::');
    assert.equal(leafName('a::::', '::', true), '');
    assert.equal(parentOf('ababa', 'aba'), 'aba');
    assert.equal(parentOf('aaa', 'aa'), 'aa');
    assert.equal(parentOf('team/', '/'), 'team/', 'a key ending in the separator sits in the folder of the same name');
  });

  it('walking children from the top reaches every key along the path parentOf gives (random keys and separators)', async () => {
    const seed = Number(process.env.NAUTILUS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    const separators = ['::', 'aa', 'aba', '/', ':', '//', 'a:a', 'aaa', '😀', '😀😀', ':😀:', 'ab'];
    for (let round = 0; round < 60; round++) {
      const sep = pick(separators);
      const chars = [...new Set([...Array.from(sep), 'a', 'b', ':', 'x', '😀'])];
      const keys = new Set<string>();
      const n = 5 + Math.floor(next() * 40);
      while (keys.size < n) {
        keys.add(Array.from({ length: 1 + Math.floor(next() * 9) }, () => pick(chars)).join(''));
      }
      const where = `seed ${seed}, round ${round}, separator ${JSON.stringify(sep)}, keys ${JSON.stringify([...keys])}`;
      const reg = await openRegistry({ backend: 'memory' });
      try {
        await reg.storeMany([...keys].map((key) => ({ key, value: '' })));
        const limit = 1 + Math.floor(next() * 4);
        const childrenOf = async (prefix: string): Promise<ChildItem[]> => {
          const out: ChildItem[] = [];
          let after: string | undefined;
          do {
            const page = await reg.children(prefix, sep, { after, limit });
            out.push(...page.items);
            after = page.next;
          } while (after !== undefined);
          return out;
        };
        // 1. Every item children(P) gives has P as its parent, and its leaf rebuilds it.
        const reached = new Map<string, string>();
        const folders = [''];
        while (folders.length > 0) {
          const p = folders.pop()!;
          for (const item of await childrenOf(p)) {
            const isFolder = item.kind === 'folder';
            assert.equal(parentOf(item.key, sep, isFolder), p, `parentOf(${JSON.stringify(item.key)}, folder=${isFolder}) under ${JSON.stringify(p)}; ${where}`);
            assert.equal(p + leafName(item.key, sep, isFolder) + (isFolder ? sep : ''), item.key, `leafName of ${JSON.stringify(item.key)}; ${where}`);
            if (isFolder) {
              assert.ok(item.key.length > p.length, `a folder lies below its parent; ${where}`);
              folders.push(item.key);
            } else {
              assert.ok(!reached.has(item.key), `${JSON.stringify(item.key)} shown twice; ${where}`);
              reached.set(item.key, p);
            }
          }
        }
        // 2. Every key is reached exactly once, in the folder parentOf names, along parentOf's chain.
        assert.deepEqual([...reached.keys()].sort(), [...keys].sort(), where);
        for (const key of keys) {
          const chain: string[] = [];
          for (let f = parentOf(key, sep); f !== ''; f = parentOf(f, sep, true)) {
            chain.unshift(f);
          }
          assert.equal(reached.get(key), chain.length > 0 ? chain[chain.length - 1] : '', `${JSON.stringify(key)}; ${where}`);
          let level = '';
          for (const f of chain) {
            assert.deepEqual(childOf(level, sep, key), { kind: 'folder', key: f }, `path of ${JSON.stringify(key)} at ${JSON.stringify(level)}; ${where}`);
            level = f;
          }
          assert.deepEqual(childOf(level, sep, key), { kind: 'key', key }, `${JSON.stringify(key)} in ${JSON.stringify(level)}; ${where}`);
          // 3. Moving into any folder (drag and drop: target + leaf) lands directly in that folder.
          const target = pick(['', ...chain]);
          assert.equal(parentOf(target + leafName(key, sep), sep), target, `${JSON.stringify(key)} moved to ${JSON.stringify(target)}; ${where}`);
          if (chain.length > 0) {
            const folder = chain[chain.length - 1];
            const moved = target + leafName(folder, sep, true) + sep;
            assert.equal(parentOf(moved, sep, true), target, `folder ${JSON.stringify(folder)} moved to ${JSON.stringify(target)}; ${where}`);
            assert.deepEqual(childOf(target, sep, moved), { kind: 'folder', key: moved }, where);
          }
        }
      } finally {
        await reg.close();
      }
    }
  });
});
