// The results panel's notifications before the webview listens: held (the latest of each event), then sent once it
// says `ready`, in an order that leaves the item's page showing.
import { describe, expect, it } from 'vitest';
import type { ViewerNotification } from '../../src/core/viewer/protocol';
import { NotificationQueue } from '../../src/extension/notification-queue';

const progress = (recorded: number): ViewerNotification => ({ kind: 'notification', event: 'runProgress', data: { runId: 'r', status: 'running', planned: 10, recorded, errors: 0 } });

describe('NotificationQueue', () => {
  it('holds notifications until ready, keeps the latest of each, and sends an item after the page', () => {
    const sent: ViewerNotification[] = [];
    const q = new NotificationQueue((n) => sent.push(n));
    q.notify({ kind: 'notification', event: 'openItem', data: { itemId: 'q1' } });
    q.notify(progress(2));
    q.notify(progress(5));
    q.notify({ kind: 'notification', event: 'openItem', data: { itemId: 'q7' } });
    q.notify({ kind: 'notification', event: 'runChanged', data: {} });
    expect(sent).toEqual([]);
    q.markReady();
    expect(sent).toEqual([{ kind: 'notification', event: 'runChanged', data: {} }, progress(5), { kind: 'notification', event: 'openItem', data: { itemId: 'q7' } }]);
    q.notify(progress(6));
    expect(sent.at(-1)).toEqual(progress(6));
  });

  it('a pending item wins over a pending page; a page alone is shown; a reload holds them again', () => {
    const sent: ViewerNotification[] = [];
    const q = new NotificationQueue((n) => sent.push(n));
    q.notify({ kind: 'notification', event: 'showPage', data: { page: 'ranks' } });
    q.notify({ kind: 'notification', event: 'openItem', data: { itemId: 'q1' } });
    q.markReady();
    expect(sent.map((n) => n.event)).toEqual(['openItem']);
    q.reset();
    q.notify({ kind: 'notification', event: 'showPage', data: { page: 'probes' } });
    expect(sent).toHaveLength(1);
    q.markReady();
    expect(sent.at(-1)).toEqual({ kind: 'notification', event: 'showPage', data: { page: 'probes' } });
  });
});
