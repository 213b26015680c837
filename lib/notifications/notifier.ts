/**
 * Tells the seller's people about a notification: once per notification id, on every configured channel. The
 * notification is claimed first (its record), so a second notice of the same event sends nothing; a channel that
 * fails leaves the record `failed` with the error, and the next notice of the same event tries again. A failure
 * here never fails the flow that noticed the event: it is logged, and the record shows it.
 */
import type { Log } from '#lib/log.ts';
import { errorMessage } from '#lib/shared/errors.ts';
import { NotificationSchema, type Notification, type NotificationRecord } from './model.ts';

/** Where notifications go (the SNS topic, the webhook). */
export interface NotificationChannel {
  name: string;
  send(notification: Notification): Promise<void>;
}

export interface NotificationStore {
  /** Creates the record as `sending`; answers the existing record instead when there is one. */
  claim(notification: Notification, nowIso: string): Promise<{ claimed: true } | { claimed: false; existing: NotificationRecord }>;
  /** Records the outcome of a sending. */
  settle(id: string, outcome: { status: 'sent'; at: string } | { status: 'failed'; error: string; at: string }): Promise<void>;
  /** Takes a failed record back for another try; false when someone else did. */
  retake(id: string, attempts: number): Promise<boolean>;
}

export interface NotifierDeps {
  store: NotificationStore;
  channels: readonly NotificationChannel[];
  now: () => number;
  log: Log;
}

export type Notify = (notification: Notification) => Promise<'sent' | 'already' | 'failed'>;

export function notifier(deps: NotifierDeps): Notify {
  return async (input) => {
    const nowIso = new Date(deps.now()).toISOString();
    let notification: Notification = input;
    let held = false;
    try {
      notification = NotificationSchema.parse(input);
      const claim = await deps.store.claim(notification, nowIso);
      if (!claim.claimed) {
        const { existing } = claim;
        if (existing.status !== 'failed' || !(await deps.store.retake(notification.id, existing.attempts))) return 'already';
      }
      held = true;
      for (const channel of deps.channels) await channel.send(notification);
      await deps.store.settle(notification.id, { status: 'sent', at: new Date(deps.now()).toISOString() });
      deps.log.info('notification sent', { notificationId: notification.id, type: notification.type });
      return 'sent';
    } catch (error) {
      deps.log.error('notification not sent', { notificationId: notification.id, type: notification.type, error: errorMessage(error) });
      if (held) {
        await deps.store
          .settle(notification.id, { status: 'failed', error: errorMessage(error).slice(0, 500), at: new Date(deps.now()).toISOString() })
          .catch(() => undefined);
      }
      return 'failed';
    }
  };
}
