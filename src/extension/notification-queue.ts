import type { ViewerNotification } from '../core/viewer/protocol';

// Notifications the host sends before the webview has said `ready` would be lost (its listener is not there yet):
// they wait here, the latest of each event, and go out in an order that leaves the right page showing.
const FLUSH_ORDER: ReadonlyArray<ViewerNotification['event']> = ['runChanged', 'runProgress', 'showPage', 'openItem'];

export class NotificationQueue {
  private ready = false;
  private readonly waiting = new Map<ViewerNotification['event'], ViewerNotification>();

  constructor(private readonly post: (n: ViewerNotification) => void) {}

  /** Sends now when the webview listens, else keeps the latest of its event for `markReady`. */
  notify(n: ViewerNotification): void {
    if (this.ready) this.post(n);
    else this.waiting.set(n.event, n);
  }

  /** The webview said `ready`: what waited goes out (an item wins over a page: it shows the item's page). */
  markReady(): void {
    this.ready = true;
    if (this.waiting.has('openItem')) this.waiting.delete('showPage');
    for (const event of FLUSH_ORDER) {
      const n = this.waiting.get(event);
      if (n) this.post(n);
    }
    this.waiting.clear();
  }

  /** The webview reloads (its HTML was set again): hold notifications until it says `ready` once more. */
  reset(): void {
    this.ready = false;
  }
}
