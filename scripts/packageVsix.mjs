// Builds the production bundle and packages the extension as a .vsix with @vscode/vsce
// (vsce runs the "vscode:prepublish" script = `npm run package` = esbuild --production).
// The .vsix holds only what .vscodeignore lets through: dist/, package.json, package.nls*.json,
// README, CHANGELOG, LICENSE and media/ (no node_modules: the bundle has every dependency).
//
// Usage: node scripts/packageVsix.mjs [--out <file.vsix>]   (default: ./<name>-<version>.vsix)
// Prints the path of the .vsix as its last line.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Packages the extension; returns the absolute path of the .vsix. */
export function packageVsix(out) {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const vsix = path.resolve(out ?? path.join(repoRoot, `${pkg.name}-${pkg.version}.vsix`));
  mkdirSync(path.dirname(vsix), { recursive: true });
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  const t0 = Date.now();
  // --no-rewrite-relative-links: the README's images (media/screenshots/) are relative links; with
  // no public repository in package.json vsce would refuse to package rather than guess their URL.
  // --allow-missing-repository: the same reason, for the manifest warning (a prompt on a terminal).
  const args = ['package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', vsix];
  const r = spawnSync(process.execPath, [vsce, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    throw new Error(`vsce package failed (exit ${r.status ?? r.signal})`);
  }
  const kb = (statSync(vsix).size / 1024).toFixed(0);
  console.log(`[vsix] ${path.relative(process.cwd(), vsix) || vsix}: ${kb} KiB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return vsix;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--out');
  try {
    console.log(packageVsix(i >= 0 ? process.argv[i + 1] : undefined));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
