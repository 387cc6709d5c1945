import * as vscode from 'vscode';
import type { RegistryStorage } from '../../registry';
import { errorMessage, logger } from '../log';
import type { ManagedRegistry } from '../registries/managedRegistry';
import type { RegistryService } from '../registryService';
import { showErrorWithLog } from '../registryService';
import type { PasswordStore } from '../secrets';
import type { RecentRegistries } from '../ui/prompts';
import { pickRegistry } from '../ui/prompts';
import type { CompareTreeProvider } from '../view/compareTreeProvider';
import type { KeysTreeProvider } from '../view/keysTreeProvider';
import type { TreeNode } from '../view/treeNodes';
import type { CommandContext } from './context';
import { isInteractive, parseCommandContext, str } from './context';

const log = logger('commands');

/** What commands work with. */
export interface CommandEnv {
  readonly context: vscode.ExtensionContext;
  readonly service: RegistryService;
  readonly provider: KeysTreeProvider;
  readonly view: vscode.TreeView<TreeNode>;
  readonly passwords: PasswordStore;
  readonly recent: RecentRegistries;
  readonly compare: CompareTreeProvider;
}

/** Thrown when the user dismissed a prompt the command needed: the command ends quietly with undefined. */
export class Cancelled extends Error {
  constructor() {
    super('Cancelled');
  }
}

/** One run of a command: its parsed context, and the registry it acts on once resolved. */
export class Invocation {
  /** The registry the command resolved (for error reporting: a lost server shows on its root). */
  target: ManagedRegistry | undefined;

  constructor(
    readonly id: string,
    readonly ctx: CommandContext,
    readonly env: CommandEnv,
  ) {}

  get interactive(): boolean {
    return isInteractive(this.ctx);
  }

  /** Named fields of a call from code (`{ key, value, registry, … }`). */
  get named(): Readonly<Record<string, unknown>> | undefined {
    return this.ctx.kind === 'args' ? this.ctx.named : undefined;
  }

  /** The i-th argument of a call from code. */
  arg(i: number): unknown {
    return this.ctx.kind === 'args' ? this.ctx.positional[i] : undefined;
  }

  /** A named string field, else the i-th argument when it is a string. */
  text(name: string, i: number): string | undefined {
    return str(this.named?.[name]) ?? str(this.arg(i));
  }

  get separator(): string {
    return this.env.provider.separator;
  }

  /**
   * The registry the command acts on: the clicked node's; `{ registry }` from code (the workspace
   * registry without it); from the palette the selected node's, else with several registries the
   * user picks (the last used first).
   */
  async managed(title?: string): Promise<ManagedRegistry> {
    if (this.target) {
      return this.target;
    }
    const { service } = this.env;
    let target: ManagedRegistry | undefined;
    if (this.ctx.kind === 'tree' || this.ctx.kind === 'args') {
      target = service.get(this.ctx.registry);
    } else if (this.ctx.selection.length > 0) {
      target = service.get(this.ctx.selection[0].registry);
    } else if (service.registries.length === 1) {
      target = service.workspace;
    } else {
      target = await pickRegistry(service.registries, this.env.recent, title ?? vscode.l10n.t('Which registry?'));
      if (!target) {
        throw new Cancelled();
      }
    }
    this.target = target;
    return target;
  }

  /** The storage of the registry the command acts on, opened (or reopened after a settings change). */
  async registry(title?: string): Promise<RegistryStorage> {
    return (await this.managed(title)).ensureCurrent();
  }
}

/** A command: its id and what it does with one invocation. */
export interface CommandUnit {
  readonly id: string;
  run(inv: Invocation): Promise<unknown> | unknown;
}

export function command(id: string, run: (inv: Invocation) => Promise<unknown> | unknown): CommandUnit {
  return { id, run };
}

/**
 * Registers commands with the shared handling: the invocation is parsed once; a failure is reported
 * to its registry (a lost server shows in the tree), logged, and shown as a toast with Show Log from
 * the UI, or rethrown to a caller from code.
 */
export function registerUnits(env: CommandEnv, units: readonly CommandUnit[]): void {
  for (const unit of units) {
    env.context.subscriptions.push(
      vscode.commands.registerCommand(unit.id, async (...args: unknown[]) => {
        const inv = new Invocation(unit.id, parseCommandContext(args, env.view.selection), env);
        try {
          return await unit.run(inv);
        } catch (err) {
          if (err instanceof Cancelled) {
            return undefined;
          }
          (inv.target ?? env.service.workspace).reportError(err);
          log.error(`${unit.id} failed`, err);
          if (!inv.interactive) {
            throw err;
          }
          void showErrorWithLog(errorMessage(err));
          return undefined;
        }
      }),
    );
  }
}
