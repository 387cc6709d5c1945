// Runs the same extension-host suite in desktop VS Code through @vscode/test-electron, for machines
// that can download VS Code (a developer's desktop, a hosted CI). It downloads VS Code into
// .vscode-test/ (version NAUTILUS_VSCODE_VERSION, default 'stable'; e.g. 1.100.0 tests the oldest
// release engines.vscode allows), opens a copy of test/fixtures/workspace and runs
// out/test/extension/index.js. On a machine without internet (like this project's) the download
// fails: use `npm run test:host` (code-server) there. For that reason the README does not list
// `npm run test:vscode` and .ci/run cannot run it: the README documents only what CI runs.
//
// Two passes like the code-server runner: trusted (workspace trust disabled) and, when
// *.untrusted.test.js files exist, untrusted (trust on, start-up prompt off = restricted mode).
// Under Linux without a display, run it under xvfb-run.
//
// Usage: node test/harness/runVscodeTests.mjs      (npm run test:vscode compiles first)
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestRunFailedError, runTests } from '@vscode/test-electron';
import { baseSettings, copyWorkspace, makeRunDir } from './codeServer.mjs';
import { cacheDir, extensionTestsPath, fixtureExtension, fixtureWorkspace, makeLogger, repoRoot } from './env.mjs';

const log = makeLogger('vscode');
const version = process.env.NAUTILUS_VSCODE_VERSION ?? 'stable';

async function runPass(pass) {
  const runDir = makeRunDir(`electron-${pass}`);
  const workspace = copyWorkspace(runDir, fixtureWorkspace);
  const resultFile = path.join(runDir, 'result.json');
  const untrusted = pass === 'untrusted';
  writeFileSync(path.join(runDir, 'ud', 'User', 'settings.json'), JSON.stringify({
    ...baseSettings,
    ...(untrusted ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {}),
  }, null, 2));
  const code = await runTests({
    version,
    cachePath: cacheDir,
    // Ours and the fixture extension that adds a backend through our API (thirdParty.test.ts); the
    // desktop build takes several development paths (code-server's web payload does not, see runHostTests.mjs).
    extensionDevelopmentPath: [repoRoot, fixtureExtension],
    extensionTestsPath,
    extensionTestsEnv: { NAUTILUS_TEST_RESULT: resultFile, NAUTILUS_TEST_PASS: pass, NAUTILUS_TEST_WORKSPACE: workspace },
    launchArgs: [
      workspace,
      `--user-data-dir=${path.join(runDir, 'ud')}`,
      `--extensions-dir=${path.join(runDir, 'exts')}`,
      '--disable-extensions',
      '--skip-welcome',
      '--skip-release-notes',
      ...(untrusted ? [] : ['--disable-workspace-trust']),
    ],
  }).catch((err) => {
    // A failing suite makes VS Code exit non-zero, which runTests reports by throwing.
    if (err instanceof TestRunFailedError) {
      return err.code ?? err.signal;
    }
    throw err;
  });
  const result = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : undefined;
  return { code, result };
}

async function main() {
  if (!existsSync(extensionTestsPath)) {
    throw new Error(`${path.relative(repoRoot, extensionTestsPath)} is missing: run npm run build:tests`);
  }
  const dir = path.dirname(extensionTestsPath);
  const hasUntrusted = readdirSync(dir, { recursive: true }).map(String).some((f) => f.endsWith('.untrusted.test.js'));
  let passed = 0;
  let failed = 0;
  for (const pass of ['trusted', ...(hasUntrusted ? ['untrusted'] : [])]) {
    log(`${pass} pass in VS Code ${version}`);
    const { code, result } = await runPass(pass);
    passed += result?.passes ?? 0;
    failed += result ? result.failures : 1;
    console.log(`extension host (${pass}, VS Code ${result?.vscode ?? version}): ${result?.passes ?? 0} passed, ${result?.failures ?? 1} failed (exit ${code})`);
  }
  console.log(`extension host suite: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[vscode] FAILED: ${err instanceof Error ? err.message : err}`);
    console.error('[vscode] @vscode/test-electron needs to download VS Code; without internet use `npm run test:host` (code-server).');
    console.log('extension host suite: 0 passed, 1 failed');
    process.exit(1);
  },
);
