/**
 * The extension in the web worker extension host (VS Code for the Web): no Node, the sqlite
 * registry in the storage folder through vscode.workspace.fs on the web file seam, one writer per
 * registry across tabs, and the server backends refused in one clear line.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { workspaceFiles } from '../../src/extension/workspaceFiles';
import { openRegistry, webFileSystem } from '../../src/registry';
import type { RegistryStorage, SqliteConfig } from '../../src/registry';
import { getApi, isRegistryError, setConnections, waitFor } from '../extension/helpers';

async function storageDir(): Promise<vscode.Uri> {
  const api = await getApi();
  const location = api._test.service.status.location;
  assert.ok(location, 'the sqlite registry has a location');
  // The storage folder is on the same remote (scheme and authority) as the workspace folder in code-server.
  const folder = vscode.workspace.workspaceFolders![0].uri;
  return folder.with({ path: location.slice(0, location.lastIndexOf('/')) });
}

/** What the engine runs in (sqliteProxy's test hook): a Web Worker has kind 'web'; an inline engine has no worker. */
function engineWorkerKind(registry: RegistryStorage): string | undefined {
  const hook = (registry as { workerForTests?: { kind?: string } }).workerForTests;
  return hook ? (hook.kind ?? 'worker_threads') : undefined;
}

/** The wasm bytes and the engine's Web Worker script from the extension's folder, as the extension reads them. */
async function engineFiles(): Promise<{ wasmBinary: Uint8Array; engineWorkerScript: string }> {
  const ext = vscode.extensions.getExtension('nautilus.nautilus-registry')!;
  const wasmBinary = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext.extensionUri, 'dist', 'sql-wasm.wasm'));
  const engineWorkerScript = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext.extensionUri, 'dist', 'web', 'sqliteThread.js')));
  return { wasmBinary, engineWorkerScript };
}

/** Runs `fn` while a 5 ms timer ticks on this thread: the longest gap between ticks is how long the thread was blocked. */
async function longestStall(fn: () => Promise<unknown>): Promise<{ stallMs: number; totalMs: number; ticks: number }> {
  let last = performance.now();
  let stallMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
    ticks++;
  }, 5);
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const end = performance.now();
  return { stallMs: Math.max(stallMs, end - last), totalMs: end - t0, ticks };
}

describe('VS Code for the Web (web worker extension host)', () => {
  before(async () => {
    const api = await getApi();
    await api._test.service.reconnect();
  });

  it('runs without Node: no process, no require of Node modules', () => {
    assert.equal(typeof (globalThis as { process?: unknown }).process, 'undefined');
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
    console.log(`[nautilus-web] navigator.locks is ${typeof (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks === 'object' ? 'available' : 'missing'} in the web worker extension host`);
  });

  it('runs the sqlite engine in a nested Web Worker started from a blob: URL, not on the extension host thread', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    assert.equal(engineWorkerKind(registry), 'web', 'the workspace registry is a proxy whose engine runs in a Web Worker');
    assert.equal(registry.describe().state, 'open');
    assert.ok(!api._test.logLines().some((l) => /runs on this thread, not in a worker/.test(l)), 'no fallback to the inline engine was logged');
  });

  it('falls back to the engine on this thread, and logs why, when it has no Web Worker script', async () => {
    const dir = await storageDir();
    const { wasmBinary } = await engineFiles();
    const warnings: string[] = [];
    const r = await openRegistry({
      backend: 'sqlite',
      file: `${dir.path}/fallback/registry.sqlite`,
      fileSystem: webFileSystem(workspaceFiles(dir)),
      wasmBinary,
      logger: { info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    try {
      assert.equal(engineWorkerKind(r), undefined, 'no worker: the engine is inline');
      assert.ok(warnings.some((w) => /runs on this thread, not in a worker: no engine script was given/.test(w)), warnings.join(' | '));
      await r.store('k', 'v');
      assert.equal(await r.retrieve('k'), 'v');
    } finally {
      await r.close();
    }
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(dir, 'fallback'), { recursive: true, useTrash: false });
  });

  it('keeps this thread ticking while a registry with a long journal opens in the Web Worker (the inline engine stalls it)', async function () {
    this.timeout(300_000);
    const dir = await storageDir();
    const files = await engineFiles();
    const at = (name: string): SqliteConfig => ({ backend: 'sqlite', file: `${dir.path}/${name}/registry.sqlite`, fileSystem: webFileSystem(workspaceFiles(dir)), ...files });
    const KEYS = 100_000;
    // What a tab closed without a clean close leaves: every store acknowledged in the journal, none
    // folded into the database yet. Opening it replays the journal: CPU work of the engine, on
    // whatever thread it runs, with few bytes for this thread to read.
    const fill = await openRegistry(at('journal'));
    assert.equal(engineWorkerKind(fill), 'web');
    for (let i = 0; i < KEYS; i += 5000) {
      await fill.storeMany(Array.from({ length: 5000 }, (_, j) => ({ key: `j/f${(i + j) % 40}/k${String(i + j).padStart(6, '0')}`, value: `v${i + j}` })));
    }
    for (const copy of ['journal-a', 'journal-b']) {
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(dir, 'journal'), vscode.Uri.joinPath(dir, copy), { overwrite: true });
    }
    await fill.close();
    const openAndList = async (c: SqliteConfig) => {
      const r = await openRegistry(c);
      try {
        assert.equal((await r.children('j/', '/', { limit: 100 })).items.length, 40);
        assert.equal(await r.count(), KEYS);
      } finally {
        await r.close();
      }
    };
    try {
      const worker = await longestStall(() => openAndList(at('journal-a')));
      const inline = await longestStall(() => openAndList({ ...at('journal-b'), thread: 'inline' }));
      console.log(
        `[nautilus-web] open replaying a journal of ${KEYS} keys + first children: Web Worker ${worker.totalMs.toFixed(0)} ms, longest stall of this thread ${worker.stallMs.toFixed(0)} ms (${worker.ticks} ticks); ` +
          `inline ${inline.totalMs.toFixed(0)} ms, longest stall ${inline.stallMs.toFixed(0)} ms (${inline.ticks} ticks)`,
      );
      assert.ok(worker.stallMs * 2 < inline.stallMs, `the host thread stalls ${worker.stallMs.toFixed(0)} ms with the Web Worker, ${inline.stallMs.toFixed(0)} ms inline`);
    } finally {
      for (const name of ['journal', 'journal-a', 'journal-b']) {
        await vscode.workspace.fs.delete(vscode.Uri.joinPath(dir, name), { recursive: true, useTrash: false });
      }
    }
  });

  it('reopens by itself after its Web Worker dies; every acknowledged store is still there', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    await registry.store('web/before-kill', 'acknowledged');
    const changes: string[] = [];
    const sub = registry.onDidChange((c) => changes.push(`${c.kind}/${c.origin}`));
    try {
      const worker = (registry as { workerForTests?: { terminate(): Promise<unknown> } }).workerForTests;
      assert.ok(worker);
      await worker.terminate();
      assert.equal(await registry.retrieve('web/before-kill'), 'acknowledged');
      assert.equal(engineWorkerKind(registry), 'web', 'a new Web Worker runs the engine');
      assert.notEqual((registry as { workerForTests?: unknown }).workerForTests, worker);
      await registry.store('web/after-kill', 'also');
      assert.ok(changes.includes('clear/external'), `listeners were told to re-read: ${changes.join(', ')}`);
    } finally {
      sub.dispose();
    }
    const again = await api._test.service.reconnect();
    assert.equal(await again.retrieve('web/after-kill'), 'also');
  });

  it('keeps the sqlite registry under the storage folder, through vscode.workspace.fs', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    assert.equal(registry.describe().backend, 'sqlite');
    assert.equal(registry.describe().readOnly, false);
    await registry.store('web/first', 'stored in a browser');
    const dir = await storageDir();
    const names = (await vscode.workspace.fs.readDirectory(dir)).map(([n]) => n);
    assert.ok(names.some((n) => /^registry\.sqlite\.g\d+$/.test(n)), `the database generation file is there: ${names.join(', ')}`);
    assert.ok(names.some((n) => /^registry\.sqlite\.nautilus-log\.g\d+\.s\d+$/.test(n)), `the store wrote a journal segment: ${names.join(', ')}`);
  });

  it('an acknowledged store is there after the registry is closed and opened again', async () => {
    const api = await getApi();
    const registry = await api.getRegistry();
    await registry.storeMany(Array.from({ length: 300 }, (_, i) => ({ key: `web/many/${String(i).padStart(3, '0')}`, value: `v${i}` })));
    await registry.store('web/last', 'persisted');
    const again = await api._test.service.reconnect();
    assert.notEqual(again, registry);
    assert.equal(await again.retrieve('web/last'), 'persisted');
    assert.equal(await again.retrieve('web/first'), 'stored in a browser');
    assert.equal(await again.count('web/many/'), 300);
  });

  it('a second registry on the same files (another tab) is read-only and says so', async () => {
    const api = await getApi();
    const first = await api.getRegistry();
    const ext = vscode.extensions.getExtension('nautilus.nautilus-registry')!;
    const wasmBinary = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext.extensionUri, 'dist', 'sql-wasm.wasm'));
    const dir = await storageDir();
    const second = await openRegistry({
      backend: 'sqlite',
      file: first.describe().location,
      fileSystem: webFileSystem(workspaceFiles(dir)),
      wasmBinary,
      readOnlyIfLocked: true,
      lockTimeoutMs: 300,
    });
    try {
      assert.equal(second.describe().readOnly, true);
      assert.match(second.describe().notes?.[0] ?? '', /Read-only: .*another browser tab or window/);
      assert.equal(await second.retrieve('web/last'), 'persisted');
      await assert.rejects(second.store('web/other', 'x'), (err: unknown) => isRegistryError(err, 'LOCKED'));
    } finally {
      await second.close();
    }
    await first.store('web/still', 'writable');
  });

  it('a registry opened read-only because another tab had it becomes writable by itself once that tab closes, losing nothing', async function () {
    this.timeout(60_000);
    const api = await getApi();
    const service = api._test.service;
    const location = (await api.getRegistry()).describe().location;
    const dir = await storageDir();
    await service.get(undefined).close();
    // The other tab: it opens the registry first and writes.
    const other = await openRegistry({ backend: 'sqlite', file: location, fileSystem: webFileSystem(workspaceFiles(dir)), ...(await engineFiles()) });
    let closed = false;
    try {
      assert.equal(other.describe().readOnly, false);
      await other.store('web/from-other-tab', 'written there');
      const mine = await api.getRegistry();
      assert.equal(mine.describe().readOnly, true, 'this window opens it read-only while the other tab has it');
      assert.equal(service.status.readOnly, true);
      assert.equal(await mine.retrieve('web/from-other-tab'), 'written there');
      await other.store('web/last-from-other-tab', 'also there');
      await other.close();
      closed = true;
      await waitFor('the registry to become writable', () => service.status.state === 'connected' && !service.status.readOnly, 20_000);
      const writable = await api.getRegistry();
      assert.notEqual(writable, mine);
      assert.equal(writable.describe().readOnly, false);
      assert.equal(await writable.retrieve('web/from-other-tab'), 'written there');
      assert.equal(await writable.retrieve('web/last-from-other-tab'), 'also there');
      await writable.store('web/writable-again', 'yes');
      assert.ok(api._test.logLines().some((l) => /no longer open elsewhere: reopening it writable/.test(l)), 'the log says why it reopened');
    } finally {
      if (!closed) {
        await other.close();
      }
    }
  });

  it('PostgreSQL and Redis say in one line that they need the desktop or a Remote window; their connections show as unavailable', async () => {
    const api = await getApi();
    for (const [command, label] of [
      ['nautilusRegistry.connectPostgres', 'PostgreSQL'],
      ['nautilusRegistry.connectRedis', 'Redis'],
    ] as const) {
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand(command, { url: label === 'Redis' ? 'redis://127.0.0.1:6379' : 'postgres://u@127.0.0.1/db' })),
        (err: unknown) => isRegistryError(err, 'UNSUPPORTED') && new RegExp(`^${label} needs a network connection .*VS Code Desktop or a Remote window`).test((err as Error).message),
      );
    }
    // Connections in settings (synced from a desktop, say): each root fails with that line, nothing crashes.
    await setConnections([
      { name: 'team', backend: 'postgres', url: 'postgres://u@127.0.0.1/db' },
      { name: 'cache', backend: 'redis', url: 'redis://127.0.0.1:6379' },
      { name: 'file', backend: 'sqlite', file: '/tmp/other.sqlite' },
    ]);
    try {
      for (const [name, re] of [
        ['team', /PostgreSQL needs a network connection that a browser cannot open/],
        ['cache', /Redis needs a network connection that a browser cannot open/],
        ['file', /SQLite file connection .* needs VS Code Desktop or a Remote window/],
      ] as const) {
        await assert.rejects(api.getRegistry(name), (err: unknown) => isRegistryError(err, 'UNSUPPORTED') && re.test((err as Error).message));
        const managed = api._test.service.find(name)!;
        assert.equal(managed.status.state, 'failed');
        assert.match(managed.status.error ?? '', re);
      }
    } finally {
      await setConnections(undefined);
    }
    const back = await api.getRegistry();
    assert.equal(await back.retrieve('web/still'), 'writable');
  });

  it('exports to and imports from a file through vscode.workspace.fs', async () => {
    const api = await getApi();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    assert.ok(folder, 'a folder is open');
    const file = vscode.Uri.joinPath(folder, 'web-export.json');
    const exported = (await vscode.commands.executeCommand('nautilusRegistry.export', { uri: file, prefix: 'web/many/' })) as { exported: number };
    assert.equal(exported.exported, 300);
    const registry = await api.getRegistry();
    await registry.removePrefix('web/many/');
    const imported = (await vscode.commands.executeCommand('nautilusRegistry.import', { uri: file })) as { stored: number };
    assert.equal(imported.stored, 300);
    assert.equal(await registry.retrieve('web/many/007'), 'v7');
    await vscode.workspace.fs.delete(file);
  });
});
