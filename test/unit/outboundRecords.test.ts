import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bestEffort, keepAnswerText, outboundRecord } from '#lib/audit/outbound.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { deliveryRecord, orderQueryRecord } from '#lib/provisioning/messageLog.ts';
import type { WebhookEvent } from '#lib/provisioning/webhook.ts';

/** The message log's records of outbound calls, built from values (lib/audit/outbound.ts, lib/provisioning/messageLog.ts). */

const T = Date.parse('2026-12-06T10:00:00.000Z');
const event: WebhookEvent = {
  id: 'inst-1:1',
  type: 'instance.created',
  occurredAt: '2026-12-06T09:59:59.000Z',
  test: false,
  instance: { instanceId: 'inst-1', state: 'PROVISIONING', orderId: 'O-1', orderLineId: 'O-1-000001' },
};
const body = (record: AuditRecord, part: 'request' | 'answer') => JSON.parse(record[part]!.json) as unknown;

describe('outbound records', () => {
  it('keeps an answer that is not JSON as one capped string', () => {
    expect(keepAnswerText('<html>Bad gateway</html>')).toEqual({ json: '"<html>Bad gateway</html>"' });
    expect(keepAnswerText('{"resultCode":"MKT.0000","token":"t"}')).toEqual({
      json: '{"resultCode":"MKT.0000","token":"[redacted: secret]"}',
    });
  });

  it('hashes and measures the request as sent, and keeps it redacted', () => {
    const record = outboundRecord({
      channel: 'openApi',
      startedMs: T - 25,
      endedMs: T,
      resultCode: 'MKT.0000',
      sent: 'orderId=O-1',
      request: { query: { orderId: 'O-1' }, password: 'pw' },
      about: { activity: 'queryOrder', instanceId: undefined, orderId: 'O-1' },
    });
    expect(record).toMatchObject({
      at: '2026-12-06T10:00:00.000Z',
      channel: 'openApi',
      latencyMs: 25,
      bodySha256: createHash('sha256').update('orderId=O-1').digest('hex'),
      bodyBytes: 11,
      activity: 'queryOrder',
      orderId: 'O-1',
    });
    expect(record).not.toHaveProperty('instanceId');
    expect(record).not.toHaveProperty('answer');
    expect(body(record, 'request')).toEqual({ query: { orderId: 'O-1' }, password: '[redacted: secret]' });
  });

  it('records a refused Query Order with its code, status and reason', () => {
    const record = orderQueryRecord(
      { orderId: 'O-1', orderLineId: 'O-1-000001' },
      { instanceId: 'inst-1', test: true },
      { ok: false, retry: true, code: 'MKT.0250', reason: 'rate limited', httpStatus: 406 },
      T - 5,
      T,
    );
    expect(record).toMatchObject({
      channel: 'openApi',
      resultCode: 'MKT.0250',
      httpStatus: 406,
      reason: 'rate limited',
      instanceId: 'inst-1',
      test: true,
    });
    expect(record).not.toHaveProperty('answer');
  });

  it('names a delivery that got no answer NETWORK_ERROR when retried, NOT_SENT when refused before sending', () => {
    const timedOut = deliveryRecord(event, { ok: false, retry: true, reason: 'webhook timed out after 3000 ms' }, T - 3000, T);
    expect(timedOut).toMatchObject({ channel: 'webhook', activity: 'instance.created', resultCode: 'NETWORK_ERROR', latencyMs: 3000 });
    expect(timedOut).not.toHaveProperty('httpStatus');
    const refused = deliveryRecord(event, { ok: false, retry: false, reason: 'webhook host resolves to a private address' }, T, T);
    expect(refused).toMatchObject({ resultCode: 'NOT_SENT', reason: 'webhook host resolves to a private address' });
    const done = deliveryRecord(event, { ok: true, status: 204 }, T, T);
    expect(done).toMatchObject({ resultCode: '204', httpStatus: 204 });
    expect(done).not.toHaveProperty('answer');
    expect(body(done, 'request')).toEqual(event);
  });

  it('logs a failed write as a warning and never throws', async () => {
    const warnings: [string, Record<string, unknown>][] = [];
    const write = bestEffort(
      async () => {
        throw Object.assign(new Error('no table'), { name: 'ResourceNotFoundException' });
      },
      { warn: (message: string, fields: Record<string, unknown>) => void warnings.push([message, fields]) },
    );
    await expect(write(deliveryRecord(event, { ok: true, status: 200 }, T, T))).resolves.toBeUndefined();
    expect(warnings).toEqual([
      [
        'message log write failed',
        expect.objectContaining({ channel: 'webhook', instanceId: 'inst-1', error: 'ResourceNotFoundException' }),
      ],
    ]);
  });
});
