import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoClient, sqsReceivingClient } from '#lib/aws/clients.ts';
import { config } from '#lib/config.ts';
import { notifyFor } from '#lib/notifications/deps.ts';
import type { Log } from '#lib/log.ts';
import { webhookChannel } from '#lib/notifications/channels.ts';
import * as notices from '#lib/notifications/events.ts';
import { notifier } from '#lib/notifications/notifier.ts';
import { newSecret } from '#lib/notifications/standardWebhooks.ts';
import { guardedTransport } from '#lib/provisioning/webhookTransport.ts';
import { notificationStore } from '#lib/store/notificationStore.ts';
import { env } from '../helpers/produce.ts';
import { seller, sellerKey } from '../helpers/seller.ts';

/**
 * Notifications end to end on DynamoDB Local: the record claimed once, the seller's webhook signed so that the
 * Standard Webhooks library verifies it, a failing webhook retried at the next notice, and the seller API's inbox.
 */

const log = (): Log => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }) as unknown as Log;
const secret = newSecret();
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let failNext = 0;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(failNext-- > 0 ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/koogallery`;
});
afterAll(() => server.close());

function notifyVia() {
  const store = notificationStore(dynamoClient(), env('MAIN_TABLE'));
  const channel = webhookChannel({
    url,
    secret: async () => secret,
    transport: guardedTransport({ allowPrivateHosts: true }),
    timeoutMs: 2_000,
    now: Date.now,
  });
  return { store, notify: notifier({ store, channels: [channel], now: Date.now, log: log() }) };
}

describe('notifications', () => {
  it('go to the webhook once, signed so that the Standard Webhooks library verifies them', async () => {
    const { store, notify } = notifyVia();
    const instanceId = `i-${randomUUID()}`;
    const notice = notices.provisioningFailed({
      instanceId,
      orderId: 'CS1',
      eventId: 'e1',
      reason: 'refused',
      at: new Date().toISOString(),
    });
    const before = received.length;

    expect(await notify(notice)).toBe('sent');
    expect(await notify(notice)).toBe('already');

    const mine = received.slice(before);
    expect(mine).toHaveLength(1);
    const verified = new Webhook(secret).verify(mine[0]!.body, mine[0]!.headers as Record<string, string>);
    expect(verified).toMatchObject({ id: notice.id, type: 'provisioning.failed', target: { instanceId } });
    expect(mine[0]!.headers['webhook-id']).toBe(notice.id);
    expect(await store.get(notice.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('keep a refused delivery as failed, with the answer, and deliver it at the next notice', async () => {
    const { store, notify } = notifyVia();
    const notice = notices.dlqNotEmpty({ queue: `dlq-${randomUUID()}`, messages: 3, at: new Date().toISOString() });
    failNext = 1;

    expect(await notify(notice)).toBe('failed');
    expect(await store.get(notice.id)).toMatchObject({ status: 'failed', lastError: 'the notification webhook answered HTTP 503' });
    expect(await notify(notice)).toBe('sent');
    expect(await store.get(notice.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('are listed newest first in the seller API’s inbox, one by one, for a key with messages:read only', async () => {
    const { notify } = notifyVia();
    const month = '2026-11';
    const first = notices.statementWritten({
      month,
      version: Date.now(),
      lines: 1,
      problems: 2,
      // Far later than anything another test file notifies in the shared table, so these two head the listing.
      at: '2099-01-01T00:00:00.000Z',
    });
    const second = notices.orderPaid({
      instanceId: `i-${randomUUID()}`,
      orderId: `CS${Date.now()}`,
      orderLineId: 'l1',
      at: '2099-01-01T00:01:00.000Z',
    });
    expect(await notify(first)).toBe('sent');
    expect(await notify(second)).toBe('sent');
    const reader = await sellerKey('messages:read');

    const page = await seller('GET', '/seller/notifications', { key: reader, query: { limit: '2' } });
    expect(page.status).toBe(200);
    const ids = (page.json.items as { id: string }[]).map((n) => n.id);
    expect(ids).toEqual([second.id, first.id]);

    const one = await seller('GET', `/seller/notifications/${encodeURIComponent(first.id)}`, { key: reader });
    expect(one.json).toMatchObject({ id: first.id, type: 'statement.problems', status: 'sent', link: `/seller/statements/${month}` });

    const unknown = await seller('GET', '/seller/notifications/no-such', { key: reader });
    expect(unknown.status).toBe(404);
    const bad = await seller('GET', '/seller/notifications', { key: reader, query: { limit: '0' } });
    expect(bad.status).toBe(400);
    const noScope = await seller('GET', '/seller/notifications', { key: await sellerKey('usage:read') });
    expect(noScope.status).toBe(403);
  });
});

describe('the local notification topic (fauxqs SNS)', () => {
  it('is created with the local stack, named to the functions, and what they publish reaches its local queue', async () => {
    const topicArn = env('NOTIFY_TOPIC_ARN');
    expect(topicArn).toMatch(/^arn:aws:sns:us-east-1:\d+:koogallery-isv-test-notifications$/);
    expect(env('AWS_ENDPOINT_URL_SNS')).toBe(env('AWS_ENDPOINT_URL_SQS'));
    const sqs = sqsReceivingClient();
    const queueUrl = (await sqs.send('GetQueueUrl', { QueueName: 'koogallery-isv-test-notifications-local' })).QueueUrl!;

    // The functions' own wiring: the topic from NOTIFY_TOPIC_ARN, the endpoint from AWS_ENDPOINT_URL_SNS.
    const notify = notifyFor(config(), log());
    const notice = notices.dlqNotEmpty({ queue: `q-${randomUUID()}`, messages: 2, at: new Date().toISOString() });
    expect(await notify(notice)).toBe('sent');
    expect(await notify(notice)).toBe('already');

    const bodies: string[] = [];
    for (let i = 0; i < 5 && !bodies.some((b) => b.includes(notice.id)); i++) {
      const got = await sqs.send('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
      bodies.push(...(got.Messages ?? []).map((m) => m.Body ?? ''));
    }
    const mine = bodies.filter((b) => b.includes(notice.id));
    expect(mine).toHaveLength(1);
    // Published with a message per protocol: subscribers other than e-mail get the notification as JSON.
    const published = JSON.parse(mine[0]!) as { default: string; email: string };
    expect(JSON.parse(published.default)).toMatchObject({ id: notice.id, type: 'dlq.notEmpty' });
    expect(published.email).toContain(`notification ${notice.id}`);
  });
});
