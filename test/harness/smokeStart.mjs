// The `npm start` smoke test (CI): what a newcomer sees after `npm ci && npm start`.
//   1. The printed URL serves the VS Code workbench (HTTP 200, the workbench page).
//   2. In a browser, the extension is installed: its activity-bar icon is there.
//   3. Opening its view activates it: the extension's own log (its LogOutputChannel file under the
//      profile's logs folder) says "Activated in", and the Keys view shows what only the running
//      extension can show (the empty-registry welcome after "Connecting…", or tree rows).
// Prints one line per check and exits non-zero on the first that fails.
//
// Usage: node test/harness/smokeStart.mjs <url printed by npm start> [--profile <dir>]
//   (--profile: the code-server profile npm start uses, default .vscode-test/start)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { cacheDir, makeLogger, repoRoot } from './env.mjs';
import { Workbench, loadManifest } from '../e2e/workbench.mjs';

const log = makeLogger('smoke');

/** The extension's log files written since `since` (ms), with their text. */
export function extensionLogs(profile, since) {
  const logsDir = path.join(profile, 'ud', 'logs');
  let files = [];
  try {
    files = readdirSync(logsDir, { recursive: true }).map(String);
  } catch {
    return [];
  }
  return files
    .filter((f) => /nautilus/i.test(f) && f.endsWith('.log'))
    .map((f) => path.join(logsDir, f))
    .filter((f) => statSync(f).mtimeMs >= since)
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

async function main() {
  const argv = process.argv.slice(2);
  const url = argv.find((a) => /^https?:\/\//.test(a));
  const i = argv.indexOf('--profile');
  const profile = path.resolve(i >= 0 ? argv[i + 1] : path.join(cacheDir, 'start'));
  if (!url) {
    throw new Error('usage: node test/harness/smokeStart.mjs <url> [--profile <dir>]');
  }
  const since = Date.now() - 1000;

  const res = await fetch(url);
  const html = await res.text();
  if (res.status !== 200 || !/vscode-workbench|workbench\.js|code-server/i.test(html)) {
    throw new Error(`${url} answered ${res.status} without the workbench:\n${html.slice(0, 300)}`);
  }
  log(`ok: ${url} serves the workbench (HTTP ${res.status}, ${html.length} bytes)`);

  const manifest = loadManifest(repoRoot);
  const browser = await launchBrowser(profile);
  try {
    const { page } = browser;
    const wb = new Workbench(page, manifest, log);
    await page.goto(url);
    await wb.waitReady();
    log(`ok: the extension is installed (activity-bar icon "${manifest.container.title}")`);
    await wb.openView();
    const activated = await wb.poll(() => extensionLogs(profile, since).find((l) => /Activated in \d+ ms/.test(l.text)), {
      timeout: 60_000,
      what: 'the extension\'s log to say "Activated in"',
    });
    const line = activated.text.split('\n').find((l) => /Activated in/.test(l));
    log(`ok: the extension activated: ${path.relative(profile, activated.file)}: ${line.trim()}`);
    const shown = await wb.poll(async () => {
      const welcome = (await wb.welcome().first().innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
      if (welcome && !/connecting/i.test(welcome)) {
        return `welcome: "${welcome.slice(0, 80)}"`;
      }
      const rows = await wb.rowLabels();
      return rows.length ? `${rows.length} tree rows, first "${rows[0]}"` : undefined;
    }, { timeout: 60_000, what: 'the Keys view to show the registry' });
    log(`ok: the Keys view shows the registry (${shown})`);
    if (browser.blocked.size) {
      log(`note: the page tried to reach (blocked): ${[...browser.blocked].join(', ')}`);
    }
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => log('npm start smoke test passed'),
    (err) => {
      console.error(`[smoke] FAILED: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
