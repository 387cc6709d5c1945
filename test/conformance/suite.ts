/**
 * The one conformance suite: every backend runs exactly these tests, so that every backend
 * behaves the same. A backend's test file calls `describeConformance(name, harness)`.
 *
 * Shipped to backend authors as dist/conformance.js (built from this file in place; see the README,
 * "Write a backend"): run it under mocha against any RegistryStorage factory.
 */
import * as assert from 'node:assert/strict';
import { compareKeys, childOf, parentOf } from '../../src/registry/keys';
import { RegistryError } from '../../src/registry/errors';
import type { RegistryErrorCode } from '../../src/registry/errors';
import type { ChildItem, RegistryChange, RegistryStorage } from '../../src/registry/types';
import { rng } from '../support/random';

export interface ConformanceHarness {
  /** A fresh, empty registry; every test gets its own. */
  open(options?: { maxValueBytes?: number }): Promise<RegistryStorage>;
  /** A second client on the same data as `registry` (for external change events), when the backend has one. */
  openPeer?(registry: RegistryStorage): Promise<RegistryStorage>;
  /** After each test (the test's registries are already closed). */
  cleanup?(): Promise<void>;
  /** Random operations in the model-based test; default 3000. */
  modelOps?: number;
}

export interface ConformanceOptions {
  /** When set, the whole suite is skipped and the reason printed. */
  skip?: string;
  /**
   * false: the backend has no time to live. Instead of the TTL tests, the suite checks that `ttlMs`
   * and `setTtl` are refused with UNSUPPORTED (and that nothing was stored). Default true.
   */
  ttl?: boolean;
}

export async function expectCode(p: Promise<unknown> | (() => unknown), code: RegistryErrorCode, messagePart?: RegExp): Promise<RegistryError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(RegistryError.is(err), `expected a RegistryError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    assert.ok(err.message.length > 10, 'the message says what is wrong');
    if (messagePart) {
      assert.match(err.message, messagePart);
    }
    return err;
  }
  assert.fail(`expected a RegistryError ${code}, but the call succeeded`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reference: sorted by UTF-8 bytes (independent of compareKeys). */
function byteSorted(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** Reference children: computed from the full key set the obvious way. */
function referenceChildren(keys: Iterable<string>, prefix: string, sep: string): ChildItem[] {
  const seen = new Map<string, ChildItem>();
  for (const k of byteSorted(keys)) {
    if (!k.startsWith(prefix)) {
      continue;
    }
    const item = childOf(prefix, sep, k);
    if (!seen.has(item.kind + item.key)) {
      seen.set(item.kind + item.key, item);
    }
  }
  return [...seen.values()].sort((a, b) => compareKeys(a.key, b.key) || (a.kind === 'folder' ? 1 : -1));
}

async function allKeys(r: RegistryStorage, prefix = '', limit = 1000, start?: string): Promise<string[]> {
  const out: string[] = [];
  let after = start;
  for (let guard = 0; guard < 100_000; guard++) {
    const page = await r.list({ prefix, after, limit });
    out.push(...page.keys);
    if (page.next === undefined) {
      return out;
    }
    assert.equal(page.keys.length, limit, 'a page with a next is full');
    after = page.next;
  }
  throw new Error('list did not terminate');
}

async function allChildren(r: RegistryStorage, prefix: string, sep: string, limit = 1000, start?: string): Promise<ChildItem[]> {
  const out: ChildItem[] = [];
  let after = start;
  for (let guard = 0; guard < 100_000; guard++) {
    const page = await r.children(prefix, sep, { after, limit });
    out.push(...page.items);
    if (page.next === undefined) {
      return out;
    }
    assert.equal(page.items.length, limit, 'a page with a next is full');
    after = page.next;
  }
  throw new Error('children did not terminate');
}

/** UTF-8 byte order, independent of compareKeys. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Whether a string is a paging cursor: one with a place in UTF-8 byte order (no lone surrogate, no U+0000); the registry refuses any other with INVALID_KEY. */
function isValidCursor(s: string): boolean {
  return !/\p{Cs}/u.test(s) && !s.includes('\u0000');
}

/** Random `after` cursors: keys, strings between and past keys, non-BMP, lone surrogates, strings that are not keys. */
function randomCursor(next: () => number, randKey: () => string): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const extras = ['', '/', 'a', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '😀', '\u{10000}', '\u{10FFFF}', '\uFFFF', '\uE000', '~', '\u0000', '\n', 'zz'];
  switch (Math.floor(next() * 6)) {
    case 0:
      return randKey();
    case 1:
      return randKey() + pick(extras);
    case 2:
      return randKey().slice(0, Math.floor(next() * 4)) + pick(extras);
    case 3:
      return pick(['', '\u{10FFFF}\u{10FFFF}', '\uFFFF', 'zzzz', '😀😀', 'a\uD800', 'a\uDC00b', '\uD83D', '\uDE00', 'é\uDBFF/']);
    case 4:
      return pick(['a\u0000', 'a\nb', '\u007f', 'k'.repeat(1025), '中'.repeat(342)]);
    default:
      return Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(extras)).join('');
  }
}

export function describeConformance(name: string, harness: ConformanceHarness, options: ConformanceOptions = {}): void {
  describe(`conformance: ${name}`, function () {
    if (options.skip) {
      console.log(`  ${name} conformance: SKIPPED — ${options.skip}`);
      it.skip(`(skipped: ${options.skip})`, () => undefined);
      return;
    }
    this.timeout(60_000);
    const opened: RegistryStorage[] = [];
    async function open(opts?: { maxValueBytes?: number }): Promise<RegistryStorage> {
      const r = await harness.open(opts);
      opened.push(r);
      return r;
    }
    let r: RegistryStorage;
    beforeEach(async () => {
      r = await open();
    });
    afterEach(async () => {
      for (const x of opened.splice(0)) {
        await x.close().catch(() => undefined);
      }
      await harness.cleanup?.();
    });

    describe('store / retrieve / remove / contains', () => {
      it('stores, overwrites and retrieves', async () => {
        assert.equal(await r.retrieve('a'), undefined);
        await r.store('a', '1');
        assert.equal(await r.retrieve('a'), '1');
        await r.store('a', '2');
        assert.equal(await r.retrieve('a'), '2');
        assert.equal(await r.count(), 1);
      });
      it('keeps values exactly: empty, multi-line, non-ASCII, non-BMP, large', async () => {
        const values = ['', ' ', 'line1\nline2\r\n\ttab', 'héllo wörld 中文 😀 \u{10FFFF}', 'x'.repeat(1024 * 1024), '{"json": [1, 2, {"a": null}]}'];
        for (const [i, v] of values.entries()) {
          await r.store(`v${i}`, v);
        }
        for (const [i, v] of values.entries()) {
          assert.equal(await r.retrieve(`v${i}`), v, `value ${i}`);
        }
      });
      it('retrieveMany keeps order, gives undefined for missing keys, allows duplicates', async () => {
        await r.storeMany([
          { key: 'a', value: 'A' },
          { key: 'c', value: 'C' },
        ]);
        assert.deepEqual(await r.retrieveMany(['c', 'b', 'a', 'c']), ['C', undefined, 'A', 'C']);
        assert.deepEqual(await r.retrieveMany([]), []);
        await expectCode(r.retrieveMany(['a', '']), 'INVALID_KEY');
      });
      it('remove tells whether the key existed; contains follows', async () => {
        await r.store('k', 'v');
        assert.equal(await r.contains('k'), true);
        assert.equal(await r.remove('k'), true);
        assert.equal(await r.contains('k'), false);
        assert.equal(await r.remove('k'), false);
        assert.equal(await r.retrieve('k'), undefined);
      });
      it('inspect gives value, UTF-8 size and no expiry for a permanent key', async () => {
        await r.store('i', 'é😀');
        assert.deepEqual(await r.inspect('i'), { key: 'i', value: 'é😀', bytes: 6 });
        assert.equal(await r.inspect('missing'), undefined);
      });
      it('1,000 concurrent stores are all visible afterwards', async () => {
        const keys = Array.from({ length: 1000 }, (_, i) => `c/${String(i).padStart(4, '0')}`);
        await Promise.all(keys.map((k) => r.store(k, `value of ${k}`)));
        assert.equal(await r.count('c/'), 1000);
        const values = await r.retrieveMany(keys);
        values.forEach((v, i) => assert.equal(v, `value of ${keys[i]}`));
        assert.deepEqual(await allKeys(r, 'c/', 333), keys);
      });
    });

    describe('key and value rules', () => {
      const badKeys: [string, unknown, RegExp][] = [
        ['empty', '', /empty/],
        ['too long (1,025 bytes)', 'k'.repeat(1025), /1025 bytes/],
        ['too long in UTF-8 (342 × 3 bytes)', '中'.repeat(342), /1026 bytes/],
        ['newline', 'a\nb', /U\+000A/],
        ['NUL', 'a\u0000b', /U\+0000/],
        ['DEL', 'a\u007fb', /U\+007F/],
        ['unit separator', '\u001f', /U\+001F/],
        ['lone high surrogate', 'a\ud800', /well-formed/],
        ['lone low surrogate', '\udc00b', /well-formed/],
        ['not a string', 42, /string/],
      ];
      for (const [what, key, msg] of badKeys) {
        it(`rejects a key that is ${what} with INVALID_KEY, storing nothing`, async () => {
          await expectCode(r.store(key as string, 'v'), 'INVALID_KEY', msg);
          await expectCode(r.retrieve(key as string), 'INVALID_KEY');
          await expectCode(r.contains(key as string), 'INVALID_KEY');
          await expectCode(r.remove(key as string), 'INVALID_KEY');
          await expectCode(r.storeMany([{ key: 'ok', value: 'v' }, { key: key as string, value: 'v' }]), 'INVALID_KEY');
          assert.equal(await r.count(), 0);
        });
      }
      it('accepts keys of exactly 1,024 bytes, spaces, tabs-free punctuation and non-BMP characters', async () => {
        const keys = ['k'.repeat(1024), '中'.repeat(341) + 'x', ' spaced key ', '😀/🚀', '\u{10FFFF}', 'a\u0080b'];
        for (const k of keys) {
          await r.store(k, 'v');
          assert.equal(await r.retrieve(k), 'v');
        }
        assert.equal(await r.count(), keys.length);
      });
      it('rejects bad values with INVALID_VALUE, storing nothing', async () => {
        await expectCode(r.store('k', 'a\u0000b'), 'INVALID_VALUE', /U\+0000/);
        await expectCode(r.store('k', 'a\ud800'), 'INVALID_VALUE', /well-formed/);
        await expectCode(r.store('k', undefined as unknown as string), 'INVALID_VALUE', /string/);
        await expectCode(r.store('k', 5 as unknown as string), 'INVALID_VALUE', /string/);
        assert.equal(await r.contains('k'), false);
      });
      it('enforces maxValueBytes in UTF-8 bytes', async () => {
        const small = await open({ maxValueBytes: 10 });
        await small.store('ok', '0123456789');
        await small.store('ok2', 'ééééé'); // 10 bytes
        await expectCode(small.store('big', 'ééééé1'), 'INVALID_VALUE', /11 bytes/);
        await expectCode(small.storeMany([{ key: 'x', value: 'x' }, { key: 'y', value: '01234567890' }]), 'INVALID_VALUE');
        assert.deepEqual(await allKeys(small), ['ok', 'ok2']);
      });
      it('rejects bad ttlMs with INVALID_VALUE', async () => {
        for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
          await expectCode(r.store('k', 'v', { ttlMs: ttl }), 'INVALID_VALUE', /ttlMs/);
        }
        assert.equal(await r.contains('k'), false);
      });
      it('rejects bad paging arguments and separators', async () => {
        await expectCode(r.list({ limit: 0 }), 'INVALID_CONFIG', /limit/);
        await expectCode(r.list({ limit: 10_001 }), 'INVALID_CONFIG', /limit/);
        await expectCode(r.list({ limit: 2.5 }), 'INVALID_CONFIG', /limit/);
        await expectCode(r.children('', ''), 'INVALID_KEY', /Separator/);
        await expectCode(r.children('', '\n'), 'INVALID_KEY', /Separator/);
        await expectCode(r.children('a\u0000', '/'), 'INVALID_KEY', /Prefix/);
        await expectCode(r.count('\u0007'), 'INVALID_KEY');
      });
      it('refuses list and children cursors with a lone surrogate or U+0000 with INVALID_KEY', async () => {
        await r.storeMany(['a', 'a\u{10000}', 'a\uFFFF', 'a/b', 'b'].map((key) => ({ key, value: key })));
        for (const after of ['a\uD800', 'a\uDBFF', '\uDC00', 'a\uDFFFb', 'a\u0000', '\u0000']) {
          await expectCode(r.list({ after }), 'INVALID_KEY', /after/);
          await expectCode(r.list({ prefix: 'a', after }), 'INVALID_KEY', /after/);
          await expectCode(r.children('', '/', { after }), 'INVALID_KEY', /after/);
        }
        await expectCode(r.list({ after: 'a\uD800' }), 'INVALID_KEY', /well-formed.*position 1/);
        await expectCode(r.children('a', '/', { after: 'a/\u0000' }), 'INVALID_KEY', /U\+0000/);
      });
      it('takes any other cursor: between keys, past the end, non-BMP, inside a folder, not a key', async () => {
        const ks = ['a', 'a\uFFFF', 'a\u{10000}', 'a/b', 'a/c', 'a/d/e', 'b', '😀'];
        await r.storeMany(ks.map((key) => ({ key, value: key })));
        assert.deepEqual(await r.list({ after: 'a\uFFFF' }), { keys: ['a\u{10000}', 'b', '😀'] });
        assert.deepEqual(await r.list({ after: 'a\u{10000}' }), { keys: ['b', '😀'] });
        assert.deepEqual(await r.list({ after: '' }), { keys: byteSorted(ks) });
        assert.deepEqual(await r.list({ after: '\u{10FFFF}' }), { keys: [] });
        assert.deepEqual(await r.list({ prefix: 'a/', after: 'a/bz' }), { keys: ['a/c', 'a/d/e'] });
        // Not keys, but positions all the same (a key another client wrote can be a page's next).
        assert.deepEqual(await r.list({ prefix: 'a/', after: 'a/b\u0001' }), { keys: ['a/c', 'a/d/e'] });
        assert.deepEqual(await r.list({ after: 'a/' + 'c'.repeat(1100) }), { keys: ['a/d/e', 'a\uFFFF', 'a\u{10000}', 'b', '😀'] });
        // A cursor inside a folder: the folder sorts before it, so the page goes on after the folder.
        assert.deepEqual(await r.children('a/', '/', { after: 'a/d/a' }), { items: [] });
        assert.deepEqual(await r.children('', '/', { after: 'a/b' }), { items: [{ kind: 'key', key: 'a\uFFFF' }, { kind: 'key', key: 'a\u{10000}' }, { kind: 'key', key: 'b' }, { kind: 'key', key: '😀' }] });
        assert.deepEqual(await r.children('a/', '/', { after: 'a/c' }), { items: [{ kind: 'folder', key: 'a/d/' }] });
      });
    });

    describe('order and prefixes', () => {
      const keys = ['b', 'a', 'A', 'ab', 'a/b', 'é', 'z', '中', '\uE000', '\uFFFD', '😀', '\u{10000}', 'a b', 'a~', '\u0080'];
      it('lists in UTF-8 byte order, including non-BMP characters', async () => {
        await r.storeMany(keys.map((key) => ({ key, value: key })));
        const expected = byteSorted(keys);
        assert.deepEqual(await allKeys(r), expected);
        assert.deepEqual(await allKeys(r, '', 4), expected);
        // compareKeys (used by every backend) agrees with byte order
        assert.deepEqual([...keys].sort(compareKeys), expected);
      });
      it('treats %, _, \\, *, ?, [ in prefixes literally', async () => {
        const ks = ['a%b', 'a_b', 'aXb', 'a\\b', 'a*b', 'a?b', 'a[b]', 'ab', 'a.b', 'a^b', 'a$b', 'a|b'];
        await r.storeMany(ks.map((key) => ({ key, value: '1' })));
        for (const p of ['a%', 'a_', 'a\\', 'a*', 'a?', 'a[', 'a.', 'a^', 'a$', 'a|']) {
          const expected = ks.filter((k) => k.startsWith(p));
          assert.deepEqual(await allKeys(r, p), expected, `prefix ${p}`);
          assert.equal(await r.count(p), expected.length, `count ${p}`);
          assert.deepEqual(await r.children(p, '/'), { items: expected.map((key) => ({ kind: 'key', key })) });
        }
        assert.equal(await r.removePrefix('a_'), 1);
        assert.equal(await r.removePrefix('a%'), 1);
        assert.equal(await r.removePrefix('a['), 1);
        assert.equal(await r.removePrefix('a*'), 1);
        assert.equal(await r.count(), ks.length - 4);
        assert.equal(await r.contains('aXb'), true);
      });
      it('pages list with keyset cursors: exact multiples, after outside the prefix, empty results', async () => {
        const ks = Array.from({ length: 20 }, (_, i) => `p/${String(i).padStart(2, '0')}`);
        await r.storeMany([...ks, 'o', 'q'].map((key) => ({ key, value: key })));
        const p1 = await r.list({ prefix: 'p/', limit: 10 });
        assert.deepEqual(p1.keys, ks.slice(0, 10));
        assert.equal(p1.next, ks[9]);
        const p2 = await r.list({ prefix: 'p/', limit: 10, after: p1.next });
        assert.deepEqual(p2.keys, ks.slice(10));
        assert.equal(p2.next, undefined, 'no next on an exactly full last page');
        assert.deepEqual(await r.list({ prefix: 'p/', after: 'a' }), { keys: ks });
        assert.deepEqual(await r.list({ prefix: 'p/', after: 'p0' }), { keys: [] });
        assert.deepEqual(await r.list({ prefix: 'p/', after: 'p/05x', limit: 2 }), { keys: ks.slice(6, 8), next: ks[7] });
        assert.deepEqual(await r.list({ prefix: 'nothing' }), { keys: [] });
        assert.deepEqual(await r.list({ limit: 1 }), { keys: ['o'], next: 'o' });
        assert.deepEqual(await r.list({ after: 'q' }), { keys: [] });
        assert.equal(await r.count('p/'), 20);
        assert.equal(await r.count('p'), 20);
        assert.equal(await r.count(), 22);
        assert.equal(await r.count('zzz'), 0);
      });
    });

    describe('children', () => {
      const tree = [
        'team/api/url',
        'team/api/key',
        'team/api/v2/url',
        'team/db/host',
        'team/readme',
        'team/',
        'team//double',
        'top',
        'top/inner',
        'z/',
        'é/x',
        '😀/rocket',
        'a::b::c',
        'a::b',
        'a:x',
      ];
      beforeEach(async () => {
        await r.storeMany(tree.map((key) => ({ key, value: `v:${key}` })));
      });
      for (const [prefix, sep] of [
        ['', '/'],
        ['team/', '/'],
        ['team/api/', '/'],
        ['te', '/'],
        ['team//', '/'],
        ['nothing/', '/'],
        ['', '::'],
        ['a::', '::'],
        ['', 'a'],
      ] as const) {
        it(`lists the immediate folders and keys of ${JSON.stringify(prefix)} by ${JSON.stringify(sep)}, in order, at every page size`, async () => {
          const expected = referenceChildren(tree, prefix, sep);
          assert.deepEqual(await allChildren(r, prefix, sep), expected);
          for (const limit of [1, 2, 3]) {
            assert.deepEqual(await allChildren(r, prefix, sep, limit), expected, `limit ${limit}`);
          }
        });
      }
      it('shows the exact expected top level', async () => {
        assert.deepEqual((await r.children('', '/')).items, [
          { kind: 'key', key: 'a::b' },
          { kind: 'key', key: 'a::b::c' },
          { kind: 'key', key: 'a:x' },
          { kind: 'folder', key: 'team/' },
          { kind: 'key', key: 'top' },
          { kind: 'folder', key: 'top/' },
          { kind: 'folder', key: 'z/' },
          { kind: 'folder', key: 'é/' },
          { kind: 'folder', key: '😀/' },
        ]);
        const page = await r.children('team/', '/', { limit: 2 });
        assert.deepEqual(page, {
          items: [
            { kind: 'key', key: 'team/' },
            { kind: 'folder', key: 'team//' },
          ],
          next: 'team//',
        });
        assert.deepEqual(await r.children('team/', '/', { after: page.next, limit: 2 }), {
          items: [
            { kind: 'folder', key: 'team/api/' },
            { kind: 'folder', key: 'team/db/' },
          ],
          next: 'team/db/',
        });
      });
      it('overlapping separator occurrences: walking children from the top reaches every key once, in the folder parentOf names', async () => {
        const extra = ['a:::b', 'a::::c', 'a::', 'a:::', '::x', ':::', 'ababa', 'abab', 'aba', 'abababa/x', 'aaa', 'aaaa', 'aaaaa/b'];
        await r.storeMany(extra.map((key) => ({ key, value: key })));
        const all = new Set([...tree, ...extra]);
        for (const sep of ['::', 'aba', 'aa', ':']) {
          for (const limit of [1, 3, 1000]) {
            const reached: string[] = [];
            const folders = [''];
            while (folders.length > 0) {
              const level = folders.pop()!;
              for (const item of await allChildren(r, level, sep, limit)) {
                assert.equal(parentOf(item.key, sep, item.kind === 'folder'), level, `${item.kind} ${JSON.stringify(item.key)} by ${JSON.stringify(sep)}`);
                if (item.kind === 'folder') {
                  folders.push(item.key);
                } else {
                  reached.push(item.key);
                }
              }
            }
            assert.deepEqual(byteSorted(reached), byteSorted(all), `separator ${JSON.stringify(sep)}, limit ${limit}`);
          }
        }
      });
      it('pages a folder with many keys and many sub-folders', async () => {
        const many: string[] = [];
        for (let f = 0; f < 30; f++) {
          for (let k = 0; k < 40; k++) {
            many.push(`big/f${String(f).padStart(2, '0')}/k${k}`);
          }
          many.push(`big/key${String(f).padStart(2, '0')}`);
        }
        await r.storeMany(many.map((key) => ({ key, value: '1' })));
        const expected = referenceChildren(many, 'big/', '/');
        assert.equal(expected.length, 60);
        assert.deepEqual(await allChildren(r, 'big/', '/', 7), expected);
        assert.deepEqual(await allChildren(r, 'big/', '/', 1000), expected);
      });
    });

    describe('bulk operations', () => {
      it('storeMany stores all, later duplicates win', async () => {
        await r.storeMany([
          { key: 'x', value: '1' },
          { key: 'y', value: '2' },
          { key: 'x', value: '3' },
        ]);
        assert.deepEqual(await r.retrieveMany(['x', 'y']), ['3', '2']);
        await r.storeMany([]);
        assert.equal(await r.count(), 2);
      });
      it('storeMany is all or nothing', async () => {
        await r.store('keep', 'old');
        await expectCode(r.storeMany([{ key: 'keep', value: 'new' }, { key: 'n1', value: 'v' }, { key: 'bad\n', value: 'v' }]), 'INVALID_KEY', /entry 2/);
        await expectCode(r.storeMany([{ key: 'n2', value: 'v', ttlMs: -5 }]), 'INVALID_VALUE');
        await expectCode(r.storeMany('nope' as unknown as []), 'INVALID_VALUE');
        await expectCode(r.storeMany([null as unknown as { key: string; value: string }]), 'INVALID_VALUE');
        assert.equal(await r.retrieve('keep'), 'old');
        assert.deepEqual(await allKeys(r), ['keep']);
      });
      it('storeMany of 5,000 entries', async () => {
        const entries = Array.from({ length: 5000 }, (_, i) => ({ key: `bulk/${i}`, value: `v${i}` }));
        await r.storeMany(entries);
        assert.equal(await r.count('bulk/'), 5000);
        assert.equal(await r.retrieve('bulk/4999'), 'v4999');
      });
      it('removePrefix removes exactly the keys under the prefix', async () => {
        await r.storeMany(['f/a', 'f/b', 'f/c/d', 'fa', 'g'].map((key) => ({ key, value: '1' })));
        assert.equal(await r.removePrefix('f/'), 3);
        assert.deepEqual(await allKeys(r), ['fa', 'g']);
        assert.equal(await r.removePrefix('nothing'), 0);
        assert.equal(await r.removePrefix(''), 2);
        assert.equal(await r.count(), 0);
      });
      it('rename moves a value, refuses to overwrite unless asked, fails on a missing source', async () => {
        await r.store('from', 'F');
        await r.store('to', 'T');
        await expectCode(r.rename('from', 'to'), 'ALREADY_EXISTS', /overwrite/);
        assert.deepEqual(await r.retrieveMany(['from', 'to']), ['F', 'T']);
        await r.rename('from', 'to', { overwrite: true });
        assert.deepEqual(await r.retrieveMany(['from', 'to']), [undefined, 'F']);
        await expectCode(r.rename('from', 'else'), 'NOT_FOUND');
        await r.rename('to', 'new');
        assert.deepEqual(await allKeys(r), ['new']);
        await r.rename('new', 'new');
        await expectCode(r.rename('ghost', 'ghost'), 'NOT_FOUND');
        await expectCode(r.rename('new', ''), 'INVALID_KEY');
        assert.equal(await r.retrieve('new'), 'F');
      });
      it('renamePrefix moves a folder, all or nothing', async () => {
        await r.storeMany(['src/a', 'src/b/c', 'dst/b/c', 'other'].map((key) => ({ key, value: key })));
        await expectCode(r.renamePrefix('src/', 'dst/'), 'ALREADY_EXISTS');
        assert.deepEqual(await allKeys(r), ['dst/b/c', 'other', 'src/a', 'src/b/c']);
        assert.equal(await r.renamePrefix('src/', 'dst/', { overwrite: true }), 2);
        assert.deepEqual(await allKeys(r), ['dst/a', 'dst/b/c', 'other']);
        assert.equal(await r.retrieve('dst/b/c'), 'src/b/c');
        assert.equal(await r.renamePrefix('dst/', 'x/y/'), 2);
        assert.deepEqual(await allKeys(r), ['other', 'x/y/a', 'x/y/b/c']);
        assert.equal(await r.renamePrefix('x/y/', ''), 2);
        assert.deepEqual(await allKeys(r), ['a', 'b/c', 'other']);
        assert.equal(await r.renamePrefix('none/', 'x/'), 0);
        await expectCode(r.renamePrefix('b/', 'k'.repeat(1030)), 'INVALID_KEY');
        assert.deepEqual(await allKeys(r), ['a', 'b/c', 'other']);
      });
    });

    describe('TTL', () => {
      if (options.ttl === false) {
        it('refuses a time to live with UNSUPPORTED and stores nothing (a backend without TTL)', async () => {
          await expectCode(r.store('t/k', 'v', { ttlMs: 60_000 }), 'UNSUPPORTED');
          await expectCode(r.storeMany([{ key: 't/m', value: 'v', ttlMs: 60_000 }]), 'UNSUPPORTED');
          assert.equal(await r.count('t/'), 0);
          await r.store('t/k', 'v');
          await expectCode(r.setTtl('t/k', 60_000), 'UNSUPPORTED');
          assert.equal((await r.inspect('t/k'))?.expiresAt, undefined);
        });
        return;
      }
      it('hides an expired key from every method', async () => {
        await r.store('t/exp', 'gone soon', { ttlMs: 300 });
        await r.store('t/keep', 'stays');
        const info = await r.inspect('t/exp');
        assert.ok(info?.expiresAt !== undefined && info.expiresAt > Date.now() && info.expiresAt <= Date.now() + 400, `expiresAt ${info?.expiresAt}`);
        assert.equal(await r.retrieve('t/exp'), 'gone soon');
        await sleep(600);
        assert.equal(await r.retrieve('t/exp'), undefined);
        assert.deepEqual(await r.retrieveMany(['t/exp', 't/keep']), [undefined, 'stays']);
        assert.equal(await r.contains('t/exp'), false);
        assert.equal(await r.inspect('t/exp'), undefined);
        assert.equal(await r.count(), 1);
        assert.equal(await r.count('t/'), 1);
        assert.deepEqual(await allKeys(r), ['t/keep']);
        assert.deepEqual((await r.children('', '/')).items, [{ kind: 'folder', key: 't/' }]);
        assert.deepEqual((await r.children('t/', '/')).items, [{ kind: 'key', key: 't/keep' }]);
        assert.equal(await r.remove('t/exp'), false);
        await expectCode(r.rename('t/exp', 't/x'), 'NOT_FOUND');
        await r.rename('t/keep', 't/exp'); // an expired target does not block a rename
      });
      it('an expired folder disappears from children', async () => {
        await r.storeMany([
          { key: 'gone/a', value: '1', ttlMs: 200 },
          { key: 'gone/b', value: '1', ttlMs: 200 },
          { key: 'here', value: '1' },
        ]);
        assert.equal((await r.children('', '/')).items.length, 2);
        await sleep(500);
        assert.deepEqual((await r.children('', '/')).items, [{ kind: 'key', key: 'here' }]);
        assert.equal(await r.removePrefix('gone/'), 0);
      });
      it('storing again without ttlMs makes the key permanent; setTtl sets and clears', async () => {
        await r.store('k', 'v1', { ttlMs: 200 });
        await r.store('k', 'v2');
        assert.equal((await r.inspect('k'))?.expiresAt, undefined);
        await r.setTtl('k', 250);
        assert.ok((await r.inspect('k'))?.expiresAt !== undefined);
        await r.setTtl('k', undefined);
        assert.equal((await r.inspect('k'))?.expiresAt, undefined);
        await r.setTtl('k', 200);
        await r.store('k2', 'v', { ttlMs: 200 });
        await r.setTtl('k2', undefined);
        await sleep(450);
        assert.equal(await r.retrieve('k'), undefined);
        assert.equal(await r.retrieve('k2'), 'v');
        await expectCode(r.setTtl('k', 1000), 'NOT_FOUND');
        await expectCode(r.setTtl('k2', 0), 'INVALID_VALUE');
      });
      it('rename and renamePrefix keep the expiry', async () => {
        await r.store('a/1', 'v', { ttlMs: 60_000 });
        await r.rename('a/1', 'b/1');
        const e1 = (await r.inspect('b/1'))?.expiresAt;
        assert.ok(e1 !== undefined && e1 > Date.now() + 50_000);
        await r.renamePrefix('b/', 'c/');
        const e2 = (await r.inspect('c/1'))?.expiresAt;
        assert.ok(e2 !== undefined && Math.abs(e2 - e1) < 1000);
      });
    });

    describe('events', () => {
      it('reports each local change once, with origin local', async () => {
        const seen: RegistryChange[] = [];
        const sub = r.onDidChange((c) => seen.push(c));
        await r.store('e/1', 'v');
        await r.remove('e/1');
        await r.remove('e/1'); // nothing removed: no event
        await r.storeMany([{ key: 'e/2', value: 'v' }]);
        await r.rename('e/2', 'e/3');
        await r.renamePrefix('e/', 'f/');
        await r.removePrefix('f/');
        await r.store('z', 'v');
        await r.removePrefix('');
        await r.removePrefix('none'); // nothing removed: no event
        await sleep(50);
        const local = seen.filter((c) => c.origin === 'local');
        assert.deepEqual(local, [
          { kind: 'store', key: 'e/1', origin: 'local' },
          { kind: 'remove', key: 'e/1', origin: 'local' },
          { kind: 'store', key: 'e/2', origin: 'local' },
          { kind: 'rename', from: 'e/2', to: 'e/3', origin: 'local' },
          { kind: 'rename', from: 'e/', to: 'f/', prefix: 'e/', origin: 'local' },
          { kind: 'removePrefix', prefix: 'f/', origin: 'local' },
          { kind: 'store', key: 'z', origin: 'local' },
          { kind: 'clear', origin: 'local' },
        ]);
        sub.dispose();
        await r.store('after', 'dispose');
        assert.equal(seen.filter((c) => c.origin === 'local').length, 8);
      });
      it('a throwing listener does not break the caller or other listeners', async () => {
        const seen: string[] = [];
        r.onDidChange(() => {
          throw new Error('listener bug');
        });
        r.onDidChange((c) => seen.push(c.key ?? ''));
        await r.store('k', 'v');
        assert.deepEqual(seen, ['k']);
      });
      // Only backends that a second client can share (PostgreSQL, Redis) have external changes;
      // a second sqlite writer is refused by design (see test/sqlite/files.test.ts).
      const openPeer = harness.openPeer;
      if (openPeer) {
        it('reports changes made by another client with origin external', async function () {
          const peer = await openPeer(r);
          opened.push(peer);
          const seen: RegistryChange[] = [];
          r.onDidChange((c) => seen.push(c));
          await sleep(100);
          await peer.store('ext/key', 'from peer');
          const deadline = Date.now() + 1500;
          while (Date.now() < deadline && !seen.some((c) => c.origin === 'external' && (c.key === 'ext/key' || c.kind === 'clear'))) {
            await sleep(25);
          }
          assert.ok(
            seen.some((c) => c.origin === 'external' && (c.key === 'ext/key' || c.kind === 'clear')),
            `no external event within 1.5 s: ${JSON.stringify(seen)}`,
          );
          assert.equal(await r.retrieve('ext/key'), 'from peer');
          assert.ok(!seen.some((c) => c.origin === 'local'), 'the peer change is not reported as local');
        });
      }
    });

    describe('describe and close', () => {
      it('describes itself', async () => {
        const d = r.describe();
        assert.equal(d.backend, name);
        assert.equal(typeof d.location, 'string');
        assert.ok(d.location.length > 0);
        assert.equal(d.readOnly, false);
        assert.equal(d.state, 'open');
      });
      it('fails every call after close with CLOSED', async () => {
        await r.store('k', 'v');
        await r.close();
        await r.close(); // twice is fine
        const calls: (() => Promise<unknown>)[] = [
          () => r.store('k', 'v'),
          () => r.retrieve('k'),
          () => r.retrieveMany(['k']),
          () => r.remove('k'),
          () => r.contains('k'),
          () => r.inspect('k'),
          () => r.list(),
          () => r.children('', '/'),
          () => r.count(),
          () => r.storeMany([{ key: 'k', value: 'v' }]),
          () => r.removePrefix(''),
          () => r.rename('k', 'j'),
          () => r.renamePrefix('k', 'j'),
          () => r.setTtl('k', 100),
        ];
        for (const call of calls) {
          await expectCode(call, 'CLOSED');
        }
        assert.equal(r.describe().state, 'closed');
      });
    });

    describe('model-based', () => {
      it('agrees with a trivially correct model over thousands of random operations', async function () {
        this.timeout(180_000);
        const seed = Number(process.env.NAUTILUS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
        const next = rng(seed);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
        const segs = ['a', 'b', 'é', '😀', '%', '_', 'a/b', '', 'z\uFFFD'];
        const randKey = () => {
          const n = 1 + Math.floor(next() * 3);
          return Array.from({ length: n }, () => pick(segs)).join('/') || 'root';
        };
        const model = new Map<string, string>();
        const ops = harness.modelOps ?? 3000;
        let step = 0;
        let op = '';
        try {
          for (step = 0; step < ops; step++) {
            const roll = next();
            if (roll < 0.3) {
              const k = randKey();
              const v = `v${step}`;
              op = `store ${JSON.stringify(k)}`;
              await r.store(k, v);
              model.set(k, v);
            } else if (roll < 0.38) {
              const entries = Array.from({ length: 1 + Math.floor(next() * 5) }, (_, i) => ({ key: randKey(), value: `m${step}.${i}` }));
              op = `storeMany ${JSON.stringify(entries.map((e) => e.key))}`;
              await r.storeMany(entries);
              entries.forEach((e) => model.set(e.key, e.value));
            } else if (roll < 0.5) {
              const k = randKey();
              op = `remove ${JSON.stringify(k)}`;
              assert.equal(await r.remove(k), model.delete(k));
            } else if (roll < 0.58) {
              const from = randKey();
              const to = randKey();
              const overwrite = next() < 0.5;
              op = `rename ${JSON.stringify(from)} -> ${JSON.stringify(to)} overwrite=${overwrite}`;
              const expectErr = !model.has(from) ? 'NOT_FOUND' : from !== to && model.has(to) && !overwrite ? 'ALREADY_EXISTS' : undefined;
              if (expectErr) {
                await expectCode(r.rename(from, to, { overwrite }), expectErr);
              } else {
                await r.rename(from, to, { overwrite });
                const v = model.get(from)!;
                model.delete(from);
                model.set(to, v);
              }
            } else if (roll < 0.62) {
              const from = pick(segs) + '/';
              const to = pick(['x/', 'a/', 'b/b/', '']);
              const overwrite = next() < 0.5;
              op = `renamePrefix ${JSON.stringify(from)} -> ${JSON.stringify(to)} overwrite=${overwrite}`;
              const moving = [...model.keys()].filter((k) => k.startsWith(from));
              const targets = moving.map((k) => to + k.slice(from.length));
              const conflict = from !== to && !overwrite && targets.some((t) => !t.startsWith(from) && model.has(t));
              if (from !== to && targets.includes('')) {
                // a key equal to the prefix would become the empty key: refused before anything moves
                await expectCode(r.renamePrefix(from, to, { overwrite }), 'INVALID_KEY');
              } else if (conflict) {
                await expectCode(r.renamePrefix(from, to, { overwrite }), 'ALREADY_EXISTS');
              } else {
                assert.equal(await r.renamePrefix(from, to, { overwrite }), moving.length);
                if (from !== to) {
                  const values = moving.map((k) => model.get(k)!);
                  moving.forEach((k) => model.delete(k));
                  targets.forEach((t, i) => model.set(t, values[i]));
                }
              }
            } else if (roll < 0.64) {
              const p = pick(segs);
              op = `removePrefix ${JSON.stringify(p)}`;
              const gone = [...model.keys()].filter((k) => k.startsWith(p));
              assert.equal(await r.removePrefix(p), gone.length);
              gone.forEach((k) => model.delete(k));
            } else if (roll < 0.74) {
              const k = randKey();
              op = `retrieve/contains ${JSON.stringify(k)}`;
              assert.equal(await r.retrieve(k), model.get(k));
              assert.equal(await r.contains(k), model.has(k));
            } else if (roll < 0.82) {
              const p = pick(['', ...segs]);
              const limit = 1 + Math.floor(next() * 7);
              const after = next() < 0.5 ? randomCursor(next, randKey) : undefined;
              op = `list prefix=${JSON.stringify(p)} limit=${limit} after=${JSON.stringify(after)}`;
              if (after !== undefined && !isValidCursor(after)) {
                await expectCode(r.list({ prefix: p, after, limit }), 'INVALID_KEY');
              } else {
                const expected = byteSorted([...model.keys()].filter((k) => k.startsWith(p) && (after === undefined || byteCompare(k, after) > 0)));
                assert.deepEqual(await allKeys(r, p, limit, after), expected);
              }
              assert.equal(await r.count(p), [...model.keys()].filter((k) => k.startsWith(p)).length);
            } else if (roll < 0.95) {
              const p = pick(['', 'a/', 'b/', 'é/', 'a/b/', '😀/', '%/', 'a']);
              const sep = pick(['/', '/', '/', 'b', '😀']);
              const limit = 1 + Math.floor(next() * 5);
              const after = next() < 0.5 ? randomCursor(next, randKey) : undefined;
              op = `children prefix=${JSON.stringify(p)} sep=${JSON.stringify(sep)} limit=${limit} after=${JSON.stringify(after)}`;
              if (after !== undefined && !isValidCursor(after)) {
                await expectCode(r.children(p, sep, { after, limit }), 'INVALID_KEY');
              } else {
                const expected = referenceChildren(model.keys(), p, sep).filter((item) => after === undefined || byteCompare(item.key, after) > 0);
                assert.deepEqual(await allChildren(r, p, sep, limit, after), expected);
              }
            } else {
              const ks = Array.from({ length: 4 }, randKey);
              op = `retrieveMany ${JSON.stringify(ks)}`;
              assert.deepEqual(await r.retrieveMany(ks), ks.map((k) => model.get(k)));
            }
          }
          op = 'final full comparison';
          assert.deepEqual(await allKeys(r), byteSorted(model.keys()));
          assert.deepEqual(await r.retrieveMany([...model.keys()]), [...model.values()]);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new Error(`model-based test failed at step ${step} (${op}); replay with NAUTILUS_TEST_SEED=${seed}\n${msg}`);
        }
      });
    });
  });
}
