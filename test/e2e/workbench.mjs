// Page helpers for the VS Code workbench (code-server 4.139 = Code 1.139) driven by playwright-core.
// Selectors are the workbench's own DOM classes; commands are found by the titles in package.json
// (resolved through package.nls.json), so the suite follows the manifest instead of copying it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Titles of the extension's commands as the palette shows them ("Category: Title"). */
export function loadManifest(repoRoot) {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const nlsFile = path.join(repoRoot, 'package.nls.json');
  const nls = existsSync(nlsFile) ? JSON.parse(readFileSync(nlsFile, 'utf8')) : {};
  const text = (s) => (typeof s === 'string' ? s.replace(/^%(.+)%$/, (m, k) => (typeof nls[k] === 'string' ? nls[k] : nls[k]?.message ?? m)) : s);
  const commands = new Map();
  for (const c of pkg.contributes?.commands ?? []) {
    commands.set(c.command, { title: text(c.title), category: text(c.category) });
  }
  const containers = pkg.contributes?.viewsContainers?.activitybar ?? [];
  const container = containers.find((c) => (pkg.contributes?.views?.[c.id] ?? []).length) ?? containers[0];
  return {
    pkg,
    text,
    container: container && { id: container.id, title: text(container.title) },
    views: (pkg.contributes?.views?.[container?.id] ?? []).map((v) => ({ id: v.id, name: text(v.name) })),
    paletteTitle(id) {
      const c = commands.get(id);
      if (!c) {
        throw new Error(`package.json contributes no command ${id}`);
      }
      return c.category ? `${c.category}: ${c.title}` : c.title;
    },
    title(id) {
      return commands.get(id)?.title;
    },
    /** A contributed setting's schema (contributes.configuration may be one object or a list). */
    setting(name) {
      const conf = pkg.contributes?.configuration;
      for (const c of Array.isArray(conf) ? conf : conf ? [conf] : []) {
        if (c.properties?.[name]) {
          return c.properties[name];
        }
      }
      return undefined;
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Workbench {
  /** @param {import('playwright-core').Page} page */
  constructor(page, manifest, log) {
    this.page = page;
    this.manifest = manifest;
    this.log = log;
  }

  get sidebar() {
    return this.page.locator('.part.sidebar');
  }

  /** Waits until the workbench shows its activity bar and the extension's icon in it. */
  async waitReady(timeout = 90_000) {
    await this.page.waitForSelector('.monaco-workbench .part.activitybar', { timeout });
    await this.activityIcon().waitFor({ timeout });
  }

  activityIcon() {
    return this.page.locator(`.part.activitybar .action-item .action-label[aria-label^="${this.manifest.container.title}"]`).first();
  }

  /**
   * Shows the extension's view container in the side bar. Clicking its activity-bar icon toggles
   * the side bar when the container is already active (which a window restores by itself), so it
   * clicks only while the side bar does not show the container, and checks again.
   */
  async openView() {
    // The side bar's title names the container ("NAUTILUS REGISTRY: KEYS" when it has one view).
    const title = new RegExp(this.manifest.container.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    const header = this.sidebar.locator('.composite.title', { hasText: title }).first();
    for (let attempt = 0; attempt < 4; attempt++) {
      if (await header.isVisible()) {
        return;
      }
      if (attempt > 0 || !(await this.poll(() => header.isVisible(), { timeout: 1500, what: 'the restored view' }).catch(() => false))) {
        await this.activityIcon().click();
      }
      if (await this.poll(() => header.isVisible(), { timeout: 5000, what: 'the view' }).catch(() => false)) {
        return;
      }
    }
    throw new Error(`the ${this.manifest.container.title} view does not open`);
  }

  /** The welcome content of the view (viewsWelcome), when shown. */
  welcome() {
    return this.sidebar.locator('.welcome-view-content');
  }

  /** Rows of the side bar's tree. */
  rows() {
    return this.sidebar.locator('.monaco-list-row');
  }

  /** A tree row by its accessible label (the extension sets "Key a/b" and "Folder a/"). */
  row(ariaLabel) {
    return this.sidebar.locator(`.monaco-list-row[aria-label="${ariaLabel.replace(/"/g, '\\"')}"]`).first();
  }

  async rowDescription(ariaLabel) {
    return (await this.row(ariaLabel).locator('.label-description').first().textContent({ timeout: 5000 }).catch(() => null))?.trim();
  }

  async rowLabels() {
    return (await this.rows().evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''))).filter(Boolean);
  }

  /**
   * Expands a folder row (a click toggles, so it clicks only while the row is collapsed and checks
   * again: the extension may be expanding it at the same moment, e.g. to reveal a new key).
   */
  async expand(ariaLabel) {
    const row = this.row(ariaLabel);
    await row.waitFor({ timeout: 20_000 });
    const expanded = async () => (await row.getAttribute('aria-expanded')) === 'true';
    for (let attempt = 0; attempt < 3; attempt++) {
      await sleep(300);
      if (await expanded()) {
        return;
      }
      await row.click();
      if (await this.poll(expanded, { timeout: 3000, what: `${ariaLabel} to expand` }).catch(() => false)) {
        return;
      }
    }
    throw new Error(`${ariaLabel} does not expand`);
  }

  /** A screenshot with the pointer parked where it raises no hover (tooltips hide rows). */
  async shot(file) {
    const size = this.page.viewportSize();
    await this.page.mouse.move(size.width * 0.7, size.height * 0.75);
    await sleep(400);
    await this.page.screenshot({ path: file });
  }

  /** Clicks into the workbench so keyboard shortcuts reach it (not an input or a tree). */
  async focusWorkbench() {
    await this.page.locator('.part.statusbar').click({ position: { x: 2, y: 2 } }).catch(() => {});
  }

  quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  /** Runs a command from the palette (F1) by its manifest title, or any title for built-ins. */
  async runCommand(idOrTitle) {
    const title = idOrTitle.includes('.') && !idOrTitle.includes(' ') ? this.manifest.paletteTitle(idOrTitle) : idOrTitle;
    await this.focusWorkbench();
    await this.page.keyboard.press('F1');
    const input = this.quickInput().locator('input').first();
    await input.waitFor({ timeout: 15_000 });
    await input.fill(`>${title}`);
    // Press Enter only once the *focused* row is this command: the filter is asynchronous, and a
    // recently used command that also matches (Add PostgreSQL Connection… for Add Connection…) may
    // come first: then move down to the exact title.
    const focused = this.quickInput().locator('.monaco-list-row.focused', { hasText: title });
    const exact = async () => (await this.quickInput().locator('.monaco-list-row.focused').first().innerText().catch(() => '')).includes(title);
    try {
      await focused.first().waitFor({ timeout: 10_000 }).catch(async (err) => {
        const rows = await this.quickInput().locator('.monaco-list-row').allInnerTexts();
        if (!rows.some((r) => r.includes(title))) {
          throw err;
        }
      });
      for (let i = 0; i < 10 && !(await exact()); i++) {
        await this.page.keyboard.press('ArrowDown');
        await sleep(100);
      }
      if (!(await exact())) {
        throw new Error('not focused');
      }
    } catch (err) {
      const rows = await this.quickInput().locator('.monaco-list-row').allInnerTexts();
      throw new Error(`palette has no focused row "${title}"; rows: ${JSON.stringify(rows.slice(0, 8))}`, { cause: err });
    }
    await this.page.keyboard.press('Enter');
    // The palette closes before the command's own input (if any) opens: wait for that, so the next
    // answer() does not type into the closing palette.
    await this.page.waitForFunction(() => {
      const w = document.querySelector('.quick-input-widget');
      const input = w?.querySelector('input');
      return !w || getComputedStyle(w).display === 'none' || !input?.value.startsWith('>');
    }, undefined, { timeout: 10_000 });
  }

  /** Waits for an input box / quick pick, checks its prompt mentions `expect`, types `value`, Enter. */
  async answer(value, { expect, timeout = 15_000 } = {}) {
    const widget = this.quickInput();
    const input = widget.locator('input').first();
    await input.waitFor({ state: 'visible', timeout });
    if (expect) {
      await this.poll(async () => expect.test(await this.quickInputText()), { timeout: 10_000, what: `an input box about ${expect}` });
    }
    await input.fill(value);
    await sleep(150);
    await this.page.keyboard.press('Enter');
  }

  /** The title of the open quick input ('' when none). */
  async quickInputTitle() {
    return this.page.evaluate(() => {
      const w = document.querySelector('.quick-input-widget');
      return !w || getComputedStyle(w).display === 'none' ? '' : (w.querySelector('.quick-input-title')?.textContent ?? '').trim();
    });
  }

  /**
   * Picks a file in the workbench's own open dialog (a quick input that takes a path; code-server
   * has no native dialog): types the path, then presses Enter until the dialog has accepted it.
   */
  async pickFile(filePath, dialogTitle) {
    await this.poll(async () => dialogTitle.test(await this.quickInputTitle()), { timeout: 15_000, what: `the open dialog ${dialogTitle}` });
    const input = this.quickInput().locator('input').first();
    // The dialog fills the box with its start folder a moment after it opens (overwriting anything
    // typed before): wait for that, then type the file's path.
    await this.poll(async () => (await input.inputValue()).endsWith('/'), { timeout: 10_000, what: 'the dialog start folder' }).catch(() => {});
    await sleep(300);
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await input.inputValue()) !== filePath) {
        await input.fill(filePath);
        await sleep(500); // the dialog checks the path asynchronously
        if ((await input.inputValue()) !== filePath) {
          continue;
        }
      }
      await this.page.keyboard.press('Enter');
      const accepted = await this.poll(async () => !dialogTitle.test(await this.quickInputTitle()), { timeout: 3000, what: 'the dialog to accept the file' }).catch(() => false);
      if (accepted) {
        return;
      }
    }
    throw new Error(`the open dialog did not accept ${filePath}: ${await this.quickInputText()}`);
  }

  /** Picks an item of an open quick pick by its label. */
  async pickItem(label, titleRe) {
    if (titleRe) {
      await this.poll(async () => titleRe.test(await this.quickInputTitle()), { timeout: 15_000, what: `the quick pick ${titleRe}` });
    }
    const row = this.quickInput().locator('.monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
  }

  /** Title, prompt/validation message and placeholder of the open input box ('' when none is open). */
  async quickInputText() {
    return this.page.evaluate(() => {
      const w = document.querySelector('.quick-input-widget');
      if (!w || getComputedStyle(w).display === 'none') {
        return '';
      }
      const input = w.querySelector('input');
      const parts = ['.quick-input-title', '.quick-input-message'].map((s) => w.querySelector(s)?.textContent ?? '');
      return [...parts, input?.getAttribute('placeholder') ?? '', input?.getAttribute('aria-label') ?? ''].filter(Boolean).join(' | ');
    });
  }

  /** Drags the sash on the side bar's right edge so the side bar is `width` px wide. */
  async resizeSidebar(width) {
    const box = await this.sidebar.boundingBox();
    const sashes = await this.page.locator('.monaco-sash.vertical').all();
    for (const sash of sashes) {
      const b = await sash.boundingBox();
      if (b && Math.abs(b.x + b.width / 2 - (box.x + box.width)) < 6) {
        const y = b.y + b.height / 2;
        await this.page.mouse.move(b.x + b.width / 2, y);
        await this.page.mouse.down();
        await this.page.mouse.move(box.x + width, y, { steps: 8 });
        await this.page.mouse.up();
        return;
      }
    }
  }

  /** Scrolls the side bar's tree to its first row. */
  async scrollTreeToStart() {
    await this.sidebar.locator('.monaco-list').first().evaluate((el) => el.focus());
    await this.page.keyboard.press('Home');
    await sleep(300);
  }

  /** Scrolls the side bar's tree to its last row (virtualized lists render only visible rows). */
  async scrollTreeToEnd() {
    // Focus the list itself (a click on a row would open or toggle it), then End: the list moves its
    // focus to the last row and reveals it.
    await this.sidebar.locator('.monaco-list').first().evaluate((el) => el.focus());
    await this.page.keyboard.press('End');
    await sleep(300);
  }

  async waitQuickInputClosed(timeout = 15_000) {
    await this.quickInput().waitFor({ state: 'hidden', timeout });
  }

  /** The modal dialog (showWarningMessage with modal: true). */
  dialog() {
    return this.page.locator('.monaco-dialog-box');
  }

  /** The dialog's confirming button: the one that is not Cancel (Linux puts Cancel first). */
  dialogConfirmButton() {
    return this.dialog().locator('.dialog-buttons .monaco-button').filter({ hasNotText: /^\s*Cancel\s*$/ }).first();
  }

  /** Opens a tree row's context menu and picks an entry. */
  async contextMenu(ariaLabel, entry) {
    const row = this.row(ariaLabel);
    await row.click({ button: 'right' });
    const item = this.page.locator('.monaco-menu .action-item .action-label', { hasText: entry }).first();
    try {
      await item.waitFor({ timeout: 10_000 });
    } catch (err) {
      const items = await this.page.locator('.monaco-menu .action-item .action-label').allInnerTexts();
      throw new Error(`context menu of ${ariaLabel} has no "${entry}"; items: ${JSON.stringify(items)}`, { cause: err });
    }
    await sleep(300); // a click that lands while the menu is still opening is dropped
    await item.click();
  }

  /** Messages of the notification toasts currently shown. */
  async toasts() {
    return (await this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts()).map((s) => s.trim());
  }

  async clearToasts() {
    await this.runCommand('Notifications: Clear All Notifications').catch(() => {});
  }

  /** The active editor's text (the visible lines of a small document). */
  async editorText() {
    return (await this.page.locator('.editor-instance .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
  }

  activeTab() {
    return this.page.locator('.tabs-container .tab.active').first();
  }

  async poll(fn, { timeout = 20_000, interval = 250, what = 'condition' } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      try {
        last = await fn();
        if (last) {
          return last;
        }
      } catch (err) {
        last = err;
      }
      await sleep(interval);
    }
    throw new Error(`timed out after ${timeout} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
  }
}
