// Starts code-server (the real VS Code workbench + server-side extension host) for one run.
// Every run gets its own folder under .vscode-test/runs/ holding the user data, extensions,
// XDG folders, TMPDIR and the server log, so nothing is written into ~/.config or ~/.local, and
// every request the server itself could make to an extension gallery goes to a dead loopback port.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { childEnv, codeServerBin, node24Bin, runsDir } from './env.mjs';

/** Settings that keep the workbench quiet and local: no telemetry, updates, gallery, tips, AI. */
export const baseSettings = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'json.schemaDownload.enable': false,
  'window.confirmBeforeClose': 'never',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

const GALLERY = JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' });

/** A free TCP port on 127.0.0.1 (asks the kernel; the caller binds it right after). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Keeps .vscode-test/runs/ from growing without bound: removes all but the newest `keep` runs. */
export function pruneRuns(keep = 8) {
  if (!existsSync(runsDir)) {
    return;
  }
  const runs = readdirSync(runsDir)
    .map((name) => ({ name, mtime: statSync(path.join(runsDir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const run of runs.slice(keep)) {
    rmSync(path.join(runsDir, run.name), { recursive: true, force: true });
  }
}

/** A fresh run folder: .vscode-test/runs/<name>-<time>-<pid>. */
export function makeRunDir(name) {
  pruneRuns();
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const dir = path.join(runsDir, `${name}-${stamp}-${process.pid}`);
  for (const sub of ['ud/User', 'exts', 'xdg/config', 'xdg/data', 'xdg/cache', 'tmp']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
  }
  return dir;
}

function serverEnv(runDir, extraEnv = {}) {
  // childEnv(): the extension host must not see what `npm run` set for the script that started us.
  const base = childEnv();
  return {
    ...base,
    PATH: `${node24Bin}${path.delimiter}${base.PATH}`,
    XDG_CONFIG_HOME: path.join(runDir, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg', 'data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg', 'cache'),
    TMPDIR: path.join(runDir, 'tmp'),
    EXTENSIONS_GALLERY: GALLERY,
    VSCODE_TELEMETRY_LEVEL: 'off',
    ...extraEnv,
  };
}

function commonArgs(runDir) {
  return [
    '--config', path.join(runDir, 'cs-config.yaml'),
    '--user-data-dir', path.join(runDir, 'ud'),
    '--extensions-dir', path.join(runDir, 'exts'),
  ];
}

/**
 * Installs an unpacked extension (a folder with its package.json) into the run's extensions folder,
 * as `<publisher>.<name>-<version>`, copying only `files` (e.g. the manifest and the built code).
 * Call it before the server starts: on its first start the server finds no extensions.json there
 * and records every extension folder it finds, as after an install.
 */
export function installFolderExtension(runDir, folder, files) {
  const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8'));
  const target = path.join(runDir, 'exts', `${manifest.publisher}.${manifest.name}-${manifest.version}`.toLowerCase());
  for (const f of files) {
    cpSync(path.join(folder, f), path.join(target, f), { recursive: true });
  }
  return target;
}

/** Installs a packaged extension into the run's extensions folder (code-server --install-extension). */
export function installVsix(runDir, vsixPath) {
  const r = spawnSync(codeServerBin, [...commonArgs(runDir), '--install-extension', vsixPath, '--force'], {
    env: serverEnv(runDir),
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    throw new Error(`code-server --install-extension ${vsixPath} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  }
  return r.stdout.trim();
}

async function waitForHealth(url, child, logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before it answered; see ${logFile}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms; see ${logFile}`);
}

/**
 * Starts code-server and waits until it answers.
 * @param {object} o
 * @param {string} o.name         run name (folder prefix)
 * @param {string} o.folder       the workspace folder to open
 * @param {string} [o.runDir]     reuse a prepared run folder (default: a new one)
 * @param {object} [o.settings]   user settings on top of baseSettings
 * @param {boolean} [o.keepSettings] keep an existing settings.json (a reused run folder)
 * @param {string[]} [o.vsix]     packaged extensions to install first
 * @param {boolean} [o.smokeTestDriver]  honour the extension-test payload (hides toasts)
 * @param {boolean} [o.workspaceTrust]   keep workspace trust on (default off = every folder trusted)
 * @param {number} [o.port]       fixed port (default: a free one)
 * @param {object} [o.env]        extra environment for the server and its extension host
 */
export async function startCodeServer(o) {
  if (!existsSync(codeServerBin)) {
    throw new Error(`code-server is not installed (${codeServerBin}); run: node test/harness/install.mjs`);
  }
  const runDir = o.runDir ?? makeRunDir(o.name);
  for (const sub of ['exts', 'xdg/config', 'xdg/data', 'xdg/cache', 'tmp']) {
    mkdirSync(path.join(runDir, sub), { recursive: true });
  }
  writeFileSync(path.join(runDir, 'cs-config.yaml'), '');
  const settingsFile = path.join(runDir, 'ud', 'User', 'settings.json');
  if (!o.keepSettings || !existsSync(settingsFile)) {
    mkdirSync(path.dirname(settingsFile), { recursive: true });
    writeFileSync(settingsFile, JSON.stringify({ ...baseSettings, ...o.settings }, null, 2));
  }
  for (const vsix of o.vsix ?? []) {
    installVsix(runDir, vsix);
  }
  const logFile = path.join(runDir, 'cs.log');
  const args = [
    ...commonArgs(runDir),
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(o.workspaceTrust ? [] : ['--disable-workspace-trust']),
    ...(o.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  let child;
  let url;
  for (let attempt = 0; ; attempt++) {
    const port = o.port ?? (await freePort());
    url = `http://127.0.0.1:${port}`;
    const out = openSync(logFile, 'a');
    // detached: own process group, so stop() ends code-server and every process it started.
    child = spawn(codeServerBin, [...args, '--bind-addr', `127.0.0.1:${port}`, o.folder], {
      env: serverEnv(runDir, o.env),
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    try {
      await waitForHealth(url, child, logFile, 60_000);
      break;
    } catch (err) {
      killGroup(child);
      if (attempt >= 2 || o.port) {
        throw err;
      }
    }
  }
  const onExit = () => killGroup(child);
  process.on('exit', onExit);
  return {
    url,
    runDir,
    folder: o.folder,
    logFile,
    pid: child.pid,
    /** The workbench's remoteAuthority ('remote' in code-server 4.139), read from its page. */
    async remoteAuthority() {
      const html = await (await fetch(`${url}/?folder=${encodeURIComponent(o.folder)}`)).text();
      return html.match(/&quot;remoteAuthority&quot;:&quot;([^&]+)&quot;/)?.[1] ?? 'remote';
    },
    async stop() {
      process.off('exit', onExit);
      killGroup(child, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && groupAlive(child.pid)) {
        await new Promise((r) => setTimeout(r, 100));
      }
      killGroup(child, 'SIGKILL');
    },
  };
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(child, signal = 'SIGKILL') {
  if (!child?.pid) {
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Copies a folder (e.g. the fixture workspace) into the run folder so tests never touch the repo. */
export function copyWorkspace(runDir, source, name = 'workspace') {
  const target = path.join(runDir, name);
  cpSync(source, target, { recursive: true });
  return target;
}
