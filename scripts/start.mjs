// `npm start`: try the extension in a real VS Code without a desktop one.
// Installs Node 24 + code-server into .vscode-test/ (once), builds and packages the .vsix, installs
// it into a code-server profile kept in .vscode-test/start/ (so keys and settings survive restarts),
// and serves VS Code with the extension on the demo/ workspace at http://127.0.0.1:<port>.
// Runs until Ctrl+C.
//
// Usage: npm start [-- --port 8080] [-- --folder /some/workspace]   (PORT also works)
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { startCodeServer } from '../test/harness/codeServer.mjs';
import { cacheDir, makeLogger, repoRoot } from '../test/harness/env.mjs';
import { ensureRuntime } from '../test/harness/install.mjs';
import { packageVsix } from './packageVsix.mjs';

const log = makeLogger('start');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

async function main() {
  const port = Number(opt('--port') ?? process.env.PORT ?? 0) || undefined;
  const folder = path.resolve(opt('--folder') ?? path.join(repoRoot, 'demo'));
  if (!existsSync(folder)) {
    throw new Error(`no such folder: ${folder}`);
  }
  ensureRuntime();
  const runDir = path.join(cacheDir, 'start');
  mkdirSync(runDir, { recursive: true });
  const vsix = packageVsix(path.join(runDir, 'nautilus-registry.vsix'));
  const server = await startCodeServer({ name: 'start', runDir, folder, vsix: [vsix], port, keepSettings: true });
  const url = `${server.url}/?folder=${encodeURIComponent(folder)}`;
  log(`server log: ${path.relative(repoRoot, server.logFile)}; profile: ${path.relative(repoRoot, runDir)} (delete it to start fresh)`);
  console.log(`\nVS Code with Nautilus Registry: ${url}\n(open it in a browser on this machine; Ctrl+C stops the server)\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) {
      return;
    }
    stopping = true;
    log('stopping code-server');
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Stay alive while the server runs; if it dies, say so and exit non-zero.
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    if (stopping) {
      continue;
    }
    try {
      process.kill(server.pid, 0);
    } catch {
      console.error(`code-server exited; see ${server.logFile}`);
      process.exit(1);
    }
  }
}

main().catch((err) => {
  console.error(`[start] ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
