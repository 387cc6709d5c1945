import { parentOf } from '../../registry';
import type { RegistryChange } from '../../registry';

/** One batch of changes: the folders whose direct children changed, the prefixes that changed as a whole, or everything. */
export interface ChangeBatch {
  parents: Set<string>;
  prefixes: Set<string>;
  reset: boolean;
}

/**
 * Collects a burst of registry changes and hands them over as one batch, `delayMs` after the first
 * (no `vscode` import; unit-tested). An import of 100,000 keys becomes a handful of tree refreshes.
 */
export class ChangeBatcher {
  private batch: ChangeBatch = { parents: new Set(), prefixes: new Set(), reset: false };
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly separator: () => string,
    private readonly onBatch: (batch: ChangeBatch) => void,
    private readonly delayMs = 100,
  ) {}

  add(change: RegistryChange): void {
    const sep = this.separator();
    const b = this.batch;
    switch (change.kind) {
      case 'store':
      case 'remove':
        b.parents.add(parentOf(change.key ?? '', sep));
        break;
      case 'removePrefix':
        b.prefixes.add(change.prefix ?? '');
        break;
      case 'rename':
        if (change.prefix !== undefined) {
          b.prefixes.add(change.from ?? '');
          b.prefixes.add(change.to ?? '');
        } else {
          b.parents.add(parentOf(change.from ?? '', sep));
          b.parents.add(parentOf(change.to ?? '', sep));
        }
        break;
      case 'clear':
      default:
        b.reset = true;
    }
    this.schedule();
  }

  /** Something else (not a registry change) needs a flush soon. */
  schedule(): void {
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
    }
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Hands over what is pending now (reveal calls this so every page on its path is current). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const b = this.batch;
    this.batch = { parents: new Set(), prefixes: new Set(), reset: false };
    this.onBatch(b);
  }

  /** Drops what is pending (everything is being reloaded anyway). */
  discard(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.batch = { parents: new Set(), prefixes: new Set(), reset: false };
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
