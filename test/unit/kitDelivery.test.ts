import { describe, expect, it } from 'vitest';
import { kitEvent } from '#lib/kit/events.ts';
import type { KitEvent, KitUser } from '#lib/kit/model.ts';
import type { KitOutbox } from '#lib/kit/ports.ts';
import { parseQueueMessage } from '#lib/outbox/queueMessage.ts';
import { templateAdapter, webhookAdapter } from '#lib/provisioning/adapters.ts';
import { handleKitEvent, KitDeliveryFailed } from '#lib/provisioning/kitDelivery.ts';
import { kitWebhookEventFor, kitWebhookEventSchema } from '#lib/provisioning/kitWebhook.ts';
import type { AnyWebhookEvent } from '#lib/provisioning/webhook.ts';

/** The Kit's events on the provisioning queue: read by type, delivered through the adapter, completed once taken. */

const user: KitUser = {
  tenantId: 't-1',
  appId: 'app-1',
  userName: 'alice',
  name: 'Alice',
  orgCode: 'org-1',
  role: 'user',
  enabled: true,
  status: 'AUTHORISED',
  test: false,
  timeStamp: '20260101000000000',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 3,
};
const event = kitEvent({ kind: 'user', value: user }, 'user.authorised')!;

function outbox(): KitOutbox & { completed: string[] } {
  const completed: string[] = [];
  return { completed, complete: async (e) => void completed.push(e.eventId), pending: async () => [], markResent: async () => false };
}

const logs: string[] = [];
const log = { info: () => {}, warn: () => {}, error: (m: string) => void logs.push(m) };

describe('queue messages', () => {
  it('reads a Kit event as one, and a lifecycle event as one', () => {
    const kit = parseQueueMessage(JSON.stringify(event));
    expect(kit.ok && kit.value.kind).toBe('kit');
    const lifecycle = parseQueueMessage(
      JSON.stringify({
        eventId: 'i:1',
        type: 'instance.frozen',
        instanceId: 'i',
        version: 1,
        state: 'FROZEN',
        occurredAt: 'x',
        test: false,
      }),
    );
    expect(lifecycle.ok && lifecycle.value.kind).toBe('lifecycle');
  });

  it('refuses an unknown type, a bad id, a missing payload and a body that is not JSON, saying what is wrong', () => {
    const bad = (body: unknown) => parseQueueMessage(typeof body === 'string' ? body : JSON.stringify(body));
    expect(bad({ ...event, type: 'user.promoted' })).toMatchObject({ ok: false, issue: expect.stringContaining('type') });
    expect(bad({ ...event, eventId: 'kit:x:1' })).toMatchObject({ ok: false, issue: expect.stringContaining('eventId') });
    expect(bad({ ...event, data: {} })).toMatchObject({ ok: false });
    expect(bad('not json')).toEqual({ ok: false, issue: 'the body is not JSON' });
  });
});

describe('the webhook body', () => {
  it('carries the record, its kind and version, and meets the contract', () => {
    const body = kitWebhookEventFor(event);
    expect(body).toMatchObject({ id: event.eventId, kind: 'user', version: 3, tenantId: 't-1', user: { userName: 'alice' } });
    expect(kitWebhookEventSchema.safeParse(body).success).toBe(true);
  });

  it('a type that does not match its kind is outside the contract', () => {
    expect(kitWebhookEventSchema.safeParse({ ...kitWebhookEventFor(event), type: 'org.created' }).success).toBe(false);
  });
});

describe('delivery', () => {
  const deliverWith = (answer: { ok: true; status: number } | { ok: false; retry: boolean; reason: string }) => {
    const sent: AnyWebhookEvent[] = [];
    const adapter = webhookAdapter(async (e) => (sent.push(e), answer));
    return { adapter, sent };
  };

  it('completes the event once the product took it', async () => {
    const box = outbox();
    const { adapter, sent } = deliverWith({ ok: true, status: 200 });
    expect(await handleKitEvent(event, { adapter, kitOutbox: box, log })).toBe('delivered');
    expect(sent).toHaveLength(1);
    expect(box.completed).toEqual([event.eventId]);
  });

  it('a retryable failure and a refusal for good both go back to the queue; only the refusal is logged as an error', async () => {
    for (const [retry, errors] of [
      [true, 0],
      [false, 1],
    ] as const) {
      logs.length = 0;
      const box = outbox();
      const { adapter } = deliverWith({ ok: false, retry, reason: 'webhook answered HTTP 4xx' });
      await expect(handleKitEvent(event, { adapter, kitOutbox: box, log })).rejects.toBeInstanceOf(KitDeliveryFailed);
      expect(box.completed).toEqual([]);
      expect(logs).toHaveLength(errors);
    }
  });

  it('template mode calls nothing and completes the event', async () => {
    const box = outbox();
    const adapter = templateAdapter({ frontEndUrl: 'https://app.example.com/{instanceId}' });
    await handleKitEvent(event as KitEvent, { adapter, kitOutbox: box, log });
    expect(box.completed).toEqual([event.eventId]);
  });
});
