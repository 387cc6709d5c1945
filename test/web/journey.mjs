// UI journey in VS Code for the Web's runtime: the PACKAGED .vsix (the same one the desktop uses)
// installed into code-server, with the user setting remote.extensionKind = ["web"] so that it runs
// in the browser's web worker extension host (dist/web/extension.js), as on vscode.dev. Chromium
// is driven by playwright-core; screenshots go to test-results/web/NN-name.png.
//
//   1 open the view: the empty registry, in the web worker host (no Node)
//   2 Store Key from the palette; the key shows in the tree
//   3 reload the page; the key is still there (sqlite in the storage folder via vscode.workspace.fs)
//   4 a second tab on the same workspace: it shows the keys read-only, and says so
//   5 Connect to PostgreSQL…: one clear line says it needs VS Code Desktop or a Remote window
//
// Prints one line per step and `web UI journey: N passed, N failed`; exits non-zero on a failure.
// Usage: node test/web/journey.mjs [--keep] [--update-screenshots]
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../harness/browser.mjs';
import { makeRunDir, startCodeServer } from '../harness/codeServer.mjs';
import { makeLogger, repoRoot, testResultsDir } from '../harness/env.mjs';
import { ensureRuntime } from '../harness/install.mjs';
import { packageVsix } from '../../scripts/packageVsix.mjs';
import { Workbench, loadManifest } from '../e2e/workbench.mjs';

const log = makeLogger('web-ui');
const shotsDir = path.join(testResultsDir, 'web');
const EXTENSION_ID = 'nautilus.nautilus-registry';

/** The registry's files in the run's workspace storage (the web seam's names: registry.sqlite.g<N>...). */
function storageFiles(runDir) {
  const root = path.join(runDir, 'ud', 'User', 'workspaceStorage');
  if (!existsSync(root)) {
    return [];
  }
  return readdirSync(root, { recursive: true }).map(String).filter((f) => f.includes(EXTENSION_ID) && /registry\.sqlite/.test(f));
}

async function main() {
  const t0 = Date.now();
  ensureRuntime();
  mkdirSync(shotsDir, { recursive: true });
  for (const f of readdirSync(shotsDir)) {
    rmSync(path.join(shotsDir, f), { force: true });
  }
  const manifest = loadManifest(repoRoot);
  const runDir = makeRunDir('web-ui');
  const vsix = packageVsix(path.join(runDir, 'nautilus-registry.vsix'));
  const workspace = path.join(runDir, 'project');
  mkdirSync(workspace);
  writeFileSync(path.join(workspace, 'README.md'), '# A project\n\nOpened in VS Code for the Web.\n');
  const server = await startCodeServer({
    name: 'web-ui',
    runDir,
    folder: workspace,
    vsix: [vsix],
    settings: {
      'workbench.colorTheme': 'Default Dark Modern',
      'window.commandCenter': true,
      'remote.extensionKind': { [EXTENSION_ID]: ['web'] },
    },
  });
  log(`code-server ${server.url} with ${path.basename(vsix)} installed, forced into the web worker host (run folder ${path.relative(repoRoot, runDir)})`);
  const browser = await launchBrowser(runDir, { viewport: { width: 1440, height: 900 } });
  const { page } = browser;
  const hostLines = [];
  page.on('console', (m) => {
    if (process.env.VERBOSE) {
      console.log(`  [page ${m.type()}] ${m.text().slice(0, 300)}`);
    }
    hostLines.push(m.text());
  });
  const wb = new Workbench(page, manifest, log);
  const C = (name) => `nautilusRegistry.${name}`;
  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}`;
  const results = [];
  let second;

  const steps = [
    ['welcome', 'open the view: the empty registry, in the web worker extension host', async () => {
      await page.goto(url);
      await wb.waitReady();
      await wb.openView();
      await wb.resizeSidebar(470);
      await wb.poll(async () => (await wb.welcome().first().locator('.monaco-button').allInnerTexts()).some((b) => /add key|store key/i.test(b)), {
        timeout: 45_000,
        what: 'the empty-registry welcome',
      });
      // Where the extension runs: the Running Extensions editor names the host (its list is
      // virtualized and sorted by activation time: go to its end to render our row).
      await wb.runCommand('Developer: Show Running Extensions');
      const list = page.locator('.runtime-extensions-editor .monaco-list').first();
      await list.waitFor({ timeout: 20_000 });
      const row = page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'Nautilus Registry' }).first();
      for (let i = 0; i < 3 && !(await row.isVisible()); i++) {
        await page.locator('.runtime-extensions-editor .monaco-list-row').first().click();
        await page.keyboard.press('End');
        await wb.poll(() => row.isVisible(), { timeout: 3000, what: 'our row' }).catch(() => false);
      }
      const text = (await row.innerText({ timeout: 5000 })).replace(/\s+/g, ' ');
      log(`running extensions: ${JSON.stringify(text.slice(0, 200))}`);
      if (!/web worker/i.test(text)) {
        throw new Error(`the Running Extensions row does not say Web Worker: ${JSON.stringify(text)}`);
      }
      await wb.shot(path.join(shotsDir, '01-web-worker-host.png'));
      // The editor opens as a modal over the workbench: Escape closes it.
      for (let i = 0; i < 3 && (await list.isVisible()); i++) {
        await page.keyboard.press('Escape');
        await wb.poll(async () => !(await list.isVisible()), { timeout: 2000, what: 'Running Extensions to close' }).catch(() => false);
      }
    }],
    ['store-key', 'Store Key from the palette; it shows in the tree', async () => {
      await wb.runCommand(C('store'));
      await wb.answer('web/greeting', { expect: /key/i });
      await wb.answer('hello from a browser tab', { expect: /value/i });
      await wb.waitQuickInputClosed();
      await wb.poll(async () => (await wb.row('Folder web/').count()) > 0, { what: 'folder web/ in the tree' });
      if ((await wb.row('Key web/greeting').count()) === 0) {
        await wb.expand('Folder web/');
      }
      const desc = await wb.poll(() => wb.rowDescription('Key web/greeting'), { what: 'key web/greeting with a preview' });
      if (desc !== 'hello from a browser tab') {
        throw new Error(`preview of web/greeting is ${JSON.stringify(desc)}`);
      }
      const files = storageFiles(runDir);
      log(`storage files: ${JSON.stringify(files.map((f) => path.basename(f)))}`);
      if (!files.some((f) => /registry\.sqlite\.nautilus-log\.g\d+\.s\d+$/.test(f))) {
        throw new Error('the store wrote no journal segment in the workspace storage folder');
      }
      await wb.shot(path.join(shotsDir, '02-stored.png'));
    }],
    ['reload', 'reload the page; the key is still there', async () => {
      await page.reload();
      await wb.waitReady();
      await wb.openView();
      await wb.resizeSidebar(470);
      await wb.poll(async () => (await wb.row('Folder web/').count()) > 0, { timeout: 45_000, what: 'folder web/ after the reload' });
      await wb.expand('Folder web/');
      const desc = await wb.poll(() => wb.rowDescription('Key web/greeting'), { what: 'key web/greeting after the reload' });
      if (desc !== 'hello from a browser tab') {
        throw new Error(`after the reload the preview is ${JSON.stringify(desc)}`);
      }
      await wb.shot(path.join(shotsDir, '03-after-reload.png'));
    }],
    ['second-tab', 'a second tab on the same workspace shows the keys read-only and says so', async () => {
      second = await browser.context.newPage();
      const wb2 = new Workbench(second, manifest, log);
      await second.goto(url);
      await wb2.waitReady();
      await wb2.openView();
      await wb2.resizeSidebar(470);
      await wb2.poll(async () => (await wb2.row('Folder web/').count()) > 0, { timeout: 45_000, what: 'folder web/ in the second tab' });
      const status = await wb2.poll(async () => {
        const items = await second.locator('.part.statusbar .statusbar-item').allInnerTexts();
        return items.find((t) => /read-only/i.test(t));
      }, { timeout: 20_000, what: 'the status bar to say read-only' });
      log(`second tab status bar: ${JSON.stringify(status)}`);
      const message = (await second.locator('.part.sidebar .tree-explorer-viewlet-tree-view-message, .part.sidebar .message').first().innerText().catch(() => '')).replace(/\s+/g, ' ');
      log(`second tab view message: ${JSON.stringify(message)}`);
      if (!/another browser tab or window/.test(message) || message.split('Read-only').length !== 2) {
        throw new Error(`the view should say once why it is read-only: ${JSON.stringify(message)}`);
      }
      await wb2.expand('Folder web/');
      const storeAction = second.locator('.part.sidebar .title-actions .action-label[aria-label^="Store Key"]');
      await wb2.poll(async () => (await storeAction.count()) === 0, { timeout: 10_000, what: 'the view title to drop Store Key (read-only)' }).catch(async (err) => {
        await second.screenshot({ path: path.join(shotsDir, 'failed-second-tab-page.png') });
        throw err;
      });
      await wb2.shot(path.join(shotsDir, '04-second-tab-read-only.png'));
      await second.close();
      second = undefined;
    }],
    ['postgres', 'Connect to PostgreSQL… says in one line that it needs the desktop or a Remote window', async () => {
      await page.bringToFront();
      await wb.clearToasts();
      await wb.runCommand(C('connectPostgres'));
      const toast = await wb.poll(async () => (await wb.toasts()).find((t) => /PostgreSQL/.test(t)), { what: 'a message about PostgreSQL' });
      log(`toast: ${JSON.stringify(toast)}`);
      if (!/needs a network connection.*VS Code Desktop or a Remote window/.test(toast)) {
        throw new Error(`the message is ${JSON.stringify(toast)}`);
      }
      if ((await wb.quickInputTitle()) !== '') {
        throw new Error('a URL prompt opened although the connection cannot be made here');
      }
      await wb.shot(path.join(shotsDir, '05-postgres-needs-desktop.png'));
    }],
  ];

  try {
    for (const [name, title, fn] of steps) {
      const ts = Date.now();
      try {
        await fn();
        results.push({ name, ok: true });
        console.log(`  ✔ ${title} (${((Date.now() - ts) / 1000).toFixed(1)} s)`);
      } catch (err) {
        results.push({ name, ok: false });
        console.log(`  ✘ ${title}: ${err instanceof Error ? err.message : String(err)}`);
        await page.screenshot({ path: path.join(shotsDir, `failed-${name}.png`) }).catch(() => {});
        break;
      }
    }
  } finally {
    await second?.close().catch(() => {});
    await browser.close();
    await server.stop();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = steps.length - passed;
  const ok = failed === 0;
  if (ok && process.argv.includes('--update-screenshots')) {
    copyFileSync(path.join(shotsDir, '03-after-reload.png'), path.join(repoRoot, 'media', 'screenshots', 'web.png'));
    log('media/screenshots/web.png <- 03-after-reload.png');
  }
  if (ok && !process.argv.includes('--keep')) {
    rmSync(runDir, { recursive: true, force: true });
  }
  console.log(`web UI journey: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[web-ui] FAILED: ${err instanceof Error ? err.stack : err}`);
    console.log('web UI journey: 0 passed, 1 failed');
    process.exit(1);
  },
);
