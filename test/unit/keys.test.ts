import * as assert from 'node:assert/strict';
import { childOf, compareKeys, leafName, parentOf, prefixEnd } from '../../src/registry/keys';
import { SortedKeys } from '../../src/registry/sortedKeys';

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
