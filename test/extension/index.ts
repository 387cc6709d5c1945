/**
 * Entry of the extension-host suite (`extensionTestsPath` = out/test/extension/index.js). VS Code
 * loads it inside the extension host and calls run(); both runners use it: the code-server runner
 * (test/harness/runHostTests.mjs, `npm run test:host`) and @vscode/test-electron
 * (test/harness/runVscodeTests.mjs, `npm run test:vscode`).
 *
 * It runs mocha (BDD: describe/it) on every out/test/extension/**\/*.test.js, except that files named
 * *.untrusted.test.js run only in an untrusted workspace and all other files only in a trusted one:
 * the code-server runner makes one pass of each. It logs `N passed, N failed` and, when the runner
 * sets NAUTILUS_TEST_RESULT, writes the counts and the failures there as JSON.
 *
 * Environment (all optional): NAUTILUS_TEST_GREP (mocha grep), NAUTILUS_TEST_PASS (trusted |
 * untrusted; default from vscode.workspace.isTrusted), NAUTILUS_TEST_RESULT (result file).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type MochaType from 'mocha';
import * as vscode from 'vscode';

// mocha 12 is an ES module whose entry only re-exports lib/mocha.cjs: load that file directly, so
// the suite also runs in extension hosts whose Node cannot require() an ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mocha = require('mocha/lib/mocha.cjs') as typeof MochaType;

export interface SuiteResult {
  pass: string;
  tests: number;
  passes: number;
  failures: number;
  pending: number;
  durationMs: number;
  files: string[];
  failed: { title: string; error: string }[];
  node: string;
  vscode: string;
}

export function testFiles(dir: string, pass: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => (pass === 'untrusted') === f.endsWith('.untrusted.test.js'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function run(): Promise<void> {
  const pass = process.env.NAUTILUS_TEST_PASS ?? (vscode.workspace.isTrusted ? 'trusted' : 'untrusted');
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: 30_000,
    reporter: 'spec',
    ...(process.env.NAUTILUS_TEST_GREP ? { grep: process.env.NAUTILUS_TEST_GREP } : {}),
  });
  const files = testFiles(__dirname, pass);
  for (const file of files) {
    mocha.addFile(file);
  }
  console.log(`[nautilus-tests] ${pass} workspace: ${files.length} test files, VS Code ${vscode.version}, Node ${process.version}`);
  const failed: SuiteResult['failed'] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const stats = runner.stats;
      const result: SuiteResult = {
        pass,
        tests: stats?.tests ?? 0,
        passes: stats?.passes ?? 0,
        failures,
        pending: stats?.pending ?? 0,
        durationMs: stats?.duration ?? 0,
        files: files.map((f) => path.relative(__dirname, f)),
        failed,
        node: process.version,
        vscode: vscode.version,
      };
      if (process.env.NAUTILUS_TEST_RESULT) {
        writeFileSync(process.env.NAUTILUS_TEST_RESULT, JSON.stringify(result, null, 2));
      }
      console.log(`[nautilus-tests] ${result.passes} passed, ${result.failures} failed`);
      if (failures > 0) {
        reject(new Error(`${failures} extension-host test(s) failed.`));
      } else if (result.tests === 0 && !process.env.NAUTILUS_TEST_GREP) {
        // (with a grep, this pass may match nothing; the runner checks that the run as a whole ran tests)
        reject(new Error('No extension-host tests ran.'));
      } else {
        resolve();
      }
    });
    runner.on('fail', (test, err: unknown) => {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failed.push({ title: test.fullTitle(), error });
    });
  });
}
