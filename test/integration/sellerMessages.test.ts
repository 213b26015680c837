import { randomInt } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keys } from '#lib/store/keys.ts';
import { env, uniqueId } from '../helpers/produce.ts';
import { seller, sellerKey } from '../helpers/seller.ts';

/**
 * GET /seller/messages filtered by instance, order, activity, channel and result, and GET /seller/messages/{id},
 * through the seller function against DynamoDB Local. Records are put on a day of the past nothing else writes to.
 */

const DAY = 86_400_000;
const day = new Date(Date.parse('2001-01-01T00:00:00.000Z') + randomInt(0, 7000) * DAY).toISOString().slice(0, 10);
const range = { from: `${day}T00:00:00Z`, to: `${day}T23:59:59Z` };

async function put(time: string, fields: Partial<AuditRecord>): Promise<AuditRecord> {
  const record: AuditRecord = {
    at: `${day}T${time}Z`,
    correlationId: uniqueId('c'),
    channel: 'produce',
    resultCode: '000000',
    latencyMs: 9,
    bodySha256: 'b'.repeat(64),
    bodyBytes: 200,
    ...fields,
  };
  await dynamoClient().send('PutItem', {
    TableName: env('AUDIT_TABLE'),
    Item: marshall({ ...keys.auditMessage(record.at, record.correlationId), ...record }),
    ConditionExpression: 'attribute_not_exists(pk)',
  });
  return record;
}

const instanceId = uniqueId('i');
const orderId = uniqueId('CS');
let seeded: Promise<AuditRecord[]> | undefined;
const seed = () =>
  (seeded ??= (async () => [
    await put('01:00:00.000', { activity: 'newInstance', instanceId, orderId }),
    await put('02:00:00.000', { channel: 'produceV1', activity: 'queryInstance', instanceId, resultCode: '000004' }),
    await put('03:00:00.000', { claimedActivity: 'newInstance', resultCode: '000001', reason: 'signature' }),
    await put('04:00:00.000', { channel: 'usagePush', resultCode: 'MKT.0100', records: 3, reason: 'bad instance' }),
    await put('05:00:00.000', { activity: 'updateInstanceStatus', instanceId: uniqueId('i'), orderId }),
    await put('06:00:00.000', { channel: 'openApi', activity: 'queryOrder', instanceId, orderId, resultCode: 'MKT.0000', httpStatus: 200 }),
    await put('07:00:00.000', {
      channel: 'webhook',
      activity: 'instance.created',
      instanceId,
      orderId,
      resultCode: '503',
      httpStatus: 503,
    }),
  ])());

const ids = (json: Record<string, unknown>) => (json.items as { messageId: string }[]).map((m) => m.messageId);
const idOf = (r: AuditRecord) => `${r.at}~${r.correlationId}`;

describe('GET /seller/messages filters', () => {
  it('filters by instance, order, activity, channel and result, newest first', async () => {
    const [created, queried, refused, pushed, frozen, ordered, delivered] = await seed();
    const key = await sellerKey('messages:read');
    const list = async (filter: Record<string, string>) => {
      const answer = await seller('GET', '/seller/messages', { key, query: { ...range, ...filter } });
      expect(answer.status, JSON.stringify(filter)).toBe(200);
      return ids(answer.json);
    };
    expect(await list({})).toEqual([delivered, ordered, frozen, pushed, refused, queried, created].map((r) => idOf(r!)));
    expect(await list({ instanceId })).toEqual([delivered, ordered, queried, created].map((r) => idOf(r!)));
    expect(await list({ orderId })).toEqual([delivered, ordered, frozen, created].map((r) => idOf(r!)));
    expect(await list({ channel: 'openApi' })).toEqual([idOf(ordered!)]);
    expect(await list({ channel: 'webhook', resultCode: '503' })).toEqual([idOf(delivered!)]);
    expect(await list({ channel: 'webhook', resultCode: '200' })).toEqual([]);
    // A refused call's claimed activity counts: the operator looks for what the marketplace tried.
    expect(await list({ activity: 'newInstance' })).toEqual([refused, created].map((r) => idOf(r!)));
    expect(await list({ channel: 'marketplace' })).toEqual([frozen, refused, queried, created].map((r) => idOf(r!)));
    expect(await list({ channel: 'usagePush' })).toEqual([idOf(pushed!)]);
    expect(await list({ channel: 'marketplace', resultCode: '000004', instanceId })).toEqual([idOf(queried!)]);
    expect(await list({ channel: 'usagePush', instanceId })).toEqual([]);
  });

  it('refuses an unknown channel or filter and a key without messages:read', async () => {
    const key = await sellerKey('messages:read');
    for (const query of [{ channel: 'email' }, { activity: '' }, { customer: 'x' }] as Record<string, string>[]) {
      const answer = await seller('GET', '/seller/messages', { key, query: { ...range, ...query } });
      expect(answer.status, JSON.stringify(query)).toBe(400);
    }
    expect((await seller('GET', '/seller/messages', { key: await sellerKey('instances:read'), query: range })).status).toBe(403);
  });
});

describe('GET /seller/messages/{messageId}', () => {
  it('shows the record the listing names', async () => {
    const [, queried] = await seed();
    const key = await sellerKey('messages:read');
    const answer = await seller('GET', `/seller/messages/${encodeURIComponent(idOf(queried!))}`, { key });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ message: { messageId: idOf(queried!), ...queried } });
  });

  it('answers 404 for no such record, 400 for a malformed id, 403 without the scope', async () => {
    const [created] = await seed();
    const key = await sellerKey('messages:read');
    const missing = await seller('GET', `/seller/messages/${day}T01:00:00.000Z~nobody`, { key });
    expect([missing.status, (missing.json.error as { code: string }).code]).toEqual([404, 'not_found']);
    for (const id of ['nonsense', `${day}T01:00:00Z~c-1`, `${day}T01:00:00.000Z~`]) {
      expect((await seller('GET', `/seller/messages/${encodeURIComponent(id)}`, { key })).status, id).toBe(400);
    }
    const forbidden = await seller('GET', `/seller/messages/${idOf(created!)}`, { key: await sellerKey('instances:read') });
    expect(forbidden.status).toBe(403);
  });
});
