// UI end-to-end suite (`npm run test:e2e`): a newcomer's path through the PACKAGED extension in a
// real VS Code. Packages the .vsix, installs it into a fresh code-server profile with
// --install-extension, and drives Debian's Chromium with playwright-core; every request the browser
// makes to a host other than 127.0.0.1 is aborted (and reported). Each step asserts what is on
// screen and saves a screenshot to test-results/e2e/NN-name.png.
//
//   1 the view shows the empty-registry welcome
//   2 Store Key from the palette; the key appears under team › api
//   3 open the value in an editor, change it, save; the tree's preview follows
//   4 reload the window; the key and its new value are still there
//   5 import 1,000 keys from JSON; page with "Load more…"; filter by prefix
//   6 remove a folder (the confirmation states the count); the keys are gone
//   7 add a PostgreSQL connection (name, password prompt) next to the workspace registry, see the
//     shared keys under its root; an outside change shows up by itself
//   8 drag the workspace's folder team/ onto the PostgreSQL root (Copy here, Skip existing); the rows
//     are in the table (psql); change one there; Compare with… shows the difference and its diff editor
//   9 Add Connection… (backend, name) adds a memory scratchpad as a third root; Remove Connection
//     (context menu, confirmed) takes it away again
//
// Prints one line per step and `UI e2e suite: N passed, N failed`; exits non-zero on a failure.
// Usage: node test/e2e/run.mjs [--keep] [--update-screenshots]   VERBOSE=1 for the page's console
//   --keep               keep the run folder (.vscode-test/runs/e2e-*) even when every step passed
//   --update-screenshots copy the README's screenshots from this run into media/screenshots/
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { launchBrowser } from '../harness/browser.mjs';
import { makeRunDir, startCodeServer } from '../harness/codeServer.mjs';
import { makeLogger, repoRoot, testResultsDir } from '../harness/env.mjs';
import { ensureRuntime } from '../harness/install.mjs';
import { packageVsix } from '../../scripts/packageVsix.mjs';
import { freshDatabase } from './postgres.mjs';
import { Workbench, loadManifest } from './workbench.mjs';

const log = makeLogger('e2e');
const shotsDir = path.join(testResultsDir, 'e2e');
const BULK = 1000;
const PASSWORD = `e2e-${Date.now().toString(36)}-secret`;

function bulkFile(dir) {
  const data = {};
  for (let i = 0; i < BULK; i++) {
    data[`users/user-${String(i).padStart(4, '0')}`] = JSON.stringify({ id: i, name: `User ${i}`, active: i % 3 !== 0 });
  }
  const file = path.join(dir, 'users-1000.json');
  writeFileSync(file, JSON.stringify(data, null, 2));
  return file;
}

/**
 * How many children a folder shows (loaded keys plus "Load more…"): the aria-setsize of its key
 * rows. The list is virtualized, so this is read from whichever child rows are rendered.
 */
async function childSetSize(wb, prefix) {
  return wb.page.evaluate((p) => {
    const rows = [...document.querySelectorAll('.part.sidebar .monaco-list-rows .monaco-list-row')];
    const sizes = rows.filter((r) => (r.getAttribute('aria-label') ?? '').startsWith(`Key ${p}`)).map((r) => Number(r.getAttribute('aria-setsize')));
    return sizes.length ? Math.max(...sizes) : 0;
  }, prefix);
}

/** The screenshots the README shows, copied from a run's test-results/e2e/ when every step passed. */
const README_SHOTS = [
  ['01-welcome.png', 'welcome.png'],
  ['03-edit-value.png', 'edit-value.png'],
  ['05b-load-more.png', 'load-more.png'],
  ['05-import-page-filter.png', 'filter.png'],
  ['06a-confirm-remove.png', 'remove-folder.png'],
  ['07-postgres.png', 'postgres-live.png'],
  ['08a-copied.png', 'two-registries.png'],
  ['08-copy-compare.png', 'compare.png'],
];

/** Rows of the registry table through psql when it is installed (what a user would run), else through pg. */
async function tableRows(url, sql) {
  try {
    const out = execFileSync('psql', [url, '-X', '-A', '-t', '-F', '\t', '-c', sql], { encoding: 'utf8', timeout: 20_000 });
    return { via: 'psql', rows: out.split('\n').filter(Boolean).map((l) => l.split('\t')) };
  } catch (err) {
    if (err.code !== 'ENOENT') {
      throw err;
    }
    const pg = createRequire(import.meta.url)('pg');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return { via: 'pg', rows: (await c.query({ text: sql, rowMode: 'array' })).rows.map((r) => r.map(String)) };
    } finally {
      await c.end();
    }
  }
}

function updateReadmeScreenshots() {
  const dir = path.join(repoRoot, 'media', 'screenshots');
  mkdirSync(dir, { recursive: true });
  for (const [from, to] of README_SHOTS) {
    copyFileSync(path.join(shotsDir, from), path.join(dir, to));
    log(`media/screenshots/${to} <- ${from}`);
  }
}

async function main() {
  const t0 = Date.now();
  ensureRuntime();
  mkdirSync(shotsDir, { recursive: true });
  for (const f of readdirSync(shotsDir)) {
    if (f.endsWith('.png')) {
      rmSync(path.join(shotsDir, f));
    }
  }
  const manifest = loadManifest(repoRoot);
  if (!manifest.container) {
    throw new Error('package.json contributes no activity-bar view container yet');
  }
  const runDir = makeRunDir('e2e');
  const vsix = packageVsix(path.join(runDir, 'nautilus-registry.vsix'));
  const workspace = path.join(runDir, 'project');
  mkdirSync(workspace);
  writeFileSync(path.join(workspace, 'README.md'), '# A project\n\nA workspace for the Nautilus Registry UI tests.\n');
  const importFile = bulkFile(workspace);

  const server = await startCodeServer({
    name: 'e2e',
    runDir,
    folder: workspace,
    vsix: [vsix],
    settings: { 'workbench.colorTheme': 'Default Dark Modern', 'window.commandCenter': true },
  });
  log(`code-server ${server.url} with ${path.basename(vsix)} installed (run folder ${path.relative(repoRoot, runDir)})`);
  const browser = await launchBrowser(runDir, { viewport: { width: 1440, height: 900 } });
  const { page } = browser;
  const consoleErrors = [];
  page.on('console', (m) => {
    if (process.env.VERBOSE) {
      console.log(`  [page ${m.type()}] ${m.text().slice(0, 300)}`);
    }
    if (m.type() === 'error') {
      consoleErrors.push(m.text());
    }
  });
  const wb = new Workbench(page, manifest, log);
  /** A command id of the extension (its palette title comes from package.json). */
  const C = (name) => `nautilusRegistry.${name}`;
  let db;
  const results = [];

  const steps = [
    ['welcome', 'open the Nautilus Registry view: the empty-registry welcome is shown', async () => {
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
      await wb.waitReady();
      await wb.openView();
      await wb.resizeSidebar(470);
      const welcome = wb.welcome().first();
      // "Connecting to the registry…" comes first; then the empty-registry welcome with its buttons.
      const seen = new Set();
      const buttons = await wb.poll(async () => {
        const b = (await welcome.locator('.monaco-button').allInnerTexts()).map((x) => x.trim());
        seen.add((await welcome.innerText().catch(() => '')).split('\n')[0]);
        return b.some((x) => /add key|store key/i.test(x)) ? b : undefined;
      }, { timeout: 30_000, what: 'the empty-registry welcome' }).catch((err) => {
        throw new Error(`${err.message}; welcome texts seen: ${JSON.stringify([...seen])}`);
      });
      log(`welcome texts seen while opening: ${JSON.stringify([...seen])}`);
      const text = await welcome.innerText();
      log(`welcome: ${JSON.stringify(text.split('\n').filter(Boolean))}`);
      if (!buttons.some((b) => /add key|store key/i.test(b)) || !buttons.some((b) => /import/i.test(b))) {
        throw new Error(`welcome buttons are ${JSON.stringify(buttons)}; expected Add Key and Import`);
      }
      if ((await wb.rows().count()) !== 0) {
        throw new Error(`the empty registry shows rows: ${JSON.stringify(await wb.rowLabels())}`);
      }
    }],
    ['store-key', 'Store Key from the command palette; it appears under team › api', async () => {
      await wb.runCommand(C('store'));
      await wb.answer('team/api/url', { expect: /key/i });
      await wb.answer('https://example.test', { expect: /value/i });
      await wb.waitQuickInputClosed();
      await wb.poll(async () => (await wb.row('Folder team/').count()) > 0, { what: 'folder team/ in the tree' });
      // The extension reveals the new key; a user who sees only the folder opens it.
      const revealed = await wb.poll(async () => (await wb.row('Key team/api/url').count()) > 0, { timeout: 5000, what: 'the new key revealed' }).catch(() => false);
      log(revealed ? 'the new key was revealed in the tree' : 'the new key was not revealed: expanding team › api');
      if (!revealed) {
        await wb.expand('Folder team/');
        await wb.expand('Folder team/api/');
      }
      const desc = await wb.poll(() => wb.rowDescription('Key team/api/url'), { what: 'key team/api/url with a preview' });
      if (desc !== 'https://example.test') {
        throw new Error(`preview of team/api/url is ${JSON.stringify(desc)}`);
      }
      await wb.row('Key team/api/url').click();
    }],
    ['edit-value', 'open the value in an editor, change it, save; the preview updates', async () => {
      await wb.row('Key team/api/url').dblclick();
      await wb.poll(async () => (await wb.editorText()).includes('https://example.test'), { what: 'the value in an editor' });
      const tab = (await wb.activeTab().innerText()).trim();
      log(`editor tab: ${JSON.stringify(tab)}`);
      await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type('https://example.test/v2');
      await page.keyboard.press('ControlOrMeta+S');
      await wb.poll(async () => (await page.locator('.tabs-container .tab.active.dirty').count()) === 0, { what: 'the editor saved (not dirty)' });
      await wb.poll(async () => (await wb.rowDescription('Key team/api/url')) === 'https://example.test/v2', { what: 'the tree preview to show the saved value' });
    }],
    ['reload', 'reload the window; the key and its new value are still there', async () => {
      await page.reload();
      await wb.waitReady();
      await wb.openView();
      await wb.resizeSidebar(470);
      await wb.poll(async () => (await wb.row('Folder team/').count()) > 0, { timeout: 30_000, what: 'folder team/ after the reload' });
      await wb.expand('Folder team/');
      await wb.expand('Folder team/api/');
      const desc = await wb.poll(() => wb.rowDescription('Key team/api/url'), { what: 'key team/api/url after the reload' });
      if (desc !== 'https://example.test/v2') {
        throw new Error(`after the reload the preview is ${JSON.stringify(desc)}`);
      }
    }],
    ['import-page-filter', `import ${BULK.toLocaleString('en')} keys; "Load more…"; filter by prefix`, async () => {
      await wb.runCommand(C('import'));
      // code-server's open dialog is the workbench's own: a quick input that takes a path.
      await wb.pickFile(importFile, /import/i);
      // team/api/url exists already, so the import asks what to do with existing keys.
      await wb.pickItem('Keep existing keys', /exist/i);
      await wb.poll(async () => (await wb.row('Folder users/').count()) > 0, { timeout: 60_000, what: 'folder users/ after the import' });
      const report = await wb.poll(async () => (await wb.toasts()).find((t) => /import/i.test(t)), { timeout: 15_000, what: 'the import report' });
      log(`import report: ${JSON.stringify(report)}`);
      if (!/1,000|1000/.test(report)) {
        throw new Error(`the import report does not say 1,000 keys: ${report}`);
      }
      await wb.expand('Folder users/');
      const first = await wb.poll(() => childSetSize(wb, 'users/'), { what: 'the first page of users/' });
      await wb.shot(path.join(shotsDir, '05a-imported.png'));
      // The last loaded row is "Load more…": go to the end of the tree and open it.
      await wb.scrollTreeToEnd();
      const more = wb.sidebar.locator('.monaco-list-row', { hasText: 'Load more' }).last();
      await more.waitFor({ timeout: 10_000 });
      await wb.shot(path.join(shotsDir, '05b-load-more.png'));
      await more.click();
      const second = await wb.poll(async () => {
        const n = await childSetSize(wb, 'users/');
        return n > first ? n : 0;
      }, { what: '"Load more…" to add rows' });
      log(`users/: ${first} rows, then ${second} after "Load more…"`);
      if (!(first < BULK && second > first)) {
        throw new Error(`paging: ${first} then ${second} rows of ${BULK}`);
      }
      await wb.shot(path.join(shotsDir, '05c-more-loaded.png'));
      await wb.runCommand(C('filter'));
      await wb.answer('users/user-09', { expect: /prefix|filter|search/i });
      const labels = await wb.poll(async () => {
        const l = await wb.rowLabels();
        return l.length > 0 && l.every((x) => x.includes('users/user-09') || !x.startsWith('Key ')) && l.some((x) => x.startsWith('Key users/user-09')) ? l : undefined;
      }, { what: 'the tree filtered to users/user-09' });
      await wb.scrollTreeToStart();
      const shown = Number(await wb.rows().first().getAttribute('aria-setsize'));
      log(`filtered: ${shown} rows, first ${JSON.stringify(labels[0])}`);
      if (shown !== 100) {
        throw new Error(`the filter users/user-09 shows ${shown} rows; 100 keys match`);
      }
    }],
    ['remove-folder', 'remove a folder (the confirmation states the count); the keys are gone', async () => {
      await wb.runCommand(C('clearFilter'));
      await wb.poll(async () => (await wb.row('Folder users/').count()) > 0, { what: 'the unfiltered tree' });
      await wb.contextMenu('Folder users/', manifest.title(C('removeFolder')) ?? 'Remove Folder');
      const dialog = wb.dialog();
      await dialog.waitFor({ timeout: 10_000 });
      const text = (await dialog.innerText()).replace(/\s+/g, ' ');
      log(`confirmation: ${JSON.stringify(text)}`);
      if (!/1,000|1000/.test(text)) {
        throw new Error(`the confirmation does not state the count: ${text}`);
      }
      await wb.shot(path.join(shotsDir, '06a-confirm-remove.png'));
      const primary = wb.dialogConfirmButton();
      log(`confirming with "${(await primary.innerText()).trim()}"`);
      await primary.click();
      await wb.poll(async () => (await wb.row('Folder users/').count()) === 0, { what: 'folder users/ to disappear' });
      if ((await wb.row('Folder team/').count()) === 0) {
        throw new Error('removing users/ also removed team/');
      }
    }],
    ['postgres', 'point the settings at PostgreSQL, enter the password, see shared keys; an outside change shows up', async () => {
      db = await freshDatabase(log);
      if (db.skip) {
        return { skip: db.skip };
      }
      // "Another client": the registry core (dist/registry.js) on its own pg connection.
      const { openRegistry } = createRequire(import.meta.url)(path.join(repoRoot, 'dist', 'registry.js'));
      // The table the extension uses by default (its setting's default in package.json).
      const table = manifest.setting('nautilusRegistry.postgres.table')?.default;
      const other = await openRegistry({ backend: 'postgres', url: db.url, ...(table ? { table } : {}) });
      try {
        await other.storeMany([
          { key: 'shared/greeting', value: 'hello from the team' },
          { key: 'shared/flags/beta', value: 'true' },
          { key: 'shared/owner', value: 'platform-team@example.test' },
        ]);
        await wb.openView();
        await wb.runCommand('View: Close All Editors');
        await wb.runCommand(C('connectPostgres'));
        await wb.answer(db.url, { expect: /postgres|url|connection/i });
        // The connection's name (shown as its root next to the workspace registry).
        await wb.answer('team-postgres', { expect: /name/i });
        // The password prompt: a masked input (the URL prompt before it mentions passwords too).
        const masked = wb.quickInput().locator('input[type="password"]');
        await masked.waitFor({ state: 'visible', timeout: 20_000 });
        const prompt = await wb.quickInputText();
        log(`password prompt: ${JSON.stringify(prompt)}`);
        if (!/password/i.test(prompt)) {
          throw new Error(`the masked input does not ask for a password: ${prompt}`);
        }
        await wb.answer(PASSWORD);
        await wb.waitQuickInputClosed(20_000);
        await wb.poll(async () => (await wb.row('Folder shared/').count()) > 0, { timeout: 30_000, what: 'the shared keys from PostgreSQL' });
        // Two roots now: the workspace registry (its keys kept) and the new connection.
        const roots = (await wb.rowLabels()).filter((l) => l.startsWith('Registry '));
        log(`roots: ${JSON.stringify(roots)}`);
        if (roots.length !== 2 || !/Workspace/.test(roots[0]) || !/team-postgres/.test(roots[1]) || roots.some((r) => r.includes(PASSWORD))) {
          throw new Error(`expected the Workspace and team-postgres roots: ${JSON.stringify(roots)}`);
        }
        await wb.expand('Folder shared/');
        const before = await wb.poll(() => wb.rowDescription('Key shared/greeting'), { what: 'shared/greeting' });
        if (before !== 'hello from the team') {
          throw new Error(`shared/greeting shows ${JSON.stringify(before)}`);
        }
        await wb.shot(path.join(shotsDir, '07a-postgres.png'));
        await other.store('shared/greeting', 'changed from outside');
        await other.store('shared/added-outside', 'new key');
        await wb.poll(async () => (await wb.rowDescription('Key shared/greeting')) === 'changed from outside', { timeout: 20_000, what: 'the outside change in the tree (no refresh)' });
        await wb.poll(async () => (await wb.row('Key shared/added-outside').count()) > 0, { timeout: 20_000, what: 'the key added outside' });
        // The password lives in secret storage only: not in any settings file.
        for (const f of [path.join(runDir, 'ud', 'User', 'settings.json'), path.join(workspace, '.vscode', 'settings.json')]) {
          if (existsSync(f) && readFileSync(f, 'utf8').includes(PASSWORD)) {
            throw new Error(`the password was written to ${f}`);
          }
        }
      } finally {
        await other.close();
      }
    }],
    ['copy-compare', 'drag team/ from the workspace onto the PostgreSQL root; the rows are in the table; Compare with… shows a change', async () => {
      if (!db || db.skip) {
        return { skip: db?.skip ?? 'no PostgreSQL' };
      }
      const table = manifest.setting('nautilusRegistry.postgres.table')?.default ?? 'registry';
      await wb.runCommand('View: Close All Editors');
      await wb.clearToasts();
      const source = wb.row('Folder team/');
      await source.waitFor({ timeout: 10_000 });
      const target = wb.sidebar.locator('.monaco-list-row[aria-label^="Registry team-postgres"]').first();
      await target.waitFor({ timeout: 10_000 });
      await source.dragTo(target);
      await wb.pickItem('Copy here', /drop/i);
      await wb.pickItem('Skip existing keys', /exist/i);
      const report = await wb.poll(async () => (await wb.toasts()).find((t) => /copied/i.test(t)), { timeout: 30_000, what: 'the copy report' });
      log(`copy report: ${JSON.stringify(report)}`);
      if (!/Copied 1 of 1 key to team-postgres; 0 skipped/.test(report)) {
        throw new Error(`unexpected copy report: ${report}`);
      }
      const { via, rows } = await tableRows(db.url, `SELECT key, value FROM public.${table} WHERE key LIKE 'team/%' ORDER BY key`);
      log(`${via}: ${JSON.stringify(rows)}`);
      if (JSON.stringify(rows) !== JSON.stringify([['team/api/url', 'https://example.test/v2']])) {
        throw new Error(`the table holds ${JSON.stringify(rows)} under team/`);
      }
      // Both roots show team/ now: the picture of two registries side by side.
      await wb.poll(async () => (await wb.sidebar.locator('.monaco-list-row[aria-label="Folder team/"]').count()) === 2, { what: 'team/ under both roots' });
      await wb.clearToasts();
      // Open team › api under both roots for the picture.
      for (const label of ['Folder team/', 'Folder team/api/']) {
        for (let i = 0; i < 2; i++) {
          const row = wb.sidebar.locator(`.monaco-list-row[aria-label="${label}"]`).nth(i);
          await row.waitFor({ timeout: 10_000 });
          if ((await row.getAttribute('aria-expanded')) !== 'true') {
            await row.click();
            await wb.poll(async () => (await row.getAttribute('aria-expanded')) === 'true', { timeout: 5000, what: `${label} (${i + 1}) to expand` });
          }
        }
      }
      await wb.poll(async () => (await wb.sidebar.locator('.monaco-list-row[aria-label="Key team/api/url"]').count()) === 2, { what: 'team/api/url under both roots' });
      await wb.shot(path.join(shotsDir, '08a-copied.png'));
      // A teammate changes the copy on the server, and adds a key.
      const { openRegistry } = createRequire(import.meta.url)(path.join(repoRoot, 'dist', 'registry.js'));
      const other = await openRegistry({ backend: 'postgres', url: db.url, table });
      try {
        await other.store('team/api/url', 'https://example.test/v3');
        await other.store('team/api/timeout', '30');
      } finally {
        await other.close();
      }
      await wb.contextMenu('Folder team/', manifest.title(C('compareWith')) ?? 'Compare with');
      await wb.pickItem('team-postgres', /compare/i);
      await wb.answer('team/', { expect: /folder/i });
      const diffRow = wb.sidebar.locator('.monaco-list-row[aria-label^="api/url"]').first();
      await diffRow.waitFor({ timeout: 20_000 });
      const labels = await wb.rowLabels();
      log(`comparison rows: ${JSON.stringify(labels.filter((l) => /^api\//.test(l)))}`);
      if (!labels.some((l) => /^api\/timeout: only in team-postgres/.test(l)) || !labels.some((l) => /^api\/url: different/.test(l))) {
        throw new Error(`the comparison shows ${JSON.stringify(labels)}`);
      }
      await diffRow.click();
      await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 20_000 });
      await wb.poll(async () => (await page.locator('.monaco-diff-editor').first().innerText()).includes('v3'), { what: 'the diff editor showing both values' });
    }],
    ['add-remove-connection', 'Add Connection… adds a memory scratchpad as a third root; Remove Connection takes it away', async () => {
      await wb.runCommand('View: Close All Editors');
      await wb.runCommand(C('closeComparison')).catch(() => {});
      await wb.runCommand(C('addConnection'));
      await wb.pickItem('Memory', /backend/i);
      await wb.answer('scratch', { expect: /name/i });
      await wb.waitQuickInputClosed(20_000);
      const root = wb.sidebar.locator('.monaco-list-row[aria-label^="Registry scratch"]').first();
      await root.waitFor({ timeout: 20_000 });
      const roots = (await wb.rowLabels()).filter((l) => l.startsWith('Registry '));
      log(`roots: ${JSON.stringify(roots)}`);
      if (roots.length !== 3 || !/Memory/.test(roots[2])) {
        throw new Error(`expected three roots, the last a memory scratchpad: ${JSON.stringify(roots)}`);
      }
      const settings = path.join(workspace, '.vscode', 'settings.json');
      const saved = readFileSync(settings, 'utf8');
      if (!/"name": "scratch"/.test(saved) || !/"backend": "memory"/.test(saved)) {
        throw new Error(`the connection is not in ${settings}: ${saved}`);
      }
      await wb.shot(path.join(shotsDir, '09a-three-roots.png'));
      await wb.contextMenu(roots[2], manifest.title(C('removeConnection')) ?? 'Remove Connection');
      const dialog = wb.dialog();
      await dialog.waitFor({ timeout: 10_000 });
      await wb.dialogConfirmButton().click();
      await wb.poll(async () => (await root.count()) === 0, { what: 'the scratch root to go away' });
    }],
  ];

  try {
    for (let i = 0; i < steps.length; i++) {
      const [name, title, fn] = steps[i];
      const n = i + 1;
      const shot = path.join(shotsDir, `${String(n).padStart(2, '0')}-${name}.png`);
      const blockedBy = results.find((r) => r.status === 'failed' && r.n < 7);
      if (blockedBy && n < 7) {
        results.push({ n, name, title, status: 'failed', error: `not run: step ${blockedBy.n} failed` });
        console.log(`  ✘ ${n} ${title} — not run (step ${blockedBy.n} failed)`);
        continue;
      }
      const ts = Date.now();
      try {
        const r = await fn();
        const secs = ((Date.now() - ts) / 1000).toFixed(1);
        if (r?.skip) {
          results.push({ n, name, title, status: 'skipped', error: r.skip });
          console.log(`  - ${n} ${title} — skipped: ${r.skip}`);
        } else {
          results.push({ n, name, title, status: 'passed' });
          console.log(`  ✔ ${n} ${title} (${secs} s)`);
        }
      } catch (err) {
        results.push({ n, name, title, status: 'failed', error: err.message });
        console.log(`  ✘ ${n} ${title}\n      ${String(err.message).split('\n').join('\n      ')}`);
      }
      await wb.shot(shot).catch((e) => log(`screenshot failed: ${e.message}`));
    }
  } finally {
    if (browser.blocked.size) {
      log(`aborted requests to hosts other than 127.0.0.1: ${[...browser.blocked].join(', ')}`);
    } else {
      log('every browser request went to 127.0.0.1');
    }
    if (consoleErrors.length && process.env.VERBOSE) {
      log(`page console errors (${consoleErrors.length}), first 5: ${JSON.stringify(consoleErrors.slice(0, 5))}`);
    }
    await browser.close();
    await server.stop();
    if (db && !db.skip) {
      await db.dispose().catch((e) => log(`could not clean up the database: ${e.message}`));
    }
  }
  if (process.argv.includes('--update-screenshots')) {
    if (results.every((r) => r.status === 'passed')) {
      updateReadmeScreenshots();
    } else {
      log('not updating media/screenshots/: only a run where every step passed does that');
    }
  }
  const passed = results.filter((r) => r.status === 'passed').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  log(`screenshots in ${path.relative(repoRoot, shotsDir)}/`);
  if (failed === 0 && !process.argv.includes('--keep')) {
    rmSync(runDir, { recursive: true, force: true });
  } else {
    log(`run folder kept: ${path.relative(repoRoot, runDir)} (server log cs.log)`);
  }
  console.log(`UI e2e suite: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[e2e] FAILED: ${err instanceof Error ? err.stack : err}`);
    console.log('UI e2e suite: 0 passed, 1 failed');
    process.exit(1);
  },
);
