import { describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import type { SellerActionRecord } from '#lib/audit/records.ts';
import { hashApiKey, keyIdOf } from '#lib/seller-api/apiKeys.ts';
import { keys as tableKeys } from '#lib/store/keys.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { recordSellerAction } from '#lib/audit/sellerActions.ts';
import { env } from '../helpers/produce.ts';
import { keys, seller, sellerKey } from '../helpers/seller.ts';

/**
 * The audit log of seller actions through the real seller function and DynamoDB Local: every call of a route that
 * changes something leaves exactly one record (refused ones too), and GET /seller/audit lists them with filters and
 * pages. Other test files write to the same table, so every listing here is filtered by a key of this file.
 */

const log = () => sellerActionLog(dynamoClient(), env('AUDIT_TABLE'));
const keyIdOfSecret = (secret: string) => keyIdOf(hashApiKey(secret));
const lastHour = () => ({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });

/** The records of one request, by its correlation id (the answer's X-Correlation-Id), read straight from the table. */
async function recordsOf(correlationId: string): Promise<SellerActionRecord[]> {
  const { from, to } = lastHour();
  const page = await log().list({ from, to, limit: 200 });
  let items = page.items;
  let cursor = page.nextCursor;
  while (cursor) {
    const next = await log().list({ from, to, limit: 200, cursor });
    items = [...items, ...next.items];
    cursor = next.nextCursor;
  }
  return items.filter((r) => r.correlationId === correlationId);
}

const usageReport = (instanceId: string) => ({
  records: [{ instanceId, beginTime: '2026-11-20T07:00:00Z', endTime: '2026-11-20T08:00:00Z', value: '1' }],
});

describe('seller actions in the audit log', () => {
  it('a mutation leaves exactly one record: the key, the action, the target, the result', async () => {
    const secret = await sellerKey('usage:write');
    const answer = await seller('POST', '/seller/usage', { key: secret, body: usageReport('audit-no-such-instance') });
    expect(answer.status).toBe(200);
    const records = await recordsOf(answer.headers['X-Correlation-Id']!);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      channel: 'sellerApi',
      actor: { kind: 'key', keyId: keyIdOfSecret(secret), name: expect.stringMatching(/^test-/) },
      actorId: keyIdOfSecret(secret),
      action: 'usage.report',
      target: {},
      result: { outcome: 'ok', status: 200 },
    });
    expect(Date.now() - Date.parse(records[0]!.at)).toBeLessThan(60_000);
    // No body, no secret in the stored item.
    const stored = JSON.stringify(records[0]);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain('audit-no-such-instance');
  });

  it('a refused mutation leaves one record too: no key, a revoked key (its keyId), a key without the scope', async () => {
    const revoked = await sellerKey('statements:write');
    await keys().revoke(keyIdOfSecret(revoked), Date.now());
    const reader = await sellerKey('statements:read');
    const answers = [
      await seller('POST', '/seller/statements/1991-06/close'),
      await seller('POST', '/seller/statements/1991-06/close', { key: revoked }),
      await seller('POST', '/seller/statements/1991-06/close', { key: reader }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 403]);
    const records = await Promise.all(answers.map((a) => recordsOf(a.headers['X-Correlation-Id']!)));
    expect(records.map((r) => r.length)).toEqual([1, 1, 1]);
    expect(records.map((r) => [r[0]!.actor, r[0]!.action, r[0]!.target, r[0]!.result])).toEqual([
      [{ kind: 'anonymous' }, 'statements.close', { period: '1991-06' }, { outcome: 'refused', status: 401, errorCode: 'unauthenticated' }],
      [
        { kind: 'anonymous', keyId: keyIdOfSecret(revoked) },
        'statements.close',
        { period: '1991-06' },
        { outcome: 'refused', status: 401, errorCode: 'unauthenticated' },
      ],
      [
        { kind: 'key', keyId: keyIdOfSecret(reader), name: expect.stringMatching(/^test-/) },
        'statements.close',
        { period: '1991-06' },
        { outcome: 'refused', status: 403, errorCode: 'forbidden' },
      ],
    ]);
  });

  it('bad input gets a clear answer and writes only its audit record', async () => {
    const secret = await sellerKey('supervision:decide');
    const before = await dynamoClient().send('GetItem', {
      TableName: env('MAIN_TABLE'),
      Key: { pk: { S: tableKeys.supervision('AUDIT-ORDER', 'AUDIT-LINE').pk }, sk: { S: '#SUPERVISION' } },
    });
    expect(before.Item).toBeUndefined();
    const answer = await seller('POST', '/seller/supervision/AUDIT-ORDER/AUDIT-LINE/transitions', { key: secret, rawBody: '{"action": ' });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: { code: 'invalid_json', message: 'the body is not valid JSON' } });
    const records = await recordsOf(answer.headers['X-Correlation-Id']!);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'supervision.decide',
      target: { orderId: 'AUDIT-ORDER', orderLineId: 'AUDIT-LINE' },
      result: { outcome: 'refused', status: 400, errorCode: 'invalid_json' },
    });
    const { Items } = await dynamoClient().send('Query', {
      TableName: env('MAIN_TABLE'),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: tableKeys.supervisionPartition('AUDIT-ORDER', 'AUDIT-LINE') } },
    });
    expect(Items).toEqual([]);
  });
});

describe('GET /seller/audit', () => {
  it("lists a key's actions newest first, filtered by actor, action, target and result, in pages", async () => {
    const actor = await sellerKey('statements:write', 'usage:write');
    const auditor = await sellerKey('audit:read');
    const sent = [
      await seller('POST', '/seller/statements/1991-06/close', { key: actor }),
      await seller('POST', '/seller/statements/1991-07/close', { key: actor }),
      await seller('POST', '/seller/usage', { key: actor, body: usageReport('audit-no-such-instance') }),
    ];
    expect(sent.map((a) => a.status)).toEqual([409, 409, 200]);
    const ids = sent.map((a) => a.headers['X-Correlation-Id']);
    const list = async (query: Record<string, string>) => {
      const answer = await seller('GET', '/seller/audit', { key: auditor, query: { actor: keyIdOfSecret(actor), ...query } });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      return answer.json as { items: SellerActionRecord[]; nextCursor?: string };
    };

    expect((await list({})).items.map((r) => r.correlationId)).toEqual([...ids].reverse());
    expect((await list({ action: 'statements.close' })).items.map((r) => r.correlationId)).toEqual([ids[1], ids[0]]);
    expect((await list({ target: 'period:1991-06' })).items.map((r) => r.correlationId)).toEqual([ids[0]]);
    expect((await list({ result: 'refused' })).items).toHaveLength(2);
    expect((await list({ result: '409' })).items).toHaveLength(2);
    expect((await list({ result: 'ok' })).items.map((r) => r.action)).toEqual(['usage.report']);
    expect((await list({ to: '2001-01-02T00:00:00Z', from: '2001-01-01T00:00:00Z' })).items).toEqual([]);

    // Pages of one, following the cursor, give the same records once each.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await list({ limit: '1', ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.correlationId));
      cursor = page.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([...ids].reverse());

    // Reading the log is not an action: no record of the auditor.
    expect((await seller('GET', '/seller/audit', { key: auditor, query: { actor: keyIdOfSecret(auditor) } })).json.items).toEqual([]);
  });

  it('needs audit:read, and refuses a malformed filter or a window over 31 days with a clear message', async () => {
    const other = await sellerKey('statements:read', 'messages:read');
    const refused = await seller('GET', '/seller/audit', { key: other });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ error: { code: 'forbidden', message: 'this API key lacks the scope "audit:read"' } });

    const auditor = await sellerKey('audit:read');
    const bad = async (query: Record<string, string>) => {
      const answer = await seller('GET', '/seller/audit', { key: auditor, query });
      expect(answer.status).toBe(400);
      return (answer.json.error as { message: string }).message;
    };
    expect(await bad({ target: 'period' })).toMatch(/target: must be name:value/);
    expect(await bad({ result: 'maybe' })).toMatch(/result: must be ok, refused, failed or an HTTP status/);
    expect(await bad({ action: 'DROP TABLE' })).toMatch(/action: must be an action name/);
    expect(await bad({ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' })).toBe('from and to may be at most 31 days apart');
    expect(await bad({ cursor: 'bm90IGEgY3Vyc29y' })).toBe('invalid cursor');
  });
});

describe("recordSellerAction on the audit table (the operator CLI's writer)", () => {
  it('appends operator actions once, lists them across day partitions in pages, and never overwrites one', async () => {
    const principal = `local:audit-${Date.now().toString(36)}@test-host`;
    const deps = { actions: log(), now: Date.now };
    const at = ['2003-03-01T23:59:59.000Z', '2003-03-02T00:00:00.000Z', '2003-03-04T12:00:00.000Z'];
    for (const [i, time] of at.entries()) {
      await recordSellerAction(deps, {
        actor: { kind: 'operator', principal },
        action: 'instances.retry',
        target: { instanceId: `i-${i}` },
        result: { outcome: 'ok' },
        at: time,
        correlationId: `op-${principal}-${i}`,
      });
    }
    const window = { from: '2003-02-20T00:00:00Z', to: '2003-03-20T00:00:00Z', actor: principal };
    const seen: SellerActionRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await log().list({ ...window, limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen.map((r) => [r.at, r.channel, r.actorId, r.target.instanceId])).toEqual([
      [at[2], 'operator', principal, 'i-2'],
      [at[1], 'operator', principal, 'i-1'],
      [at[0], 'operator', principal, 'i-0'],
    ]);

    // The same time and correlation id again: refused by the condition, the first record stays.
    await expect(
      recordSellerAction(deps, {
        actor: { kind: 'operator', principal },
        action: 'instances.release',
        result: { outcome: 'ok' },
        at: at[0],
        correlationId: `op-${principal}-0`,
      }),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((await log().list(window)).items.map((r) => r.action)).toEqual(['instances.retry', 'instances.retry', 'instances.retry']);

    // A cursor of this window is refused by another.
    const first = await log().list({ ...window, limit: 1 });
    await expect(log().list({ ...window, from: '2003-03-10T00:00:00Z', cursor: first.nextCursor })).rejects.toThrow(
      'cursor does not belong to this time range',
    );
    await expect(log().list({ ...window, limit: 0 })).rejects.toThrow('limit must be an integer from 1 to 200');
  });
});
