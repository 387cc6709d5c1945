/** A folder whose key count the tree shows. */
export interface Countable {
  readonly prefix: string;
  count: number | undefined;
}

/**
 * Counts folders in the background, a few at a time (no `vscode` import). Counting starts after the
 * children went out (an embedded backend counts on this thread): a folder shows first, its count follows.
 */
export class FolderCounter<F extends Countable> {
  private queue: F[] = [];
  private running = 0;
  private scheduled = false;
  private epoch = 0;

  constructor(
    private readonly count: (prefix: string) => Promise<number> | undefined,
    private readonly onCounted: (folder: F) => void,
    private readonly onError: (folder: F, err: unknown) => void,
    private readonly concurrency = 4,
  ) {}

  enqueue(folder: F): void {
    if (!this.queue.includes(folder)) {
      this.queue.push(folder);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.pump();
      }, 0);
    }
  }

  /** Counts these now (at most `inline` of them; the rest are queued); resolves to the folders whose count changed. */
  async recount(folders: readonly F[], inline = 32): Promise<Set<F>> {
    const changed = new Set<F>();
    const epoch = this.epoch;
    await Promise.all(
      folders.slice(0, inline).map(async (f) => {
        try {
          const n = await this.count(f.prefix);
          if (n !== undefined && epoch === this.epoch && n !== f.count) {
            f.count = n;
            changed.add(f);
          }
        } catch (err) {
          this.onError(f, err);
        }
      }),
    );
    for (const f of folders.slice(inline)) {
      this.enqueue(f);
    }
    return changed;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const folder = this.queue.shift()!;
      const counting = this.count(folder.prefix);
      if (!counting) {
        this.queue = [];
        return;
      }
      this.running++;
      const epoch = this.epoch;
      counting
        .then(
          (n) => {
            if (epoch === this.epoch && n !== folder.count) {
              folder.count = n;
              this.onCounted(folder);
            }
          },
          (err: unknown) => this.onError(folder, err),
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  /** Drops what is queued; counts still running land nowhere. */
  reset(): void {
    this.epoch++;
    this.queue = [];
  }
}
