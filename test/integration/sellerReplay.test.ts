import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { config } from '#lib/config.ts';
import type { Instance, ProvisioningAttempt } from '#lib/instances/model.ts';
import { PROVISIONING_VISIBILITY_SECONDS } from '#lib/provisioning/attemptView.ts';
import { sellerContext } from '#lib/seller-api/deps.ts';
import { handleSellerRequest } from '#lib/seller-api/router.ts';
import type { Scope } from '#lib/seller-api/apiKeys.ts';
import { storedInstance } from '../helpers/instances.ts';
import { store } from '../helpers/produce.ts';
import { sellerKey } from '../helpers/seller.ts';
import { ownQueuePairs } from '../helpers/queues.ts';

/**
 * The seller API's view of provisioning attempts and its replays (scope messages:replay), against DynamoDB Local and
 * fauxqs. The replays run against a provisioning queue and dead-letter queue of this file's own, so what they send
 * and move is exactly what is asserted.
 */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const { sqs, queuePair, bodies } = ownQueuePairs('replay');

/** The seller API over this file's own queues; a call answers its status and JSON body. */
async function api(queueUrl: string) {
  const context = sellerContext({ ...config(), PROVISIONING_QUEUE_URL: queueUrl }, quiet);
  return async (method: 'GET' | 'POST', path: string, options: { key: string; body?: unknown; rawBody?: string }) => {
    const answer = await handleSellerRequest(
      {
        method,
        path,
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
        query: {},
        body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
        correlationId: randomUUID(),
      },
      context,
    );
    return { status: answer.status, json: JSON.parse(answer.body) as Record<string, unknown> };
  };
}

const keyWith = (...scopes: Scope[]) => sellerKey(...scopes);

async function recordAttempt(instance: Instance, fields: Partial<ProvisioningAttempt>): Promise<ProvisioningAttempt> {
  const attempt: ProvisioningAttempt = {
    instanceId: instance.instanceId,
    eventId: `${instance.instanceId}:1`,
    attempts: 1,
    status: 'answered',
    startedAt: new Date().toISOString(),
    ...fields,
  };
  expect((await store().commit([store().provisioningAttempt(attempt, undefined)])).ok).toBe(true);
  return attempt;
}

const failed = (instanceId = 'x') => ({
  failure: { reason: 'webhook answered 500', at: new Date().toISOString(), eventId: `${instanceId}:1` },
});

describe('GET /seller/instances/{instanceId}: provisioning attempts', () => {
  it('shows the attempts, the last error and when the queue retries; nothing before the first call', async () => {
    const { source } = await queuePair();
    const call = await api(source);
    const key = await keyWith('instances:read');

    const waiting = await storedInstance('attempts', { state: 'PROVISIONING' });
    const fresh = await call('GET', `/seller/instances/${waiting.instanceId}`, { key });
    expect(fresh.status).toBe(200);
    expect(fresh.json).not.toHaveProperty('provisioning');

    const startedAt = new Date(Date.now() - 30_000).toISOString();
    await recordAttempt(waiting, { attempts: 3, startedAt, answeredAt: startedAt, lastError: 'webhook: HTTP 503' });
    const retrying = await call('GET', `/seller/instances/${waiting.instanceId}`, { key });
    expect(retrying.json.provisioning).toEqual({
      attempts: 3,
      status: 'answered',
      startedAt,
      answeredAt: startedAt,
      lastError: 'webhook: HTTP 503',
      nextRetryAt: new Date(Date.parse(startedAt) + PROVISIONING_VISIBILITY_SECONDS * 1000).toISOString(),
    });

    // Failed for good: the error stays, no retry is due until the seller asks for one.
    const gaveUp = await storedInstance('attempts', { state: 'PROVISIONING_FAILED' });
    await recordAttempt(gaveUp, { attempts: 5, lastError: 'webhook: HTTP 400 tenant refused' });
    const shown = await call('GET', `/seller/instances/${gaveUp.instanceId}`, { key });
    expect(shown.json.provisioning).toMatchObject({ attempts: 5, lastError: 'webhook: HTTP 400 tenant refused' });
    expect(shown.json.provisioning).not.toHaveProperty('nextRetryAt');
  });
});

describe('POST /seller/instances/{instanceId}/provisioning/retry', () => {
  it('puts a failed provisioning back on the queue with a new event, as the seller', async () => {
    const { source } = await queuePair();
    const call = await api(source);
    const instance = await storedInstance('retry', { state: 'PROVISIONING_FAILED' });
    await store().annotate(instance.instanceId, instance.version, { provisioning: failed(instance.instanceId) });

    const answer = await call('POST', `/seller/instances/${instance.instanceId}/provisioning/retry`, {
      key: await keyWith('messages:replay'),
    });
    expect(answer.status).toBe(202);
    expect(answer.json).toEqual({
      instanceId: instance.instanceId,
      state: 'PROVISIONING',
      version: 2,
      eventId: `${instance.instanceId}:2`,
    });

    const after = (await store().getInstance(instance.instanceId))!;
    expect([after.state, after.provisioning]).toEqual(['PROVISIONING', undefined]);
    expect((await store().getHistory(instance.instanceId)).at(-1)).toMatchObject({
      actor: 'seller',
      event: 'instance.provisioningRetried',
      by: { kind: 'key', keyId: expect.any(String), name: expect.any(String) },
    });
    const sent = (await bodies(source)).map((b) => JSON.parse(b) as { eventId: string; type: string });
    expect(sent.map((e) => [e.eventId, e.type])).toEqual([[`${instance.instanceId}:2`, 'instance.created']]);
  });

  it('retries a provisioning the safety sweep reported stuck', async () => {
    const { source } = await queuePair();
    const call = await api(source);
    const instance = await storedInstance('retry', { state: 'PROVISIONING' });
    await store().annotate(instance.instanceId, instance.version, { provisioning: { stuckSince: new Date().toISOString() } });
    const answer = await call('POST', `/seller/instances/${instance.instanceId}/provisioning/retry`, {
      key: await keyWith('messages:replay'),
    });
    expect(answer.status).toBe(202);
    expect((await store().getInstance(instance.instanceId))!.provisioning).toBeUndefined();
  });

  it('refuses an unknown instance (404), a wrong state (409) and a key without the scope (403), changing nothing', async () => {
    const { source } = await queuePair();
    const call = await api(source);
    const replay = await keyWith('messages:replay');
    const active = await storedInstance('retry');
    const waiting = await storedInstance('retry', { state: 'PROVISIONING' });
    const failedOne = await storedInstance('retry', { state: 'PROVISIONING_FAILED' });

    const unknown = await call('POST', '/seller/instances/no-such-instance/provisioning/retry', { key: replay });
    expect([unknown.status, unknown.json]).toEqual([404, { error: { code: 'not_found', message: 'no instance no-such-instance' } }]);
    for (const instance of [active, waiting]) {
      const refused = await call('POST', `/seller/instances/${instance.instanceId}/provisioning/retry`, { key: replay });
      expect(refused.status).toBe(409);
      expect((refused.json.error as { message: string }).message).toContain(`instance is ${instance.state}`);
      expect((await store().getInstance(instance.instanceId))!.version).toBe(1);
    }
    const forbidden = await call('POST', `/seller/instances/${failedOne.instanceId}/provisioning/retry`, {
      key: await keyWith('messages:read', 'instances:read'),
    });
    expect(forbidden.status).toBe(403);
    expect((await store().getInstance(failedOne.instanceId))!.state).toBe('PROVISIONING_FAILED');
    expect(await bodies(source)).toEqual([]);
  });
});

describe('POST /seller/dlq/redrive', () => {
  it('lists with dryRun, then moves every dead-lettered event back to the provisioning queue', async () => {
    const { source, dlq } = await queuePair();
    const call = await api(source);
    const key = await keyWith('messages:replay');
    for (const id of ['i-1:2', 'i-2:1', 'i-3:4'])
      await sqs.send('SendMessage', { QueueUrl: dlq, MessageBody: JSON.stringify({ eventId: id }) });

    const dry = await call('POST', '/seller/dlq/redrive', { key, body: { dryRun: true } });
    expect(dry.status).toBe(200);
    expect({ ...dry.json, events: (dry.json.events as string[]).sort() }).toEqual({
      dryRun: true,
      found: 3,
      moved: 0,
      events: ['i-1:2', 'i-2:1', 'i-3:4'],
    });
    expect(await bodies(source)).toEqual([]);

    const moved = await call('POST', '/seller/dlq/redrive', { key, body: {} });
    expect([moved.status, moved.json.dryRun, moved.json.found, moved.json.moved]).toEqual([200, false, 3, 3]);
    expect(await bodies(source)).toEqual(['{"eventId":"i-1:2"}', '{"eventId":"i-2:1"}', '{"eventId":"i-3:4"}']);
    expect(await bodies(dlq)).toEqual([]);
  });

  it('refuses bad input and a key without the scope, moving nothing', async () => {
    const { source, dlq } = await queuePair();
    const call = await api(source);
    await sqs.send('SendMessage', { QueueUrl: dlq, MessageBody: '{"eventId":"x:1"}' });
    const key = await keyWith('messages:replay');
    for (const body of [{ max: 0 }, { max: 501 }, { dryRun: 'yes' }, { everything: true }]) {
      const refused = await call('POST', '/seller/dlq/redrive', { key, body });
      expect(refused.status, JSON.stringify(body)).toBe(422);
    }
    expect((await call('POST', '/seller/dlq/redrive', { key, rawBody: 'not json' })).status).toBe(400);
    const forbidden = await call('POST', '/seller/dlq/redrive', { key: await keyWith('messages:read'), body: {} });
    expect(forbidden.status).toBe(403);
    expect(await bodies(source)).toEqual([]);
    expect(await bodies(dlq)).toEqual(['{"eventId":"x:1"}']);
  });
});
