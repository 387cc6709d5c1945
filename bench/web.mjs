// Web rows of `npm run bench` (bench/run.mjs imports run()); also runs alone: `node bench/web.mjs`
// (after `npm run compile`). The sqlite registry in Chromium - the browser build of the core on the
// web file seam over the origin private file system (OPFS), its engine in a Web Worker started from
// a blob: URL, as VS Code for the Web runs it - against
// the Node build (dist/registry.js on Node's file seam with fdatasync) in the same run: durable
// single stores at each size and open → first children at the largest, as ratios web / Node.
// Chromium: Debian's, driven by playwright-core (test/harness/browser.mjs); the page is served from
// 127.0.0.1 so that it is a secure context (OPFS, Web Locks).
import * as esbuild from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from '../test/harness/browser.mjs';
import { browserStandIns } from '../scripts/browserStandIns.mjs';
import { registry, root, SIZES, Results } from './lib.mjs';
import { measure } from './webProcedure.mjs';

const MIN_MS = Number(process.env.BENCH_WEB_MIN_MS ?? 1000);
/** BENCH_WEB_ENGINE=inline: the engine on the page's thread (no Web Worker), for comparison. */
const INLINE = process.env.BENCH_WEB_ENGINE === 'inline';

/** One browser script (iife) built in memory, with the browser's stand-ins for Node-only modules. */
async function bundle(entry) {
  const built = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    plugins: [browserStandIns],
    logLevel: 'warning',
  });
  return built.outputFiles[0].contents;
}

async function browserRows(sizes) {
  // The page's script, and the engine's Web Worker script as esbuild.mjs builds dist/web/sqliteThread.js
  // (the page starts it from a blob: URL).
  const js = await bundle(path.join(root, 'bench', 'webEntry.mjs'));
  const engine = await bundle(path.join(root, 'src', 'registry', 'backends', 'sqliteThread.web.ts'));
  const wasm = readFileSync(path.join(root, 'dist', 'sql-wasm.wasm'));
  const server = createServer((req, res) => {
    const body = req.url === '/bench.js' ? js : req.url === '/sqliteThread.js' ? engine : req.url === '/sql-wasm.wasm' ? wasm : Buffer.from('<!doctype html><script src="/bench.js"></script>');
    const type = req.url.endsWith('.js') ? 'text/javascript' : req.url === '/sql-wasm.wasm' ? 'application/wasm' : 'text/html';
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scratch = mkdtempSync(path.join(tmpdir(), 'nautilus-bench-web-'));
  const browser = await launchBrowser(scratch);
  try {
    const { page } = browser;
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => typeof window.benchWeb === 'function');
    return await page.evaluate(([s, m, i]) => window.benchWeb(s, m, i), [sizes, MIN_MS, INLINE]);
  } finally {
    await browser.close();
    server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function nodeRows(sizes) {
  const dir = mkdtempSync(path.join(tmpdir(), 'nautilus-bench-node-'));
  try {
    return await measure(registry.openRegistry, (n) => ({ backend: 'sqlite', file: path.join(dir, `n${n}.sqlite`) }), sizes, { minMs: MIN_MS });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(results, sizes = SIZES) {
  const lo = Math.min(...sizes);
  const hi = Math.max(...sizes);
  const picked = [...new Set([lo, hi])];
  let web;
  try {
    web = await browserRows(picked);
  } catch (err) {
    results.note(`web rows skipped: Chromium could not run the browser build (${String(err?.message ?? err).split('\n')[0]})`);
    return;
  }
  const node = await nodeRows(picked);
  for (const w of web.rows) {
    const nr = node.find((r) => r.n === w.n);
    results.add('web', 'store (durable, 1 at a time)', w.n, w.storesPerSec, nr.storesPerSec, 'Node build');
  }
  const wh = web.rows.find((r) => r.n === hi);
  const nh = node.find((r) => r.n === hi);
  results.add('web', 'open → first children', hi, wh.openMs, nh.openMs, 'Node build', 'ms');
  const wl = web.rows.find((r) => r.n === lo);
  results.note(
    `web: sqlite in Chromium (${/Chrome\/[\d.]+/.exec(web.userAgent)?.[0] ?? 'Chromium'}) on the web file seam over OPFS, engine in ${web.engine}, vs the Node build on Node's fs; ` +
      `durable store at ${hi} keys costs ${(wl.storesPerSec / wh.storesPerSec).toFixed(2)}x its cost at ${lo} in the browser; navigator.locks ${web.locks ? 'present' : 'missing'}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = new Results();
  await run(results);
  console.log(results.notes.join('\n'));
}
