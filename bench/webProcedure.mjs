// The measurement behind the web rows of `npm run bench` (bench/web.mjs), run the same way by the
// Node build (dist/registry.js, Node's file seam with fdatasync) and in Chromium (the browser bundle,
// the web file seam over the origin private file system). No Node import: it is bundled for the browser.

/** The same keys and values as bench/lib.mjs (a ~200-byte value, 50 folders). */
const valueFor = (i) => `{"id":${i},"payload":"${'v'.repeat(170)}","n":${i % 97}}`;
const keyFor = (i) => `bench/f${String(i % 50).padStart(2, '0')}/k${String(i).padStart(6, '0')}`;

/**
 * For each size: fill a registry, close it; then time opening it to the first children() (what
 * the tree shows first), and durable single stores (each awaited) for at least `minMs`.
 * @param {(n: number) => object} configFor the sqlite config of the registry for size n
 */
export async function measure(openRegistry, configFor, sizes, { minMs = 1000, log = () => {} } = {}) {
  const rows = [];
  for (const n of sizes) {
    const fill = await openRegistry(configFor(n));
    for (let i = 0; i < n; i += 10_000) {
      const chunk = [];
      for (let j = i; j < Math.min(n, i + 10_000); j++) {
        chunk.push({ key: keyFor(j), value: valueFor(j) });
      }
      await fill.storeMany(chunk);
    }
    await fill.close();
    const t0 = performance.now();
    const reg = await openRegistry(configFor(n));
    const first = await reg.children('bench/', '/', { limit: 100 });
    const openMs = performance.now() - t0;
    if (first.items.length === 0) {
      throw new Error(`no children after reopening ${n} keys`);
    }
    for (let i = 0; i < 20; i++) {
      await reg.store(`bench/warm/${i}`, valueFor(i));
    }
    let k = 0;
    const s0 = performance.now();
    while (k < 50 || performance.now() - s0 < minMs) {
      await reg.store(`bench/new/${String(k).padStart(6, '0')}`, valueFor(k));
      k++;
    }
    const storesPerSec = (k * 1000) / (performance.now() - s0);
    await reg.close();
    log(`n=${n}: open → first children ${openMs.toFixed(0)} ms, durable store ${storesPerSec.toFixed(0)}/s`);
    rows.push({ n, openMs, storesPerSec });
  }
  return rows;
}
