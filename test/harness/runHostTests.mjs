// Runs the extension-host mocha suite (out/test/extension/index.js) inside a real VS Code:
// code-server's server-side extension host, the same contract @vscode/test-electron uses
// (extensionDevelopmentPath = this repo, extensionTestsPath = the compiled suite index), handed to
// the workbench as its `payload` URL parameter. code-server 1.139 honours the payload only with
// `--vscode-option enable-smoke-test-driver`; the suite's exit code comes back through
// window.codeAutomationExit, its log lines through window.codeAutomationLog.
// The fixture extension test/fixtures/jsonFileExtension (its own id, nautilus-fixtures.jsonfile-backend,
// depending on ours) is installed into the run's extensions folder before code-server starts, next to
// the extension under development: the third-party backend the suite checks comes from a separate,
// installed extension. (A second extensionDevelopmentPath in the payload does not work here: the web
// workbench keeps the payload in a Map, so only the last path reaches the server.)
//
// Two passes:
//   trusted   - every test file except *.untrusted.test.js (workspace trust disabled = trusted)
//   untrusted - only *.untrusted.test.js, with workspace trust on and the folder never trusted
//               (run only when such files exist)
// Prints `N passed, N failed` per pass and for the suite; exits non-zero on any failure.
//
// Usage: node test/harness/runHostTests.mjs [--grep <re>] [--timeout <ms>] [--keep]
//   npm run test:host   (compiles the extension and the tests first)
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { launchBrowser } from './browser.mjs';
import { copyWorkspace, installFolderExtension, makeRunDir, startCodeServer } from './codeServer.mjs';
import { extensionTestsPath, fixtureExtension, fixtureWorkspace, makeLogger, repoRoot } from './env.mjs';
import { ensureRuntime } from './install.mjs';

const log = makeLogger('host');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const SUITE_TIMEOUT = Number(opt('--timeout') ?? process.env.NAUTILUS_HOST_TIMEOUT ?? 15 * 60_000);
const GREP = opt('--grep') ?? process.env.NAUTILUS_TEST_GREP;
const VERBOSE = !!process.env.VERBOSE;

// Workbench chatter that says nothing about the suite (dead gallery port, stack frames, ...).
const QUIET = /ECONNREFUSED 127\.0\.0\.1:9|^\s+at |Resolv|grace time|workbench contribution|builtin extensions cache|Service Worker|AgentHost|AccountPolicyGate|^Canceled|\[uncaught exception\]: Canceled|Ignoring the error while validating workspace folder|^Creating a socket|Timed out waiting for authentication provider/;

function findFiles(dir, pred) {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir, { recursive: true }).map(String).filter(pred);
}

/** One pass of the suite in a fresh code-server; resolves to { code, result }. */
async function runPass(pass) {
  const runDir = makeRunDir(`host-${pass}`);
  const workspace = copyWorkspace(runDir, fixtureWorkspace);
  const resultFile = path.join(runDir, 'result.json');
  const untrusted = pass === 'untrusted';
  installFolderExtension(runDir, fixtureExtension, ['package.json', 'dist']);
  const server = await startCodeServer({
    name: `host-${pass}`,
    runDir,
    folder: workspace,
    smokeTestDriver: true,
    workspaceTrust: untrusted,
    settings: untrusted
      ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' }
      : {},
    // The extension host inherits the server's environment: this is how the suite learns where
    // to write its result and which pass it is in (plus NAUTILUS_TEST_* server URLs from CI).
    env: {
      NAUTILUS_TEST_RESULT: resultFile,
      NAUTILUS_TEST_PASS: pass,
      NAUTILUS_TEST_WORKSPACE: workspace,
      ...(GREP ? { NAUTILUS_TEST_GREP: GREP } : {}),
    },
  });
  log(`${pass}: code-server at ${server.url} (run folder ${path.relative(repoRoot, runDir)})`);
  const browser = await launchBrowser(runDir);
  try {
    const { page } = browser;
    let exit;
    const exited = new Promise((resolve) => (exit = resolve));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const msg = util.format(...(args ?? []));
      if (VERBOSE || !QUIET.test(msg)) {
        console.log(`  ${type === 'log' || type === 'info' ? '' : `[${type}] `}${VERBOSE ? msg : msg.split('\n').filter((l) => !/^\s+at /.test(l)).join('\n')}`);
      }
    });
    await page.exposeFunction('codeAutomationExit', (code) => exit(code));
    page.on('pageerror', (e) => console.log('  [pageerror]', String(e).slice(0, 300)));
    const authority = await server.remoteAuthority();
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${repoRoot}`],
      ['extensionTestsPath', `vscode-remote://${authority}${extensionTestsPath}`],
    ];
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    let timer;
    const code = await Promise.race([
      exited,
      new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), SUITE_TIMEOUT))),
    ]);
    clearTimeout(timer);
    const result = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : undefined;
    if (code === 'timeout') {
      log(`${pass}: the suite did not finish within ${SUITE_TIMEOUT} ms; server log: ${server.logFile}`);
    }
    return { code, result, runDir };
  } finally {
    await browser.close();
    await server.stop();
  }
}

async function main() {
  const t0 = Date.now();
  ensureRuntime();
  for (const [file, hint] of [
    [path.join(repoRoot, 'dist', 'extension.js'), 'npm run compile'],
    [extensionTestsPath, 'npm run build:tests'],
    [path.join(fixtureExtension, 'dist', 'extension.js'), 'npm run build:tests'],
  ]) {
    if (!existsSync(file)) {
      throw new Error(`${path.relative(repoRoot, file)} is missing: run ${hint} (npm run test:host does both)`);
    }
  }
  const testDir = path.dirname(extensionTestsPath);
  const untrustedFiles = findFiles(testDir, (f) => f.endsWith('.untrusted.test.js'));
  const passes = ['trusted', ...(untrustedFiles.length ? ['untrusted'] : [])];
  let passed = 0;
  let failed = 0;
  let ran = 0;
  let ok = true;
  for (const pass of passes) {
    const tp = Date.now();
    const { code, result, runDir } = await runPass(pass);
    if (!result) {
      ok = false;
      failed += 1;
      log(`${pass}: no result from the suite (exit ${code}); see ${path.join(runDir, 'cs.log')}`);
      continue;
    }
    passed += result.passes;
    failed += result.failures;
    ran += result.tests;
    for (const f of result.failed ?? []) {
      console.log(`  FAILED ${f.title}\n    ${String(f.error).split('\n').join('\n    ')}`);
    }
    // With --grep a pass may match nothing; the run as a whole must still run some test.
    if (code !== 0 || result.failures > 0 || (result.tests === 0 && !GREP)) {
      ok = false;
    }
    console.log(`extension host (${pass}): ${result.passes} passed, ${result.failures} failed` +
      `${result.pending ? `, ${result.pending} pending` : ''} in ${((Date.now() - tp) / 1000).toFixed(1)} s (exit ${code})`);
    if (ok && !argv.includes('--keep')) {
      rmSync(runDir, { recursive: true, force: true });
    }
  }
  if (ran === 0) {
    ok = false;
    failed += 1;
    log(`no extension-host test ran${GREP ? ` (--grep ${GREP} matched nothing)` : ''}`);
  }
  console.log(`extension host suite: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[host] FAILED: ${err instanceof Error ? err.stack : err}`);
    console.log('extension host suite: 0 passed, 1 failed');
    process.exit(1);
  },
);
