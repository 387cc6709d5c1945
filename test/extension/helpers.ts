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

/**
 * The workspace registry (sqlite in the workspace storage folder), emptied, with the view settings
 * back to their defaults: what most test files start from.
 */
export async function freshRegistry(): Promise<RegistryStorage> {
  const api = await getApi();
  await setSettings({ separator: undefined, pageSize: undefined, valuePreviewLength: undefined });
  const registry = await api.getRegistry();
  await registry.removePrefix('');
  assert.equal(await registry.count(), 0);
  // Start from a view that has nothing of the previous test cached (not even a batch on its way).
  api._test.provider.refresh();
  return registry;
}

/** Replaces the connections (user-level list untouched); waits until the view has one root per connection. */
export async function setConnections(list: Record<string, unknown>[] | undefined): Promise<void> {
  const api = await getApi();
  await config().update('connections', list, vscode.ConfigurationTarget.Workspace);
  const want = ['workspace', ...(list ?? []).map((c) => String(c.name))];
  await waitFor(`registries ${want.join(', ')}`, () => JSON.stringify(api.registryNames) === JSON.stringify(want));
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
  kind: 'registry' | 'folder' | 'key' | 'loadMore' | 'error';
  registry?: string;
  prefix?: string;
  key?: string;
  preview?: string;
  count?: number;
  parentKey?: string;
  message?: string;
}

/** The children the tree provider gives for a node (undefined: the workspace registry's top level, below its root). */
export async function children(api: NautilusRegistryApi, node?: NodeLike): Promise<NodeLike[]> {
  return (await api._test.provider.getChildren((node ?? api._test.provider.rootOf('workspace')) as never)) as unknown as NodeLike[];
}

/** The top level of the view: one root per registry. */
export async function roots(api: NautilusRegistryApi): Promise<NodeLike[]> {
  return (await api._test.provider.getChildren(undefined)) as unknown as NodeLike[];
}

/** The top level of a registry's keys, below its root. */
export async function childrenOf(api: NautilusRegistryApi, registry: string, node?: NodeLike): Promise<NodeLike[]> {
  return (await api._test.provider.getChildren((node ?? api._test.provider.rootOf(registry)) as never)) as unknown as NodeLike[];
}

/** Labels for assertions: folders as 'name/', keys as their key, "Load more…" as '…'. */
export function describeNodes(nodes: NodeLike[]): string[] {
  return nodes.map((n) =>
    n.kind === 'registry' ? `[${n.registry}]` : n.kind === 'folder' ? n.prefix! : n.kind === 'key' ? n.key! : n.kind === 'loadMore' ? '…' : `error: ${n.message}`,
  );
}

export function isRegistryError(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'RegistryError' && (err as { code?: string }).code === code;
}

/** Closes every editor (between tests that open values). */
export async function closeEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
