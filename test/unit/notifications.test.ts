import { Webhook } from 'standardwebhooks';
import { describe, expect, it, vi } from 'vitest';
import { emailText } from '#lib/notifications/channels.ts';
import * as notices from '#lib/notifications/events.ts';
import { NotificationSchema, type Notification, type NotificationRecord } from '#lib/notifications/model.ts';
import { notifier, type NotificationChannel, type NotificationStore } from '#lib/notifications/notifier.ts';
import { newSecret, secretBytes, signedHeaders, verify } from '#lib/notifications/standardWebhooks.ts';
import type { Log } from '#lib/log.ts';

/** Notifications: Standard Webhooks signatures checked by the specification's own library, once-only sending, the events. */

const AT = '2026-12-06T10:00:00.000Z';
const log = (): Log => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }) as unknown as Log;

describe('Standard Webhooks signatures', () => {
  it('are verified by the standardwebhooks library, and ours rejects a changed body or a stale time', () => {
    const secret = newSecret();
    const body = JSON.stringify(notices.dlqNotEmpty({ queue: 'q', messages: 2, at: AT }));
    const now = Math.floor(Date.now() / 1000);
    const headers = signedHeaders(secret, 'msg_1', now, body);

    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(verify(secret, headers, body, now)).toBe(true);
    expect(verify(secret, headers, `${body} `, now)).toBe(false);
    expect(verify(secret, headers, body, now + 301)).toBe(false);
    expect(verify(newSecret(), headers, body, now)).toBe(false);
  });

  it('accepts only secrets in the specification’s form', () => {
    expect(() => secretBytes('plain-secret')).toThrow('whsec_<base64>');
    expect(() => secretBytes('whsec_c2hvcnQ=')).toThrow('at least 24 bytes');
    expect(secretBytes(newSecret())).toHaveLength(32);
  });
});

/** A store in memory with the DynamoDB store's rules (claim once, retake a failed one). */
function memoryStore(): NotificationStore & { records: Map<string, NotificationRecord> } {
  const records = new Map<string, NotificationRecord>();
  return {
    records,
    async claim(n) {
      const existing = records.get(n.id);
      if (existing) return { claimed: false, existing };
      records.set(n.id, { ...n, status: 'sending', attempts: 1 });
      return { claimed: true };
    },
    async settle(id, outcome) {
      const r = records.get(id)!;
      records.set(
        id,
        outcome.status === 'sent' ? { ...r, status: 'sent', sentAt: outcome.at } : { ...r, status: 'failed', lastError: outcome.error },
      );
    },
    async retake(id, attempts) {
      const r = records.get(id)!;
      if (r.status !== 'failed' || r.attempts !== attempts) return false;
      records.set(id, { ...r, status: 'sending', attempts: attempts + 1 });
      return true;
    },
  };
}

describe('the notifier', () => {
  const notification: Notification = notices.provisioningFailed({
    instanceId: 'i-1',
    orderId: 'CS1',
    eventId: 'e-1',
    reason: 'webhook answered 400',
    at: AT,
  });

  it('tells each event once on every channel', async () => {
    const store = memoryStore();
    const sent: string[] = [];
    const channel = (name: string): NotificationChannel => ({ name, send: async (n) => void sent.push(`${name}:${n.id}`) });
    const notify = notifier({ store, channels: [channel('sns'), channel('webhook')], now: () => Date.parse(AT), log: log() });

    expect(await notify(notification)).toBe('sent');
    expect(await notify(notification)).toBe('already');

    expect(sent).toEqual([`sns:${notification.id}`, `webhook:${notification.id}`]);
    expect(store.records.get(notification.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('keeps a failed sending with its error and tries it again at the next notice, without throwing', async () => {
    const store = memoryStore();
    const send = vi
      .fn<(n: Notification) => Promise<void>>()
      .mockRejectedValueOnce(new Error('SNS unavailable'))
      .mockResolvedValue(undefined);
    const notify = notifier({ store, channels: [{ name: 'sns', send }], now: () => Date.parse(AT), log: log() });

    expect(await notify(notification)).toBe('failed');
    expect(store.records.get(notification.id)).toMatchObject({ status: 'failed', lastError: 'SNS unavailable' });
    expect(await notify(notification)).toBe('sent');
    expect(store.records.get(notification.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await notify(notification)).toBe('already');
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('refuses a malformed notification without sending it, and says so in the log', async () => {
    const store = memoryStore();
    const logger = log();
    const send = vi.fn(async () => {});
    const notify = notifier({ store, channels: [{ name: 'sns', send }], now: () => Date.parse(AT), log: logger });

    expect(await notify({ ...notification, subject: '' })).toBe('failed');
    expect(send).not.toHaveBeenCalled();
    expect(store.records.size).toBe(0);
    expect(logger.error).toHaveBeenCalled();
  });
});

describe('the events', () => {
  it('build valid notifications whose ids make a repeated event the same', () => {
    const built = [
      notices.orderPaid({ instanceId: 'i', orderId: 'o', orderLineId: 'o-1', productId: 'p', at: AT }),
      notices.provisioningFailed({ instanceId: 'i', orderId: 'o', eventId: 'e', reason: 'x'.repeat(900), test: true, at: AT }),
      notices.provisioningStuck({ instanceId: 'i', orderId: 'o', since: AT, requeues: 3, at: AT }),
      notices.usageRefused({ instanceId: 'i', beginTime: AT, code: 'MKT.0999', message: 'no', at: AT }),
      notices.statementWritten({ month: '2026-11', version: 2, lines: 10, problems: 0, at: AT }),
      notices.statementWritten({ month: '2026-11', version: 2, lines: 10, problems: 3, at: AT }),
      notices.reconciliationDifferences({
        month: '2026-11',
        version: 2,
        uploadId: 'u',
        amountDiffers: 1,
        onlyOurs: 0,
        onlyTheirs: 2,
        at: AT,
      })!,
      notices.dlqNotEmpty({ queue: 'q', messages: 1, at: AT }),
      notices.supervisionAwaitingProofs({ orderId: 'o', orderLineId: 'o-1', instanceId: 'i', since: AT, dueAt: AT, at: AT }),
      notices.supervisionDeadline({
        orderId: 'o',
        orderLineId: 'o-1',
        instanceId: 'i',
        waitingFor: 'decision',
        since: AT,
        dueAt: AT,
        at: AT,
      }),
    ];
    for (const n of built) expect(NotificationSchema.safeParse(n).success, n.id).toBe(true);
    expect(built.map((n) => n.type)).toEqual([
      'order.paid',
      'provisioning.failed',
      'provisioning.stuck',
      'usage.refused',
      'statement.ready',
      'statement.problems',
      'reconciliation.differences',
      'dlq.notEmpty',
      'supervision.awaitingProofs',
      'supervision.deadline',
    ]);
    expect(notices.orderPaid({ instanceId: 'i', orderId: 'o', orderLineId: 'o-1', at: '2027-01-01T00:00:00.000Z' }).id).toBe(built[0]!.id);
    expect(
      notices.reconciliationDifferences({
        month: '2026-11',
        version: 2,
        uploadId: 'u',
        amountDiffers: 0,
        onlyOurs: 0,
        onlyTheirs: 0,
        at: AT,
      }),
    ).toBeUndefined();
    expect(notices.dlqNotEmpty({ queue: 'q', messages: 5, at: '2026-12-06T23:00:00.000Z' }).id).toBe(built[7]!.id);
  });

  it('reads as an e-mail with what it is about and where to look', () => {
    const text = emailText(notices.orderPaid({ instanceId: 'i-9', orderId: 'CS9', orderLineId: 'CS9-1', at: AT }));
    expect(text).toContain('instanceId: i-9');
    expect(text).toContain('seller API: GET /seller/instances/i-9');
  });
});
