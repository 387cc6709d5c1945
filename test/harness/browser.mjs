// Debian's Chromium driven by playwright-core (never `playwright install`): headless, a throwaway
// profile, and every request to a host other than 127.0.0.1 aborted and recorded.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath } from './env.mjs';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-domain-reliability', '--no-default-browser-check',
];

/** True when a URL stays on this machine's loopback address (or never leaves the page). */
export function isLocal(url) {
  const u = new URL(url);
  if (['data:', 'blob:', 'about:', 'vscode-file:', 'chrome-extension:'].includes(u.protocol)) {
    return true;
  }
  return u.hostname === '127.0.0.1';
}

/**
 * @param {string} scratchDir where the throwaway profile folder goes (a run folder)
 * @param {{ viewport?: {width: number, height: number} }} [options]
 */
export async function launchBrowser(scratchDir, options = {}) {
  const profileDir = mkdtempSync(path.join(scratchDir, 'chromium-'));
  // Chromium keeps crash reports and GTK/dconf state under XDG folders: keep them in the profile.
  const xdg = { XDG_CONFIG_HOME: path.join(profileDir, 'xdg-config'), XDG_CACHE_HOME: path.join(profileDir, 'xdg-cache') };
  for (const dir of Object.values(xdg)) {
    mkdirSync(dir, { recursive: true });
  }
  const context = await chromium.launchPersistentContext(profileDir, {
    env: { ...process.env, ...xdg },
    executablePath: chromiumPath,
    headless: true,
    viewport: options.viewport ?? { width: 1400, height: 900 },
    deviceScaleFactor: 1,
    args: CHROMIUM_ARGS,
  });
  /** Origins the page tried to reach that are not 127.0.0.1 (aborted). */
  const blocked = new Set();
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) {
      return route.continue();
    }
    blocked.add(new URL(url).origin);
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('websocket', (ws) => {
    if (!isLocal(ws.url())) {
      blocked.add(new URL(ws.url()).origin);
    }
  });
  return {
    context,
    page,
    blocked,
    async close() {
      await context.close().catch(() => {});
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
