// Builds three CommonJS bundles for Node:
//   dist/registry.js  - the registry core (public entry for the extension, other extensions and scripts)
//   dist/sqliteThread.js - the sqlite engine's worker thread, started by dist/registry.js
//   dist/extension.js - the VS Code extension; it loads the core from ./registry.js at run time,
//                       so there is one copy of the core and one RegistryError class.
// sql-wasm.wasm is copied next to them. --production minifies and drops source maps; --watch rebuilds.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

mkdirSync(path.join(root, 'dist'), { recursive: true });
copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), path.join(root, 'dist', 'sql-wasm.wasm'));
// Types of the public entry: `npm run compile` emits the core's declarations into dist/types.
writeFileSync(path.join(root, 'dist', 'registry.d.ts'), "// Types of dist/registry.js (declarations emitted by npm run compile).\nexport * from './types/index';\n");

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
