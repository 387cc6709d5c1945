// Builds CommonJS bundles for Node (and, below, the web extension and its engine worker):
//   dist/registry.js  - the registry core (public entry for the extension, other extensions and scripts)
//   dist/sqliteThread.js - the sqlite engine's worker thread, started by dist/registry.js
//   dist/extension.js - the VS Code extension; it loads the core from ./registry.js at run time,
//                       so there is one copy of the core and one RegistryError class.
//   dist/conformance.js - the conformance suite our backends pass (test/conformance/suite.ts, built
//                       in place), for authors of backends other extensions add; runs under mocha.
// sql-wasm.wasm is copied next to them. --production minifies and drops source maps; --watch rebuilds.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserStandIns } from './scripts/browserStandIns.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const coreIndex = path.join(root, 'src', 'registry', 'index.ts');

/** In the extension bundle, the core's index is not bundled but required from ./registry.js. */
const coreAsExternal = {
  name: 'core-as-external',
  setup(build) {
    build.onResolve({ filter: /registry$/ }, (args) => {
      if (args.kind === 'entry-point') {return undefined;}
      const resolved = path.resolve(args.resolveDir, args.path);
      if (resolved + '.ts' === coreIndex || path.join(resolved, 'index.ts') === coreIndex) {
        return { path: './registry.js', external: true };
      }
      return undefined;
    });
  },
};

/** Problem-matcher friendly output in watch mode (esbuild sample). */
const problemMatcher = {
  name: 'esbuild-problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) {console.error(`    ${location.file}:${location.line}:${location.column}:`);}
      }
      console.log('[watch] build finished');
    });
  },
};

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  // pg requires pg-native only when asked for; vscode is provided by the host.
  external: ['vscode', 'pg-native'],
  logLevel: 'warning',
  legalComments: production ? 'none' : 'inline',
  plugins: watch ? [problemMatcher] : [],
};

// The sqlite engine's worker thread (started by dist/registry.js from the same folder).
const sqliteThread = path.join(root, 'src', 'registry', 'backends', 'sqliteThread.ts');
const builds = [{ ...common, entryPoints: { registry: coreIndex, sqliteThread }, outdir: path.join(root, 'dist') }];
const extensionEntry = path.join(root, 'src', 'extension', 'extension.ts');
if (existsSync(extensionEntry)) {
  builds.push({
    ...common,
    entryPoints: { extension: extensionEntry },
    outdir: path.join(root, 'dist'),
    plugins: [coreAsExternal, ...common.plugins],
  });
}

// dist/web/extension.js - the same extension for the web worker extension host (VS Code for the Web,
// package.json "browser"): one self-contained bundle for platform browser, core included, with the
// browser stand-ins of scripts/browserStandIns.mjs.
if (existsSync(extensionEntry)) {
  builds.push({
    ...common,
    platform: 'browser',
    target: 'es2022',
    entryPoints: { extension: extensionEntry },
    outdir: path.join(root, 'dist', 'web'),
    plugins: [browserStandIns, ...common.plugins],
  });
}

// dist/web/sqliteThread.js - the sqlite engine for a Web Worker (a classic script): the web extension
// reads it from its folder and starts it from a blob: URL (sqliteEngineWorker.browser.ts). No source
// map: a blob: URL has nowhere to find one.
builds.push({
  ...common,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  sourcemap: false,
  entryPoints: { sqliteThread: path.join(root, 'src', 'registry', 'backends', 'sqliteThread.web.ts') },
  outdir: path.join(root, 'dist', 'web'),
  plugins: [browserStandIns, ...common.plugins],
});

const conformanceEntry = path.join(root, 'test', 'conformance', 'suite.ts');
if (existsSync(conformanceEntry)) {
  // mocha's describe/it are the runner's globals; node:assert is Node's.
  builds.push({ ...common, entryPoints: { conformance: conformanceEntry }, outdir: path.join(root, 'dist'), external: [...common.external, 'mocha'] });
}

mkdirSync(path.join(root, 'dist'), { recursive: true });
copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), path.join(root, 'dist', 'sql-wasm.wasm'));
// Types of the public entry: `npm run compile` emits the core's declarations into dist/types.
writeFileSync(
  path.join(root, 'dist', 'conformance.d.ts'),
  `// Types of dist/conformance.js: the conformance suite for a RegistryStorage (see README, "Write a backend").
import type { RegistryErrorCode, RegistryStorage } from './registry';
export interface ConformanceHarness {
  /** A fresh, empty registry; every test gets its own. */
  open(options?: { maxValueBytes?: number }): Promise<RegistryStorage>;
  /** A second client on the same data (for external change events), when the backend has one. */
  openPeer?(registry: RegistryStorage): Promise<RegistryStorage>;
  /** After each test (the test's registries are already closed). */
  cleanup?(): Promise<void>;
  /** Random operations in the model-based test; default 3000. */
  modelOps?: number;
}
export interface ConformanceOptions {
  /** When set, the whole suite is skipped and the reason printed. */
  skip?: string;
  /** false: no time to live; the suite then checks that ttlMs and setTtl are refused with UNSUPPORTED. */
  ttl?: boolean;
}
/** Declares the suite with mocha's describe/it (call it at the top level of a mocha test file). */
export declare function describeConformance(name: string, harness: ConformanceHarness, options?: ConformanceOptions): void;
/** Asserts that a call rejects with a RegistryError of this code (and a message that says what is wrong). */
export declare function expectCode(p: Promise<unknown> | (() => unknown), code: RegistryErrorCode, messagePart?: RegExp): Promise<Error>;
`,
);
writeFileSync(path.join(root, 'dist', 'registry.d.ts'), "// Types of dist/registry.js (declarations emitted by npm run compile).\nexport * from './types/index';\n");

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
