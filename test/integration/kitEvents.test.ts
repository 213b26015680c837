import type { SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, sqsReceivingClient } from '#lib/aws/clients.ts';
import type { KitEvent } from '#lib/kit/model.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { sweepOutbox } from '#lib/outbox/relay.ts';
import { templateAdapter, webhookAdapter } from '#lib/provisioning/adapters.ts';
import { webhookClient } from '#lib/provisioning/webhook.ts';
import type { ProvisionDeps } from '#lib/provisioning/deps.ts';
import { kitOutboxStore } from '#lib/store/kitOutboxStore.ts';
import { outboxStore } from '#lib/store/outboxStore.ts';
import { keys } from '#lib/store/keys.ts';
import { queryPartition } from '#lib/store/dynamo.ts';
import { provisionHandler } from '../../functions/provision.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../scripts/local/webhook-receiver.ts';
import { sqsEvent } from '../helpers/localStack.ts';
import { env, lambdaContext, store } from '../helpers/produce.ts';
import { allOrgBody, appBody, authBody, kitClient, orgBody, tenantBody, testKitDeps, uniqueTenant, user } from '../helpers/kit.ts';

/**
 * Kit events reach the seller's product through the provisioning channel: the Kit call publishes them to the
 * provisioning queue (fauxqs), the provision function's consumer delivers them, signed, to the reference receiver,
 * and removes them from the Kit outbox.
 */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const secret = 'test-webhook-secret-0123456789';
const sqs = sqsReceivingClient();

let receiver: WebhookReceiver;
let queueUrl: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  // A queue of this file's own, so no other test file receives its messages.
  const created = await sqs.send('CreateQueue', { QueueName: `kit-events-${randomUUID().slice(0, 8)}` });
  queueUrl = created.QueueUrl!;
});

afterAll(async () => {
  await receiver?.close();
});

function worker(mode: 'webhook' | 'template' = 'webhook'): ProvisionDeps {
  const client = webhookClient({ url: receiver.url, secret, allowPrivateHosts: true });
  return {
    store: store(),
    outbox: outboxStore(dynamoClient(), env('MAIN_TABLE')),
    kitOutbox: kitOutboxStore(dynamoClient(), env('MAIN_TABLE')),
    adapter:
      mode === 'webhook'
        ? webhookAdapter((event) => client.deliver(event))
        : templateAdapter({ frontEndUrl: 'https://app.example.com/{instanceId}' }),
    testTtlDays: 7,
    now: Date.now,
    log: quiet,
  };
}

const kit = kitClient({ ...testKitDeps(), publisher: undefined });
const publishing = () => kitClient({ ...testKitDeps(), publisher: sqsPublisher<KitEvent>(sqs, queueUrl) });

/** Every message now on this file's queue, as SQS records. */
async function drain(): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  for (let empty = 0; empty < 2;) {
    const out = await sqs.send('ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 60,
    });
    const messages = out.Messages ?? [];
    if (messages.length === 0) empty++;
    records.push(...sqsEvent(messages, 'arn:aws:sqs:us-east-1:000000000000:kit-events', 'us-east-1').Records);
  }
  return records;
}

async function kitOutboxFor(tenantId: string): Promise<string[]> {
  const items = await queryPartition(dynamoClient(), env('MAIN_TABLE'), keys.kitOutboxPartition);
  return items.map((i) => i.message?.S ?? '').filter((m) => m.includes(tenantId));
}

const handle = (records: SQSRecord[], mode: 'webhook' | 'template' = 'webhook') =>
  provisionHandler(() => worker(mode))({ Records: records }, lambdaContext(randomUUID()));

describe('Kit events to the product', () => {
  it('an authSync reaches the receiver as user.authorised events, and the Kit outbox is emptied', async () => {
    const tenantId = uniqueTenant();
    const sender = publishing();
    await sender.send('tenantSync', tenantBody(tenantId));
    await sender.send('allOrgSync', allOrgBody(tenantId, [{ orgCode: 'org-1', orgName: 'HQ', parentCode: '' }]));
    const answer = await sender.send(
      'authSync',
      authBody(tenantId, [user('alice'), user('bob', { role: 'admin', mobile: '13800000000' })]),
    );
    expect(answer.json.resultCode).toBe('000000');

    const records = await drain();
    expect(records.length).toBe(4);
    const result = await handle(records);
    expect(result.batchItemFailures).toEqual([]);

    const model = receiver.kitTenants().get(tenantId);
    expect(model?.tenant?.name).toBe('Acme');
    expect(Object.keys(model?.users ?? {}).sort()).toEqual(['app-1/alice', 'app-1/bob']);
    expect(model?.users['app-1/bob']).toMatchObject({ status: 'AUTHORISED', role: 'admin', enabled: true });
    expect(model?.orgs['org-1']).toMatchObject({ orgName: 'HQ', status: 'ACTIVE' });
    const types = receiver
      .deliveries()
      .filter((d) => records.some((r) => r.body.includes(d.id)))
      .map((d) => d.type);
    expect(types.filter((t) => t === 'user.authorised')).toHaveLength(2);
    // Personal fields the Kit does not store never reach the product.
    expect(JSON.stringify(model)).not.toContain('13800000000');
    expect(await kitOutboxFor(tenantId)).toEqual([]);
  });

  it('a redelivery is dropped by the receiver, and an older version never overwrites a newer one', async () => {
    const tenantId = uniqueTenant();
    const sender = publishing();
    await sender.send('authSync', authBody(tenantId, [user('carol')]));
    const [authorised] = await drain();
    await sender.send('authSync', authBody(tenantId, [user('carol')], { flag: 3 }));
    const [revoked] = await drain();
    // The revocation arrives first, then the authorisation, then the authorisation again.
    expect((await handle([revoked!])).batchItemFailures).toEqual([]);
    expect((await handle([authorised!])).batchItemFailures).toEqual([]);
    expect((await handle([{ ...authorised!, messageId: 'again' }])).batchItemFailures).toEqual([]);
    expect(receiver.kitTenants().get(tenantId)?.users['app-1/carol']).toMatchObject({ status: 'REVOKED', version: 2 });
    const forCarol = receiver
      .deliveries()
      .filter((d) => d.type.startsWith('user.') && [authorised, revoked].some((r) => r!.body.includes(d.id)));
    expect(forCarol.filter((d) => d.replayed)).toHaveLength(1);
  });

  it('a failing webhook leaves the event on the queue and in the Kit outbox; the next delivery succeeds', async () => {
    const tenantId = uniqueTenant();
    const sender = publishing();
    await sender.send('singleOrgSync', orgBody(tenantId, 'd1'));
    const records = await drain();
    receiver.failNext(1, 503);
    const failed = await handle(records);
    expect(failed.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
    expect(await kitOutboxFor(tenantId)).toHaveLength(1);
    const retried = await handle(records);
    expect(retried.batchItemFailures).toEqual([]);
    expect(receiver.kitTenants().get(tenantId)?.orgs.d1).toMatchObject({ status: 'ACTIVE' });
    expect(await kitOutboxFor(tenantId)).toEqual([]);
  });

  it('every Kit event type is a known message (no dead letter); template mode completes them without a call', async () => {
    const tenantId = uniqueTenant();
    const sender = publishing();
    await sender.send('tenantSync', tenantBody(tenantId));
    await sender.send('applicationSync', appBody(tenantId));
    await sender.send('authSync', authBody(tenantId, [user('dave')]));
    await sender.send('authSync', authBody(tenantId, [user('dave', { name: 'Dave D' })], { flag: 2 }));
    await sender.send('authSync', authBody(tenantId, [user('dave')], { flag: 0 }));
    await sender.send('singleOrgSync', orgBody(tenantId, 'd1'));
    await sender.send('singleOrgSync', orgBody(tenantId, 'd2'));
    await sender.send('singleOrgSync', orgBody(tenantId, 'd2', { parentCode: 'd1', timeStamp: kitLater() }));
    await sender.send('singleOrgSync', orgBody(tenantId, 'd2', { orgName: 'Renamed', parentCode: 'd1', timeStamp: kitLater(2) }));
    await sender.send(
      'allOrgSync',
      allOrgBody(tenantId, [{ orgCode: 'd1', orgName: 'Dept d1', parentCode: '' }], { timeStamp: kitLater(3) }),
    );
    await sender.send('applicationSync', appBody(tenantId, { flag: 2, clientId: 'client-2' }));
    await sender.send('applicationSync', appBody(tenantId, { flag: 0 }));
    await sender.send('tenantSync', tenantBody(tenantId, { flag: 2, name: 'Acme 2' }));
    await sender.send('tenantSync', tenantBody(tenantId, { flag: 0 }));
    const records = await drain();
    const types = records.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(new Set(types)).toEqual(
      new Set([
        'tenant.created',
        'tenant.updated',
        'tenant.deleted',
        'application.created',
        'application.updated',
        'application.deleted',
        'user.authorised',
        'user.updated',
        'user.deleted',
        'org.created',
        'org.moved',
        'org.updated',
        'org.archived',
      ]),
    );
    expect(records.map((r) => r.body).join()).not.toContain('clientSecret');
    expect((await handle(records, 'template')).batchItemFailures).toEqual([]);
    expect(await kitOutboxFor(tenantId)).toEqual([]);
  });

  it('an event the publish lost is re-sent by the outbox sweep, apart from lifecycle events', async () => {
    const tenantId = uniqueTenant();
    await kit.send('singleOrgSync', orgBody(tenantId, 'lost'));
    const [stored] = await kitOutboxFor(tenantId);
    expect(stored).toBeDefined();
    const summary = await sweepOutbox(
      {
        outbox: kitOutboxStore(dynamoClient(), env('MAIN_TABLE')),
        publisher: sqsPublisher<KitEvent>(sqs, queueUrl),
        log: quiet,
        now: () => Date.now() + 120_000,
      },
      { graceSeconds: 60, limit: 1000 },
    );
    expect(summary.resent).toBeGreaterThanOrEqual(1);
    const records = (await drain()).filter((r) => r.body.includes(tenantId));
    expect(records).toHaveLength(1);
    expect((await handle(records)).batchItemFailures).toEqual([]);
    expect(receiver.kitTenants().get(tenantId)?.orgs.lost).toMatchObject({ status: 'ACTIVE' });
  });
});

/** A Kit `timeStamp` `n` seconds from now (later than the helpers' default). */
function kitLater(n = 1): string {
  return new Date(Date.now() + n * 1000).toISOString().replace(/\D/g, '').slice(0, 17);
}
