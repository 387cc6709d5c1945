import * as vscode from 'vscode';
import type { TreeNode } from '../view/treeNodes';
import { ErrorNode, FolderNode, KeyNode, LoadMoreNode, RegistryNode } from '../view/treeNodes';

/**
 * How a command was invoked, parsed once (every command gets one of these instead of raw arguments):
 * - `tree`: from the Keys view (a clicked node, plus the multi-selection when the click was part of it).
 *   Destructive commands confirm.
 * - `args`: from code, a keybinding's "args" or a task: plain values (`store('a/b', 'v', {ttlMs})`) or one
 *   object with named fields (`store({ key, value, ttlMs, registry })`). Given their inputs, commands
 *   neither prompt nor confirm; they return their result and reject with the RegistryError on failure.
 * - `palette`: no arguments. Commands ask, confirm and report in the UI; they act on the view's selection
 *   where that makes sense.
 */
export type CommandContext = TreeContext | ArgsContext | PaletteContext;

export interface TreeContext {
  readonly kind: 'tree';
  /** The clicked node. */
  readonly node: TreeNode;
  /** The clicked node plus the rest of the selection when the click was on a selected node. */
  readonly nodes: readonly TreeNode[];
  /** The registry of the clicked node. */
  readonly registry: string | undefined;
  /** Arguments after the node(s), e.g. `{ preview: true }` from a key's click command. */
  readonly rest: readonly unknown[];
}

export interface ArgsContext {
  readonly kind: 'args';
  /** The first argument when it is an object of named fields. */
  readonly named: Readonly<Record<string, unknown>> | undefined;
  /** Every argument as given. */
  readonly positional: readonly unknown[];
  /** `{ registry: '<name>' }` among the named fields (or in the last argument); undefined: the workspace registry. */
  readonly registry: string | undefined;
}

export interface PaletteContext {
  readonly kind: 'palette';
  /** The Keys view's selection at the time. */
  readonly selection: readonly TreeNode[];
}

export function isNode(x: unknown): x is TreeNode {
  return x instanceof FolderNode || x instanceof KeyNode || x instanceof LoadMoreNode || x instanceof ErrorNode || x instanceof RegistryNode;
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !isNode(x) && !(x instanceof vscode.Uri);
}

export function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

/** The registry a node belongs to. */
export function registryOfNode(node: TreeNode): string | undefined {
  return node.registry;
}

/** Turns the raw arguments of a command into one tagged context. */
export function parseCommandContext(args: readonly unknown[], selection: readonly TreeNode[]): CommandContext {
  const [first, second] = args;
  if (isNode(first)) {
    const nodes = Array.isArray(second) && second.some(isNode) && second.includes(first) ? (second.filter(isNode) as TreeNode[]) : [first];
    const rest = Array.isArray(second) && second.some(isNode) ? args.slice(2) : args.slice(1);
    return { kind: 'tree', node: first, nodes, registry: registryOfNode(first), rest };
  }
  if (Array.isArray(first) && first.length > 0 && first.every(isNode)) {
    const nodes = first as TreeNode[];
    return { kind: 'tree', node: nodes[0], nodes, registry: registryOfNode(nodes[0]), rest: args.slice(1) };
  }
  if (args.length === 0 || first === undefined) {
    return { kind: 'palette', selection };
  }
  const named = isRecord(first) ? first : undefined;
  const last = args[args.length - 1];
  const registry = str(named?.registry) ?? (isRecord(last) ? str(last.registry) : undefined);
  return { kind: 'args', named, positional: args, registry };
}

/** True when the user is there to answer questions (tree or palette), false for calls from code. */
export function isInteractive(ctx: CommandContext): boolean {
  return ctx.kind !== 'args';
}

/** The nodes a command applies to: the clicked ones, or the view's selection from the palette. */
export function nodesOf(ctx: CommandContext): readonly TreeNode[] {
  return ctx.kind === 'tree' ? ctx.nodes : ctx.kind === 'palette' ? ctx.selection : [];
}

/** Keys and folders a command applies to: the clicked node(s), the named/positional keys, or the view's selection. */
export function targetsOf(ctx: CommandContext): { keys: string[]; folders: string[] } {
  const keys = new Set<string>();
  const folders = new Set<string>();
  const add = (x: unknown): void => {
    if (x instanceof KeyNode) {
      keys.add(x.key);
    } else if (x instanceof FolderNode) {
      folders.add(x.prefix);
    } else if (typeof x === 'string') {
      keys.add(x);
    } else if (Array.isArray(x)) {
      x.forEach(add);
    } else if (isRecord(x)) {
      add(x.key ?? x.keys);
    }
  };
  if (ctx.kind === 'args') {
    add(ctx.positional[0]);
  } else {
    add([...nodesOf(ctx)]);
  }
  return { keys: [...keys], folders: [...folders] };
}
