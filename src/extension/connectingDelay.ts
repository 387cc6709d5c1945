import { SHOW_CONNECTING_AFTER_MS } from './settings';

/**
 * Shows a registry's "opening" state only once the open has taken SHOW_CONNECTING_AFTER_MS: a quick
 * open flashes no spinner, and the window does not repaint twice while the engine reads the file.
 */
export class ConnectingDelay {
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Runs `render` now, or, while `connecting`, once the delay has passed; a later call replaces a pending one. */
  render(connecting: boolean, render: () => void): void {
    this.dispose();
    if (connecting) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        render();
      }, SHOW_CONNECTING_AFTER_MS);
    } else {
      render();
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
