import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { handleProduceCall } from '#lib/instances/produceCall.ts';
import { safetySweep, type SafetySweepDeps } from '#lib/instances/safetySweep.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import { sqsReceivingClient } from '#lib/aws/clients.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import type { InstanceStore } from '#lib/instances/ports.ts';
import { licenseStore } from '#lib/store/licenseStore.ts';
import { outboxStore } from '#lib/store/outboxStore.ts';
import { type OutboxStore } from '#lib/outbox/ports.ts';
import { createResources } from '../../scripts/local/emulators.ts';
import { handler as provision } from '../../functions/provision.ts';
import { lambdaContext, produceDeps, uniqueId } from '../helpers/produce.ts';
import { sqsEvent } from '../helpers/localStack.ts';
import { signedQuery } from '../helpers/signing.ts';

/**
 * The hourly safety sweep and the dead-letter queue, on a stack of their own (tables and queues of a separate
 * stage), so the sweep sees only what these tests wrote.
 */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const HOUR = 3_600_000;
let tables: { main: string; audit: string };
let queues: Record<string, { url: string; arn: string }>;
let store: InstanceStore;
let outbox: OutboxStore;
const sent: LifecycleEvent[] = [];
const errors: Record<string, unknown>[] = [];

beforeAll(async () => {
  const stack = inject('localStack');
  const resources = await createResources({
    stage: `sweep${randomUUID().slice(0, 6)}`,
    dynamoEndpoint: stack.dynamoEndpoint,
    sqsEndpoint: stack.sqsEndpoint,
  });
  tables = { main: resources.tables.MainTable!, audit: resources.tables.AuditTable! };
  queues = resources.queues;
  store = instanceStore(dynamoClient(), tables);
  outbox = outboxStore(dynamoClient(), tables.main);
});

function sweepDeps(now: number): SafetySweepDeps {
  return {
    store,
    outbox,
    publisher: { publish: async (events) => (sent.push(...events), []) },
    log: { ...quiet, error: (_m, extra) => errors.push(extra ?? {}) },
    now: () => now,
  };
}

const options = { stuckAfterMinutes: 10, maxRequeues: 3, graceHours: 24, limit: 100 };

async function produce(body: JsonObject, asyncProvisioning: boolean) {
  const base = produceDeps();
  const result = await handleProduceCall(
    { version: 'v2', rawBody: JSON.stringify(body), query: signedQuery(body), correlationId: uniqueId('c') },
    produceDeps({
      store,
      licenses: licenseStore(dynamoClient(), tables.main),
      publisher: { publish: async () => [] },
      settings: { ...base.settings, provisioning: { async: asyncProvisioning, inProgressAnswer: '000004' } },
    }),
  );
  return result.answer;
}

async function newInstance(asyncProvisioning: boolean, extra: JsonObject = {}) {
  const orderId = uniqueId('CS');
  const instanceId = uniqueId('biz');
  const answer = await produce(
    { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: instanceId, ...extra },
    asyncProvisioning,
  );
  expect(answer.resultCode).toBe('000000');
  return instanceId;
}

describe('safety sweep', () => {
  it('re-queues provisioning stuck for 10 minutes, three times, then reports it once', async () => {
    const instanceId = await newInstance(true);
    const start = Date.now();
    // Not yet stuck.
    expect((await safetySweep(sweepDeps(start + 5 * 60_000), options)).requeued).toBe(0);
    for (let run = 1; run <= 3; run++) {
      const summary = await safetySweep(sweepDeps(start + run * HOUR), options);
      expect(summary.requeued, `run ${run}`).toBe(1);
    }
    expect(sent.filter((e) => e.instanceId === instanceId).map((e) => [e.type, e.eventId])).toEqual([
      ['instance.created', `${instanceId}:1`],
      ['instance.created', `${instanceId}:1`],
      ['instance.created', `${instanceId}:1`],
    ]);
    const report = await safetySweep(sweepDeps(start + 4 * HOUR), options);
    expect(report).toMatchObject({ requeued: 0, reported: 1 });
    expect(errors.at(-1)).toMatchObject({ instanceId, requeues: 3 });
    const stuck = await store.getInstance(instanceId);
    expect(stuck?.state).toBe('PROVISIONING');
    expect(stuck?.provisioning?.stuckSince).toBe(new Date(start + 4 * HOUR).toISOString());
    // Reported once; the marketplace and the seller decide what happens next.
    expect(await safetySweep(sweepDeps(start + 5 * HOUR), options)).toMatchObject({ requeued: 0, reported: 0 });
  });

  it('drops outbox events whose instance no longer waits for provisioning', async () => {
    const instanceId = await newInstance(false); // ACTIVE at once; its created event is still in the outbox
    const summary = await safetySweep(sweepDeps(Date.now() + HOUR), options);
    expect(summary.cleared).toBeGreaterThanOrEqual(1);
    const left = await outbox.pending(new Date(Date.now() + 2 * HOUR).toISOString(), 100);
    expect(left.some((p) => p.event.instanceId === instanceId)).toBe(false);
  });

  it('flags an ACTIVE instance past expiry + grace without a FREEZE, once, and never a frozen or test one', async () => {
    const expired = await newInstance(false);
    const frozen = await newInstance(false);
    const debug = await newInstance(false, { testFlag: '1' });
    const renew = (instanceId: string, testFlag = '0') =>
      produce(
        {
          activity: 'refreshInstance',
          instanceId,
          scene: 'RENEWAL',
          orderId: uniqueId('R'),
          orderLineId: uniqueId('RL'),
          expireTime: '20260101000000',
          testFlag,
        },
        false,
      );
    for (const id of [expired, frozen]) expect((await renew(id)).resultCode).toBe('000000');
    expect((await renew(debug, '1')).resultCode).toBe('000000');
    expect((await produce({ activity: 'updateInstanceStatus', instanceId: frozen, status: 'FREEZE' }, false)).resultCode).toBe('000000');

    // Expired 2026-01-01; 24 h grace. Before the grace ends: nothing.
    expect((await safetySweep(sweepDeps(Date.parse('2026-01-01T12:00:00Z')), options)).flaggedOverdue).toBe(0);
    const now = Date.parse('2026-01-03T00:00:00Z');
    expect((await safetySweep(sweepDeps(now), options)).flaggedOverdue).toBe(1);
    expect((await store.getInstance(expired))?.overdueSince).toBe(new Date(now).toISOString());
    expect((await store.getInstance(expired))?.state).toBe('ACTIVE'); // the sweep never freezes
    expect((await store.getInstance(frozen))?.overdueSince).toBeUndefined();
    expect((await store.getInstance(debug))?.overdueSince).toBeUndefined();
    expect((await safetySweep(sweepDeps(now + HOUR), options)).flaggedOverdue).toBe(0);

    // A renewal answers the flag.
    expect(
      (
        await produce(
          {
            activity: 'refreshInstance',
            instanceId: expired,
            scene: 'RENEWAL',
            orderId: uniqueId('R'),
            orderLineId: uniqueId('RL'),
            expireTime: '20270101000000',
          },
          false,
        )
      ).resultCode,
    ).toBe('000000');
    expect((await store.getInstance(expired))?.overdueSince).toBeUndefined();
  });
});

describe('dead-letter queue', () => {
  it('moves a poison message to the DLQ after 5 receives', async () => {
    const sqs = sqsReceivingClient();
    const queue = queues.ProvisioningQueue!;
    const dlq = queues.ProvisioningDeadLetterQueue!;
    const marker = uniqueId('poison');
    await sqs.send('SendMessage', { QueueUrl: queue.url, MessageBody: `{"not":"an event","marker":"${marker}"}` });
    let receives = 0;
    for (let i = 0; i < 10; i++) {
      // Visible again at once, as after a failed attempt once the visibility timeout is over.
      const out = await sqs.send('ReceiveMessage', {
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      });
      const messages = out.Messages ?? [];
      if (messages.length === 0) break;
      receives++;
      const result = await provision(sqsEvent(messages, queue.arn, 'us-east-1'), lambdaContext('dlq'));
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      expect(failed.size).toBe(messages.length);
      for (const m of messages)
        if (!failed.has(m.MessageId!)) await sqs.send('DeleteMessage', { QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle! });
    }
    expect(receives).toBe(5);
    const dead = await sqs.send('ReceiveMessage', { QueueUrl: dlq.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
    expect(dead.Messages?.map((m) => m.Body)).toEqual([`{"not":"an event","marker":"${marker}"}`]);
  });
});
