/**
 * Entry of the web worker extension-host suite (`extensionTestsPath` = out/web-test/index.js, a
 * browser bundle built by test/web/build.mjs): browser mocha over the extension-host tests that
 * apply on the web (no Node APIs) plus test/web/web.test.ts. Counts go to the console as
 * `[nautilus-tests] web: N passed, N failed, N pending`, failures one per line; the exit code to the
 * runner (test/harness/runWebHostTests.mjs).
 */
interface Runnable {
  title: string;
  fullTitle(): string;
}
interface Runner {
  on(event: 'suite', fn: (suite: Runnable & { root?: boolean }) => void): void;
  on(event: 'pass' | 'pending', fn: (test: Runnable) => void): void;
  on(event: 'fail', fn: (test: Runnable, err: unknown) => void): void;
}
interface BrowserMocha {
  setup(options: { ui: string; reporter: (runner: Runner) => void; timeout: number; color: boolean }): void;
  run(done: (failures: number) => void): { stats?: { tests: number; passes: number; pending: number }; on(event: 'fail', fn: (test: { fullTitle(): string }, err: unknown) => void): void };
}

/** One line per test (browser mocha's default reporter writes HTML into a page, and a worker has none). */
function lineReporter(runner: Runner): void {
  runner.on('suite', (suite) => {
    if (suite.title) {
      console.log(`[nautilus-tests] ${suite.fullTitle()}`);
    }
  });
  runner.on('pass', (test) => console.log(`[nautilus-tests]   ✔ ${test.title}`));
  runner.on('pending', (test) => console.log(`[nautilus-tests]   - ${test.title} (skipped)`));
  runner.on('fail', (test, err) => console.log(`[nautilus-tests]   ✘ ${test.title}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
}

function run(): Promise<void> {
  // mocha's browser build (an ES module package, so its UMD wrapper sees this bundle's `module`)
  // replaces module.exports with itself: load it here, after the host took run(), and put ours back.
  const ours = module.exports;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('mocha/mocha.js'); // defines globalThis.mocha
  module.exports = ours;
  const mocha = (globalThis as unknown as { mocha: BrowserMocha }).mocha;
  mocha.setup({ ui: 'bdd', reporter: lineReporter, timeout: 30_000, color: false });
  // Loaded after setup, so that describe/it exist (esbuild evaluates a require()d module lazily).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./web.test');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../extension/api.test');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../extension/tree.test');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../extension/editor.test');
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const s = runner.stats;
      console.log(`[nautilus-tests] web: ${s?.passes ?? 0} passed, ${failures} failed, ${s?.pending ?? 0} pending`);
      if (failures > 0) {
        reject(new Error(`${failures} web extension-host test(s) failed.`));
      } else if (!s || s.tests === 0) {
        reject(new Error('No web extension-host tests ran.'));
      } else {
        resolve();
      }
    });
    runner.on('fail', (test, err) => console.log(`[nautilus-tests] FAILED ${test.fullTitle()}: ${err instanceof Error ? err.message : String(err)}`));
  });
}

// CommonJS, not `export`: esbuild then keeps this file's `module` the one the host gave (see run()).
module.exports = { run };
