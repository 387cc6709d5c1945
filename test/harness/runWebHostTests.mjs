// Runs the web worker extension-host suite (out/web-test/index.js, built by test/web/build.mjs)
// inside code-server's web worker extension host: VS Code for the Web's runtime, in Chromium.
// The extension under development is this repo; the user setting remote.extensionKind = ["web"]
// moves it (and so its tests) from the Node host to the web worker host, where it runs
// dist/web/extension.js (package.json "browser"). The payload's authority must be the page's
// host:port, or the tests run in the Node host. Counts come back through the console lines the
// suite prints, the exit code through window.codeAutomationExit.
// Prints `web extension host suite: N passed, N failed`; exits non-zero on any failure.
//
// Usage: node test/harness/runWebHostTests.mjs [--keep]   (npm run test:web builds first)
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { launchBrowser } from './browser.mjs';
import { copyWorkspace, makeRunDir, startCodeServer } from './codeServer.mjs';
import { fixtureWorkspace, makeLogger, repoRoot } from './env.mjs';
import { ensureRuntime } from './install.mjs';

const log = makeLogger('web');
const TIMEOUT = Number(process.env.NAUTILUS_HOST_TIMEOUT ?? 10 * 60_000);
const VERBOSE = !!process.env.VERBOSE;
const testsPath = path.join(repoRoot, 'out', 'web-test', 'index.js');
const QUIET = /ECONNREFUSED 127\.0\.0\.1:9|^\s+at |Resolv|grace time|workbench contribution|builtin extensions cache|Service Worker|AgentHost|AccountPolicyGate|^Canceled|\[uncaught exception\]: Canceled|Ignoring the error while validating workspace folder|^Creating a socket|Timed out waiting for authentication provider|Content Security Policy/;

async function main() {
  const t0 = Date.now();
  ensureRuntime();
  for (const [file, hint] of [
    [path.join(repoRoot, 'dist', 'web', 'extension.js'), 'npm run compile'],
    [testsPath, 'node test/web/build.mjs'],
  ]) {
    if (!existsSync(file)) {
      throw new Error(`${path.relative(repoRoot, file)} is missing: run ${hint} (npm run test:web does both)`);
    }
  }
  const runDir = makeRunDir('web');
  const workspace = copyWorkspace(runDir, fixtureWorkspace);
  const server = await startCodeServer({
    name: 'web',
    runDir,
    folder: workspace,
    smokeTestDriver: true,
    settings: { 'remote.extensionKind': { 'nautilus.nautilus-registry': ['web'] } },
  });
  log(`code-server at ${server.url} (run folder ${path.relative(repoRoot, runDir)})`);
  const browser = await launchBrowser(runDir);
  let counts;
  let code;
  const failures = [];
  try {
    const { page } = browser;
    let exit;
    const exited = new Promise((resolve) => (exit = resolve));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const msg = util.format(...(args ?? []));
      const m = /\[nautilus-tests\] web: (\d+) passed, (\d+) failed, (\d+) pending/.exec(msg);
      if (m) {
        counts = { passed: Number(m[1]), failed: Number(m[2]), pending: Number(m[3]) };
      }
      if (/\[nautilus-tests\] FAILED /.test(msg)) {
        failures.push(msg.replace(/^.*\[nautilus-tests\] /, ''));
      }
      if (VERBOSE || !QUIET.test(msg)) {
        console.log(`  ${type === 'log' || type === 'info' ? '' : `[${type}] `}${VERBOSE ? msg : msg.split('\n').filter((l) => !/^\s+at /.test(l)).join('\n')}`);
      }
    });
    await page.exposeFunction('codeAutomationExit', (c) => exit(c));
    page.on('pageerror', (e) => console.log('  [pageerror]', String(e).slice(0, 300)));
    const authority = new URL(server.url).host;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${repoRoot}`],
      ['extensionTestsPath', `vscode-remote://${authority}${testsPath}`],
    ];
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    let timer;
    code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), TIMEOUT)))]);
    clearTimeout(timer);
  } finally {
    await browser.close();
    await server.stop();
  }
  for (const f of failures) {
    console.log(`  ${f}`);
  }
  const ok = code === 0 && counts !== undefined && counts.failed === 0 && counts.passed > 0;
  if (!counts) {
    log(`no result from the suite (exit ${code}); see ${server.logFile}`);
  }
  const passed = counts?.passed ?? 0;
  const failed = counts ? counts.failed + (ok || counts.failed > 0 ? 0 : 1) : 1;
  if (ok && !process.argv.includes('--keep')) {
    rmSync(runDir, { recursive: true, force: true });
  }
  console.log(`web extension host suite: ${passed} passed, ${failed} failed${counts?.pending ? `, ${counts.pending} skipped` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[web] FAILED: ${err instanceof Error ? err.stack : err}`);
    console.log('web extension host suite: 0 passed, 1 failed');
    process.exit(1);
  },
);
