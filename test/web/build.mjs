// Builds the web worker extension-host suite: out/web-test/index.js, one browser bundle (mocha's
// browser build, the tests, the core for the two-tab test), with node:assert/strict mapped to
// test/web/assert.ts. The extension itself is dist/web/extension.js (esbuild.mjs).
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserStandIns } from '../../scripts/browserStandIns.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
await esbuild.build({
  entryPoints: { index: path.join(root, 'test', 'web', 'index.ts') },
  outdir: path.join(root, 'out', 'web-test'),
  bundle: true,
  format: 'cjs',
  platform: 'browser',
  target: 'es2022',
  external: ['vscode'],
  plugins: [
    {
      name: 'assert-shim',
      setup(build) {
        build.onResolve({ filter: /^node:assert\/strict$/ }, () => ({ path: path.join(root, 'test', 'web', 'assert.ts') }));
      },
    },
    browserStandIns,
  ],
  sourcemap: 'inline',
  logLevel: 'warning',
});
