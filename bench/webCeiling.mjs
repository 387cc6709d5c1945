// How large a sql.js database can grow in Chromium before allocation fails (issue 11's size
// ceiling, measured in the browser): `node bench/webCeiling.mjs` (after `npm run compile`; about a
// minute, needs ~2x the ceiling in free RAM). sql.js runs in a dedicated Web Worker - what the web
// worker extension host is - and grows a file-backed database (as the registry opens it) by
// WEB_CEILING_STEP_MIB of 1 MiB rows per transaction until a step fails or WEB_CEILING_CAP_MIB is
// reached; at every WEB_CEILING_EXPORT_MIB it also exports the database once (what a compaction does).
// Prints one JSON line. The browser is closed on every path, with a hard timeout.
import * as esbuild from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser } from '../test/harness/browser.mjs';
import { root } from './lib.mjs';

const STEP_MIB = Number(process.env.WEB_CEILING_STEP_MIB ?? 64);
const CAP_MIB = Number(process.env.WEB_CEILING_CAP_MIB ?? 6144);
const EXPORT_MIB = Number(process.env.WEB_CEILING_EXPORT_MIB ?? 512);
const TIMEOUT_MS = Number(process.env.WEB_CEILING_TIMEOUT_MS ?? 300_000);

const workerSource = `
import initSqlJs from 'sql.js';
self.onmessage = async ({ data: { wasm, stepMiB, capMiB, exportMiB } }) => {
  const report = (m) => self.postMessage(m);
  let db;
  let mib = 0;
  let exported = 0;
  try {
    const SQL = await initSqlJs({ wasmBinary: wasm });
    db = new SQL.Database();
    db.run('CREATE TABLE t(v BLOB)');
    const sql = 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ' + stepMiB + ') INSERT INTO t(v) SELECT zeroblob(1048576) FROM c';
    while (mib < capMiB) {
      db.run('BEGIN');
      db.run(sql);
      db.run('COMMIT');
      const size = db.exec('PRAGMA page_count')[0].values[0][0] * db.exec('PRAGMA page_size')[0].values[0][0];
      mib = Math.floor(size / 2 ** 20);
      if (Math.floor(mib / exportMiB) > Math.floor(exported / exportMiB)) {
        let bytes = db.export();
        bytes = undefined;
        exported = mib;
      }
      report({ progress: mib, exported });
    }
    report({ done: true, mib, exported, failure: null });
  } catch (err) {
    report({ done: true, mib, exported, failure: String(err && err.message || err) });
  }
};`;

async function main() {
  const built = await esbuild.build({
    stdin: { contents: workerSource, resolveDir: root, loader: 'js' },
    bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', logLevel: 'warning',
  });
  const js = built.outputFiles[0].contents;
  const wasm = readFileSync(path.join(root, 'dist', 'sql-wasm.wasm'));
  const server = createServer((req, res) => {
    const isJs = req.url === '/worker.js';
    res.writeHead(200, { 'content-type': isJs ? 'text/javascript' : 'text/html' });
    res.end(isJs ? js : '<!doctype html><title>ceiling</title>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scratch = mkdtempSync(path.join(tmpdir(), 'nautilus-web-ceiling-'));
  const browser = await launchBrowser(scratch);
  const started = Date.now();
  try {
    const { page } = browser;
    page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.evaluate(([wasmB64, stepMiB, capMiB, exportMiB]) => {
      const wasm = Uint8Array.from(atob(wasmB64), (c) => c.charCodeAt(0));
      window.ceiling = { progress: 0, exported: 0, result: undefined };
      const worker = new Worker('/worker.js');
      worker.onmessage = ({ data }) => {
        if (data.done) { window.ceiling.result = data; worker.terminate(); } else { window.ceiling.progress = data.progress; window.ceiling.exported = data.exported; }
      };
      worker.onerror = (e) => { window.ceiling.result = { done: true, mib: window.ceiling.progress, exported: window.ceiling.exported, failure: 'worker error: ' + (e.message || 'crashed') }; };
      worker.postMessage({ wasm, stepMiB, capMiB, exportMiB });
    }, [wasm.toString('base64'), STEP_MIB, CAP_MIB, EXPORT_MIB]);
    let last = -1;
    while (Date.now() - started < TIMEOUT_MS) {
      const state = await page.evaluate(() => window.ceiling);
      if (state.progress !== last) { process.stderr.write(`${Math.round((Date.now() - started) / 1000)} s: ${state.progress} MiB (export ok at ${state.exported})\n`); last = state.progress; }
      if (state.result) {
        return { ...state.result, userAgent: await page.evaluate(() => navigator.userAgent), seconds: Math.round((Date.now() - started) / 1000) };
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    return { done: false, mib: last, exported: (await page.evaluate(() => window.ceiling)).exported, failure: `timed out after ${TIMEOUT_MS} ms` };
  } finally {
    await browser.close();
    server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

console.log(JSON.stringify(await main()));
