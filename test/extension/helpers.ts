/**
 * Shared helpers of the extension-host tests (not a test file): the extension's API, switching the
 * backend through settings, waiting for the tree's batched refresh.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NautilusRegistryApi } from '../../src/extension/extension';
import type { RegistryStorage } from '../../src/registry';

export const EXTENSION_ID = 'nautilus.nautilus-registry';
export const SECTION = 'nautilusRegistry';

export async function getApi(): Promise<NautilusRegistryApi> {
  const ext = vscode.extensions.getExtension<NautilusRegistryApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

export function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

/** Sets workspace settings of the extension (undefined removes one). */
export async function setSettings(values: Record<string, unknown>): Promise<void> {
  for (const [k, v] of Object.entries(values)) {
    await config().update(k, v, vscode.ConfigurationTarget.Workspace);
  }
}

/** Switches to `backend` through the settings and returns the registry now open. */
export async function useBackend(backend: string, extra: Record<string, unknown> = {}): Promise<RegistryStorage> {
  const api = await getApi();
  await setSettings({ ...extra, backend });
  const registry = await api.getRegistry();
  assert.equal(api._test.service.status.backend, backend, `expected the ${backend} backend, status: ${JSON.stringify(api._test.service.status)}`);
  return registry;
}

/** A fresh, empty in-memory registry for a test file. */
export async function freshMemory(): Promise<RegistryStorage> {
  const api = await getApi();
  await setSettings({ backend: 'memory', separator: undefined, pageSize: undefined, valuePreviewLength: undefined });
  await api._test.service.reconnect();
  const registry = await api.getRegistry();
  assert.equal(await registry.count(), 0);
  return registry;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) {
        return v;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`Timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    }
    await sleep(50);
  }
}

export interface NodeLike {
  kind: 'folder' | 'key' | 'loadMore' | 'error';
  prefix?: string;
  key?: string;
  preview?: string;
  count?: number;
  parentKey?: string;
  message?: string;
}

/** The children the tree provider gives for a node (undefined: the top level). */
export async function children(api: NautilusRegistryApi, node?: NodeLike): Promise<NodeLike[]> {
  return (await api._test.provider.getChildren(node as never)) as unknown as NodeLike[];
}

/** Labels for assertions: folders as 'name/', keys as their key, "Load more…" as '…'. */
export function describeNodes(nodes: NodeLike[]): string[] {
  return nodes.map((n) => (n.kind === 'folder' ? n.prefix! : n.kind === 'key' ? n.key! : n.kind === 'loadMore' ? '…' : `error: ${n.message}`));
}

export function isRegistryError(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'RegistryError' && (err as { code?: string }).code === code;
}

/** Closes every editor (between tests that open values). */
export async function closeEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
