// The esbuild plugin for bundles that run in a browser's web worker (the web extension, its test
// suite): modules with a browser stand-in are swapped for it (platform.ts, Node's file seam, the
// worker_threads start of the sqlite engine: a Web Worker instead), the
// server backends (pg and redis need sockets) for one that says so, and any Node built-in left over
// fails the build with the module that imports it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = (...p) => path.join(root, 'src', ...p);
const standIns = {
  [src('extension', 'platform.ts')]: src('extension', 'platform.browser.ts'),
  [src('registry', 'backends', 'sqliteNodeFiles.ts')]: src('registry', 'backends', 'sqliteNodeFiles.browser.ts'),
  [src('registry', 'backends', 'sqliteEngineWorker.ts')]: src('registry', 'backends', 'sqliteEngineWorker.browser.ts'),
  [src('registry', 'backends', 'postgres.ts')]: src('registry', 'backends', 'serverBackends.browser.ts'),
  [src('registry', 'backends', 'redis.ts')]: src('registry', 'backends', 'serverBackends.browser.ts'),
};
const NODE_BUILTIN = /^(node:|(fs|path|os|crypto|child_process|worker_threads|net|tls|dns|events|stream|util)(\/|$))/;

export const browserStandIns = {
  name: 'browser-stand-ins',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      const standIn = standIns[resolved + '.ts'] ?? standIns[resolved];
      return standIn ? { path: standIn } : undefined;
    });
    build.onResolve({ filter: NODE_BUILTIN }, (args) => ({
      errors: [{ text: `${args.path} (imported by ${path.relative(root, args.importer)}) does not exist in the web worker extension host` }],
    }));
  },
};
