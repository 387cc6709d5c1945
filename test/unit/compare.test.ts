import * as assert from 'node:assert/strict';
import { comparePage } from '../../src/extension/compare/compare';
import type { ComparePage, DiffEntry } from '../../src/extension/compare/compare';
import { openRegistry } from '../../src/registry';
import type { RegistryStorage } from '../../src/registry';
import { rng } from '../support/random';

async function allPages(left: { registry: RegistryStorage; prefix: string }, right: { registry: RegistryStorage; prefix: string }, limit: number): Promise<{ entries: DiffEntry[]; pages: ComparePage[] }> {
  const pages: ComparePage[] = [];
  let after: string | undefined;
  do {
    const page = await comparePage(left, right, { after, limit, chunk: 97 });
    pages.push(page);
    after = page.next;
  } while (after !== undefined);
  return { entries: pages.flatMap((p) => p.entries), pages };
}

describe('compare two folders (no vscode)', () => {
  let a: RegistryStorage;
  let b: RegistryStorage;
  beforeEach(async () => {
    a = await openRegistry({ backend: 'memory' });
    b = await openRegistry({ backend: 'memory' });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('lists keys only left, only right and different, relative to each folder, in key order', async () => {
    await a.storeMany([
      { key: 'team/api/url', value: 'x' },
      { key: 'team/api/timeout', value: '30' },
      { key: 'team/only-left', value: 'l' },
      { key: 'elsewhere', value: 'ignored' },
    ]);
    await b.storeMany([
      { key: 'prod/api/url', value: 'x' },
      { key: 'prod/api/timeout', value: '60' },
      { key: 'prod/only-right', value: 'r' },
    ]);
    const page = await comparePage({ registry: a, prefix: 'team/' }, { registry: b, prefix: 'prod/' });
    assert.deepEqual(page.entries, [
      { kind: 'different', rel: 'api/timeout' },
      { kind: 'left', rel: 'only-left' },
      { kind: 'right', rel: 'only-right' },
    ]);
    assert.equal(page.next, undefined);
    assert.equal(page.scanned.same, 1);
  });

  it('pages agree with a reference on random data (small pages, small chunks)', async () => {
    const next = rng(42);
    const ref = new Map<string, DiffEntry['kind']>();
    const left: { key: string; value: string }[] = [];
    const right: { key: string; value: string }[] = [];
    for (let i = 0; i < 3000; i++) {
      const k = `k${Math.floor(next() * 1e6).toString(36)}/${i % 7}`;
      const roll = next();
      if (roll < 0.2) {
        left.push({ key: `L/${k}`, value: 'v' });
        ref.set(k, 'left');
      } else if (roll < 0.4) {
        right.push({ key: `R/${k}`, value: 'v' });
        ref.set(k, 'right');
      } else if (roll < 0.5) {
        left.push({ key: `L/${k}`, value: 'a' });
        right.push({ key: `R/${k}`, value: 'b' });
        ref.set(k, 'different');
      } else {
        left.push({ key: `L/${k}`, value: 'same' });
        right.push({ key: `R/${k}`, value: 'same' });
      }
    }
    await a.storeMany(left);
    await b.storeMany(right);
    const { entries, pages } = await allPages({ registry: a, prefix: 'L/' }, { registry: b, prefix: 'R/' }, 50);
    assert.ok(pages.length > 10);
    assert.deepEqual(
      entries.map((e) => `${e.kind}:${e.rel}`).sort(),
      [...ref].map(([k, kind]) => `${kind}:${k}`).sort(),
    );
    const rels = entries.map((e) => e.rel);
    assert.equal(new Set(rels).size, rels.length, 'no entry twice across pages');
  });

  it('100,000 keys: the first page comes after reading only as far as it needs; ratio to a full listing printed', async function () {
    this.timeout(120_000);
    const n = 100_000;
    const entries = Array.from({ length: n }, (_, i) => ({ key: `big/${String(i).padStart(6, '0')}`, value: `v${i}` }));
    await a.storeMany(entries);
    // Every 500th key differs, every 1000th is missing on the right.
    await b.storeMany(entries.filter((_, i) => i % 1000 !== 999).map((e, i) => (i % 500 === 0 ? { ...e, value: 'changed' } : e)));
    let t = performance.now();
    const first = await comparePage({ registry: a, prefix: 'big/' }, { registry: b, prefix: 'big/' }, { limit: 50 });
    const firstMs = performance.now() - t;
    assert.ok(first.entries.length >= 50, 'a page holds at least the limit (the last chunk of shared keys is settled whole)');
    assert.ok(first.scanned.left < n / 2, `the first page read ${first.scanned.left} keys of ${n}`);
    t = performance.now();
    let after: string | undefined;
    let total = 0;
    do {
      const page = await comparePage({ registry: a, prefix: 'big/' }, { registry: b, prefix: 'big/' }, { after, limit: 1000 });
      total += page.entries.length;
      after = page.next;
    } while (after !== undefined);
    const fullMs = performance.now() - t;
    t = performance.now();
    let listed = 0;
    let cursor: string | undefined;
    do {
      const page = await a.list({ prefix: 'big/', after: cursor, limit: 1000 });
      listed += page.keys.length;
      cursor = page.next;
    } while (cursor !== undefined);
    const listMs = performance.now() - t;
    assert.equal(listed, n);
    // 100 missing on the right; 200 changed (every 500th of the right side's own order), minus overlaps counted once each.
    const missing = 100;
    assert.ok(total >= missing + 100, `differences found: ${total}`);
    console.log(
      `      compare 100,000 keys (memory): first page of 50 ${firstMs.toFixed(0)} ms, whole comparison ${fullMs.toFixed(0)} ms = ${(fullMs / listMs).toFixed(1)}x one full listing of one side (${listMs.toFixed(0)} ms)`,
    );
  });
});
