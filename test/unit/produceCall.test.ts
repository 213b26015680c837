import { describe, expect, it } from 'vitest';
import { allowAllChanges } from '#lib/instances/changePolicy.ts';
import { handleProduceCall, type CallOptions, type ProduceDeps, type ProduceResult } from '#lib/instances/produceCall.ts';
import type { SignedQuery } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { signV1Request } from '#lib/koogallery/v1Auth.ts';
import { registerLicense } from '#lib/licenses/license.ts';
import { auditRecords, fakeStores, recordingLog, touches } from '../fakes/index.ts';
import { PRODUCE_SETTINGS } from '../helpers/produce.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';

/**
 * The production interface's call handling (lib/instances/produceCall.ts) over the in-memory stores: what it
 * answers, and what the one transaction of each call leaves behind (nonce claim, instance, history, outbox event,
 * audit record, license writes), including lost races, lost commit answers and failing commits.
 */

const NOW = Date.parse('2026-11-20T08:30:00.000Z');
const AT = new Date(NOW).toISOString();

function produce(options: CallOptions = {}) {
  const world = fakeStores();
  const logged = recordingLog();
  const deps: ProduceDeps = {
    accessKeys: async () => [{ id: 'test-key', secret: TEST_KEY }],
    store: world.store,
    licenses: world.licenses,
    publisher: world.publisher,
    changePolicy: allowAllChanges,
    settings: PRODUCE_SETTINGS,
    now: () => NOW,
    log: logged.log,
  };
  let serial = 0;
  const send = async (rawBody: string, query: SignedQuery) =>
    (await handleProduceCall({ version: 'v2', rawBody, query, correlationId: `c-${++serial}` }, deps, options)).answer;
  const call = (body: JsonObject, options: { key?: string } = {}) =>
    send(JSON.stringify(body), signedQuery(body, { nowMs: NOW, ...options }));
  return { ...world, deps, logged, send, call, audits: () => auditRecords(world.table) };
}

type World = ReturnType<typeof produce>;

const newInstanceBody = (businessId: string, orderId = 'CS-1', extra: JsonObject = {}): JsonObject => ({
  activity: 'newInstance',
  orderId,
  orderLineId: `${orderId}-000001`,
  businessId,
  ...extra,
});

const status = (instanceId: string, value: string) => ({ activity: 'updateInstanceStatus', instanceId, status: value });

/** A new ACTIVE instance through the handler; the commit log starts empty after it. */
async function created(world: World, businessId = 'biz-1', orderId = 'CS-1'): Promise<string> {
  expect(await world.call(newInstanceBody(businessId, orderId))).toMatchObject({ resultCode: '000000', instanceId: businessId });
  world.table.commits.length = 0;
  return businessId;
}

describe('newInstance', () => {
  it('creates the instance, its history, the outbox event and the audit record in one commit, then publishes', async () => {
    // Prepare
    const world = produce();

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess
    expect(answer).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: 'biz-1' });
    expect(world.table.commits).toEqual([['nonce', 'orderLine', 'instance', 'history', 'outbox', 'audit']]);
    expect(world.store.instances()).toMatchObject([
      { instanceId: 'biz-1', orderId: 'CS-1', state: 'ACTIVE', test: false, version: 1, createdAt: AT },
    ]);
    expect(world.store.instances()[0]?.appInfo).toEqual({ frontEndUrl: 'https://app.example.com/t/biz-1' });
    expect(await world.store.getHistory('biz-1')).toEqual([
      {
        instanceId: 'biz-1',
        actor: 'marketplace',
        version: 1,
        at: AT,
        activity: 'newInstance',
        event: 'instance.created',
        orderId: 'CS-1',
        orderLineId: 'CS-1-000001',
        to: 'ACTIVE',
      },
    ]);
    const event = {
      eventId: 'biz-1:1',
      type: 'instance.created',
      instanceId: 'biz-1',
      version: 1,
      state: 'ACTIVE',
      occurredAt: AT,
      test: false,
      orderId: 'CS-1',
      orderLineId: 'CS-1-000001',
    };
    expect(world.outbox.events()).toEqual([event]);
    expect(world.publisher.published).toEqual([event]);
    expect(world.audits()).toEqual([
      expect.objectContaining({
        correlationId: 'c-1',
        channel: 'produce',
        resultCode: '000000',
        activity: 'newInstance',
        orderId: 'CS-1',
        instanceId: 'biz-1',
        keyId: 'test-key',
        signatureForm: 'top-level-sorted',
        test: false,
      }),
    ]);
    expect(world.store.expiryOf('biz-1')).toBeUndefined();
  });

  it('answers a repeat (new businessId, new nonce) with the same instance and writes nothing new but the audit record', async () => {
    // Prepare
    const world = produce();
    await created(world);

    // Act
    const answer = await world.call(newInstanceBody('biz-2'));

    // Assess
    expect(answer).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: 'biz-1' });
    expect(world.table.commits).toEqual([['nonce', 'audit']]);
    expect(world.store.instances().map((i) => i.instanceId)).toEqual(['biz-1']);
    expect(await world.store.getHistory('biz-1')).toHaveLength(1);
    expect(world.outbox.events()).toHaveLength(1);
    expect(world.publisher.published).toHaveLength(1);
    expect(world.audits().map((a) => [a.resultCode, a.instanceId])).toEqual([
      ['000000', 'biz-1'],
      ['000000', 'biz-1'],
    ]);
  });

  it('marks debug traffic test and lets it expire after the test TTL', async () => {
    // Prepare
    const world = produce();

    // Act
    const answer = await world.call(newInstanceBody('biz-t', 'CS-T', { testFlag: '1' }));

    // Assess
    expect(answer.resultCode).toBe('000000');
    expect(world.store.instances()).toMatchObject([{ instanceId: 'biz-t', test: true }]);
    expect(world.store.expiryOf('biz-t')).toBe(NOW / 1000 + PRODUCE_SETTINGS.testTtlDays * 86_400);
    expect(world.audits()[0]).toMatchObject({ test: true });
  });

  it('answers 000002 when the businessId already names an instance of another order line', async () => {
    // Prepare
    const world = produce();
    await created(world, 'biz-1', 'CS-1');

    // Act
    const answer = await world.call(newInstanceBody('biz-1', 'CS-2'));

    // Assess
    expect(answer).toEqual({ resultCode: '000002', resultMsg: 'param is invalid: businessId already identifies another instance' });
    expect(world.table.commits).toEqual([['nonce', 'audit']]);
    expect(await world.store.getOrderLineInstanceId('CS-2', 'CS-2-000001')).toBeUndefined();
    expect(world.audits().at(-1)).toMatchObject({ resultCode: '000002', orderId: 'CS-2' });
  });
});

describe('refusals', () => {
  it('refuses a replayed nonce with 000001 without applying the change twice', async () => {
    // Prepare
    const world = produce();
    const instanceId = await created(world);
    const body = { activity: 'updateInstanceStatus', instanceId, status: 'FREEZE' };
    const query = signedQuery(body, { nowMs: NOW });
    expect(await world.send(JSON.stringify(body), query)).toMatchObject({ resultCode: '000000' });

    // Act
    const replay = await world.send(JSON.stringify(body), query);

    // Assess
    expect(replay).toEqual({ resultCode: '000001', resultMsg: 'token is invalid: nonce was already used' });
    expect((await world.store.getHistory(instanceId)).map((h) => h.to)).toEqual(['ACTIVE', 'FROZEN']);
    expect(world.audits().at(-1)).toMatchObject({ resultCode: '000001', reason: 'replayed nonce' });
    expect(world.table.commits.at(-1)).toEqual(['audit']);
  });

  const refused: [string, (world: World) => Promise<unknown>, { resultCode: string; resultMsg: string }, string][] = [
    [
      'a bad signature',
      (w) => w.call(newInstanceBody('biz-1'), { key: 'not-the-key' }),
      { resultCode: '000001', resultMsg: 'token is invalid' },
      'signature does not match',
    ],
    [
      'a __proto__ member appended after signing',
      (w) => {
        const body = newInstanceBody('biz-1');
        return w.send(`${JSON.stringify(body).slice(0, -1)},"__proto__":"x"}`, signedQuery(body, { nowMs: NOW }));
      },
      { resultCode: '000001', resultMsg: 'token is invalid' },
      'signature does not match',
    ],
    [
      'a nested __proto__ member appended after signing',
      (w) => {
        const body = { activity: 'changeInstanceCheck', instanceId: 'i-1', productInfo: { skuCode: 's' } };
        const raw = '{"activity":"changeInstanceCheck","instanceId":"i-1","productInfo":{"skuCode":"s","__proto__":{"productId":"p"}}}';
        return w.send(raw, signedQuery(body, { nowMs: NOW }));
      },
      { resultCode: '000001', resultMsg: 'token is invalid' },
      'signature does not match',
    ],
    [
      'a key repeated in one object',
      (w) => {
        const raw = '{"activity":"updateInstanceStatus","instanceId":"i-1","status":"FREEZE","status":"UNFREEZE"}';
        return w.send(raw, signedQuery({}, { nowMs: NOW, payload: raw }));
      },
      { resultCode: '000002', resultMsg: 'param is invalid: body has a duplicate key' },
      'duplicate key',
    ],
    [
      'malformed JSON',
      (w) => w.send('{"activity":', signedQuery({}, { nowMs: NOW })),
      { resultCode: '000002', resultMsg: 'param is invalid: body is not a JSON object' },
      'malformed JSON',
    ],
    [
      'an oversized body',
      (w) =>
        w.send(
          JSON.stringify({ activity: 'queryInstance', instanceId: 'x', pad: 'y'.repeat(PRODUCE_SETTINGS.maxBodyBytes) }),
          signedQuery({}, { nowMs: NOW }),
        ),
      { resultCode: '000002', resultMsg: 'param is invalid: body is empty or too large' },
      'body size',
    ],
  ];
  for (const [name, send, expected, reason] of refused) {
    it(`refuses ${name} with ${expected.resultCode} and writes only the audit record`, async () => {
      // Prepare
      const world = produce();

      // Act
      const answer = await send(world);

      // Assess
      expect(answer).toEqual(expected);
      expect(world.table.commits).toEqual([['audit']]);
      expect(world.store.instances()).toEqual([]);
      expect(world.audits()).toEqual([expect.objectContaining({ resultCode: expected.resultCode, reason })]);
      expect(world.publisher.published).toEqual([]);
    });
  }

  it('accepts a body signed the Jackson way: upper-case escapes, numbers as the text they were written as', async () => {
    // Prepare
    const world = produce();
    const raw = String.raw`{"activity":"newInstance","orderId":"CS-1","orderLineId":"CS-1-000001","businessId":"biz-1","remark":"a\u001fb","quantity":1.0}`;
    const jackson = String.raw`{"activity":"newInstance","businessId":"biz-1","orderId":"CS-1","orderLineId":"CS-1-000001","quantity":"1.0","remark":"a\u001Fb"}`;

    // Act
    const answer = await world.send(raw, signedQuery({}, { nowMs: NOW, payload: jackson }));

    // Assess
    expect(answer).toMatchObject({ resultCode: '000000', instanceId: 'biz-1' });
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000000', signatureForm: 'jackson' })]);
  });

  it('refuses a signed body with a __proto__ member, which validation cannot see, with 000002', async () => {
    // Prepare
    const world = produce();
    const raw = '{"activity":"changeInstanceCheck","instanceId":"i-1","productInfo":{"skuCode":"s","__proto__":{"productId":"p"}}}';

    // Act
    const answer = await world.send(raw, signedQuery({}, { nowMs: NOW, payload: raw }));

    // Assess
    expect(answer).toEqual({ resultCode: '000002', resultMsg: 'param is invalid: productInfo has a member named __proto__' });
    expect(world.table.commits).toEqual([['nonce', 'audit']]);
  });

  it('claims the nonce of a well-signed call that fails validation, and answers 000002 naming the field', async () => {
    // Prepare
    const world = produce();

    // Act
    const answer = await world.call({ activity: 'newInstance', orderId: 'CS-1' });

    // Assess
    expect(answer).toEqual({ resultCode: '000002', resultMsg: 'param is invalid: orderLineId is required' });
    expect(world.table.commits).toEqual([['nonce', 'audit']]);
    expect(world.audits()).toEqual([
      expect.objectContaining({ resultCode: '000002', activity: 'newInstance', reason: 'orderLineId is required' }),
    ]);
  });
});

describe('what the message log keeps of a refused call', () => {
  const claimed = 'newInstance\u0000<script>';

  it("records an unsigned call's activity only as claimedActivity, cleaned", async () => {
    // Prepare
    const world = produce();
    const body = { activity: claimed, orderId: 'CS-1' };

    // Act
    const answer = await world.send(JSON.stringify(body), { timestamp: String(NOW), nonce: 'n-unsigned' });

    // Assess
    expect(answer.resultCode).toBe('000001');
    const [record] = world.audits();
    expect(record).not.toHaveProperty('activity');
    expect(record).toMatchObject({ claimedActivity: 'newInstance__script_', reason: 'signature is missing' });
  });

  it('bounds and cleans what a badly signed call claims', async () => {
    // Prepare
    const world = produce();

    // Act
    await world.call({ activity: `<img src=x onerror=alert(1)>${'a'.repeat(100)}` }, { key: 'not-the-key' });

    // Assess
    const [record] = world.audits();
    expect(record).not.toHaveProperty('activity');
    expect(record?.claimedActivity).toBe('_img_src_x_onerror_alert_1__aaaa');
    expect(record?.claimedActivity).toMatch(/^[A-Za-z0-9_.-]{1,32}$/);
    expect(world.logged.lines.at(-1)?.extra).not.toHaveProperty('activity');
    expect(world.logged.lines.at(-1)?.extra?.claimedActivity).toBe(record?.claimedActivity);
  });

  it("records a signed call's activity as activity, and nothing as claimed", async () => {
    // Prepare
    const world = produce();

    // Act
    await world.call(newInstanceBody('biz-1'));

    // Assess
    const [record] = world.audits();
    expect(record).toMatchObject({ activity: 'newInstance', resultCode: '000000' });
    expect(record).not.toHaveProperty('claimedActivity');
  });

  it("records a badly signed V1 call's activity only as claimedActivity", async () => {
    // Prepare
    const world = produce();
    const { query } = signV1Request('not-the-key', { activity: 'newInstance<b>', orderId: 'CS-1' }, NOW);

    // Act
    const result = await handleProduceCall({ version: 'v1', rawQuery: query, correlationId: 'c-v1' }, world.deps);

    // Assess
    expect(result.answer.resultCode).toBe('000001');
    const [record] = world.audits();
    expect(record).not.toHaveProperty('activity');
    expect(record).toMatchObject({ channel: 'produceV1', claimedActivity: 'newInstance_b_', reason: 'authToken does not match' });

    // A query string that cannot be read claims nothing.
    await handleProduceCall({ version: 'v1', rawQuery: 'activity=newInstance&x=%ZZ', correlationId: 'c-v1-bad' }, world.deps);
    const unreadable = world.audits().find((r) => r.correlationId === 'c-v1-bad');
    expect(unreadable).toMatchObject({ resultCode: '000002', reason: 'parameter x is not correctly encoded' });
    expect(unreadable).not.toHaveProperty('claimedActivity');
  });
});

describe('lifecycle', () => {
  it('freezes, unfreezes and releases, each change with its history entry and outbox event', async () => {
    // Prepare
    const world = produce();
    const instanceId = await created(world);

    // Act
    const answers = [
      await world.call(status(instanceId, 'FREEZE')),
      await world.call(status(instanceId, 'UNFREEZE')),
      await world.call({ activity: 'releaseInstance', instanceId, orderId: 'CS-9' }),
    ];

    // Assess
    expect(answers.map((a) => a.resultCode)).toEqual(['000000', '000000', '000000']);
    expect(world.table.commits).toEqual(Array(3).fill(['nonce', 'instance', 'history', 'outbox', 'audit']));
    expect(await world.store.getInstance(instanceId)).toMatchObject({ state: 'RELEASED', version: 4 });
    expect((await world.store.getHistory(instanceId)).map((h) => [h.event, h.from, h.to])).toEqual([
      ['instance.created', undefined, 'ACTIVE'],
      ['instance.frozen', 'ACTIVE', 'FROZEN'],
      ['instance.unfrozen', 'FROZEN', 'ACTIVE'],
      ['instance.released', 'ACTIVE', 'RELEASED'],
    ]);
    expect(world.publisher.published.slice(1).map((e) => [e.type, e.eventId, e.state])).toEqual([
      ['instance.frozen', `${instanceId}:2`, 'FROZEN'],
      ['instance.unfrozen', `${instanceId}:3`, 'ACTIVE'],
      ['instance.released', `${instanceId}:4`, 'RELEASED'],
    ]);
    expect(world.outbox.events().at(-1)).toMatchObject({ type: 'instance.released', orderId: 'CS-9' });
  });

  it('answers a change that changes nothing with success and writes only the nonce and audit record', async () => {
    // Prepare
    const world = produce();
    const instanceId = await created(world);

    // Act
    const answer = await world.call(status(instanceId, 'UNFREEZE'));

    // Assess
    expect(answer).toEqual({ resultCode: '000000', resultMsg: 'success.' });
    expect(world.table.commits).toEqual([['nonce', 'audit']]);
    expect(await world.store.getInstance(instanceId)).toMatchObject({ state: 'ACTIVE', version: 1 });
  });

  it('never moves a released instance: late calls answer success and change nothing', async () => {
    // Prepare
    const world = produce();
    const instanceId = await created(world);
    await world.call({ activity: 'releaseInstance', instanceId });
    const released = await world.store.getInstance(instanceId);

    // Act
    const late = [
      await world.call(status(instanceId, 'FREEZE')),
      await world.call({
        activity: 'refreshInstance',
        scene: 'RENEWAL',
        orderId: 'CS-2',
        orderLineId: 'CS-2-000001',
        instanceId,
        expireTime: '20300101000000',
      }),
      await world.call({ activity: 'upgradeInstance', instanceId, orderId: 'CS-3', orderLineId: 'CS-3-000001' }),
      await world.call({ activity: 'releaseInstance', instanceId }),
    ];

    // Assess
    expect(late.map((a) => a.resultCode)).toEqual(['000000', '000000', '000000', '000000']);
    expect(await world.store.getInstance(instanceId)).toEqual(released);
    expect(world.table.commits.slice(1)).toEqual(Array(4).fill(['nonce', 'audit']));
  });

  it('answers 000003 for a change to an unknown instance', async () => {
    // Prepare
    const world = produce();

    // Act
    const answer = await world.call(status('ghost', 'FREEZE'));

    // Assess
    expect(answer).toEqual({ resultCode: '000003', resultMsg: 'instance is invalid' });
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000003', instanceId: 'ghost' })]);
  });
});

describe('races and failing commits', () => {
  it('re-plans a newInstance that lost the race for its order line and answers the winner', async () => {
    // Prepare
    const world = produce();
    world.table.inject({ kind: 'race', otherWriter: () => world.call(newInstanceBody('biz-rival')) }, { when: touches('orderLine') });

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess
    expect(answer).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: 'biz-rival' });
    expect(world.store.instances().map((i) => i.instanceId)).toEqual(['biz-rival']);
    expect(world.table.commits).toEqual([
      ['nonce', 'orderLine', 'instance', 'history', 'outbox', 'audit'],
      ['nonce', 'audit'],
    ]);
    expect(world.publisher.published.map((e) => e.instanceId)).toEqual(['biz-rival']);
    expect(world.audits().map((a) => a.instanceId)).toEqual(['biz-rival', 'biz-rival']);
  });

  it('re-plans a change whose instance moved on meanwhile, from fresh reads', async () => {
    // Prepare
    const world = produce();
    const instanceId = await created(world);
    const renewal = {
      activity: 'refreshInstance',
      scene: 'RENEWAL',
      orderId: 'CS-2',
      orderLineId: 'CS-2-000001',
      instanceId,
      expireTime: '20300101000000',
    };
    world.table.inject({ kind: 'race', otherWriter: () => world.call(renewal) }, { when: touches('instance') });

    // Act
    const answer = await world.call(status(instanceId, 'FREEZE'));

    // Assess
    expect(answer.resultCode).toBe('000000');
    expect(await world.store.getInstance(instanceId)).toMatchObject({ state: 'FROZEN', expireTime: '20300101000000', version: 3 });
    expect((await world.store.getHistory(instanceId)).map((h) => h.event)).toEqual([
      'instance.created',
      'instance.renewed',
      'instance.frozen',
    ]);
  });

  it('answers as planned when the commit answer was lost but its message-log record is there', async () => {
    // Prepare
    const world = produce();
    world.table.inject({ kind: 'lostAnswer' }, { when: touches('instance') });

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess
    expect(answer).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: 'biz-1' });
    expect(world.store.instances().map((i) => i.instanceId)).toEqual(['biz-1']);
    expect(world.publisher.published.map((e) => e.eventId)).toEqual(['biz-1:1']);
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000000', instanceId: 'biz-1' })]);
    expect(world.logged.lines).toContainEqual({
      level: 'warn',
      message: 'commit answer lost; the write is durable',
      extra: { correlationId: 'c-1', error: 'InjectedFault' },
    });
  });

  it('answers 000005 and records it when a commit fails and left nothing', async () => {
    // Prepare
    const world = produce();
    world.table.inject({ kind: 'throw' }, { when: touches('instance') });

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess
    expect(answer).toEqual({ resultCode: '000005', resultMsg: 'other inner error' });
    expect(world.store.instances()).toEqual([]);
    expect(world.publisher.published).toEqual([]);
    expect(world.table.commits).toEqual([['audit']]);
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000005', reason: 'internal error', activity: 'newInstance' })]);
    expect(world.logged.messages('error')).toEqual(['marketplace call failed']);
  });

  it('leaves events the queue did not take to the outbox sweep', async () => {
    // Prepare
    const world = produce();
    world.publisher.failNext();

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess
    expect(answer.resultCode).toBe('000000');
    expect(world.publisher.published).toEqual([]);
    expect(world.outbox.events().map((e) => e.eventId)).toEqual(['biz-1:1']);
    expect(world.logged.lines).toContainEqual({
      level: 'warn',
      message: 'events left to the outbox sweep',
      extra: { eventIds: ['biz-1:1'] },
    });
  });
});

describe('License-code calls', () => {
  /** A code the seller registered (npm run licenses -- register). */
  async function registered(world: World, code = 'PL-1') {
    const { license, entry } = registerLicense(
      { license: code, test: false, orderId: 'CS-1', orderLineId: 'CS-1-000001', productId: 'P-1', expireTime: '20270101000000' },
      AT,
    );
    expect(await world.table.commit(world.licenses.register(license, entry, undefined))).toEqual({ ok: true });
    world.table.commits.length = 0;
    return code;
  }
  const renewal = (license: string) => ({
    activity: 'refreshLicenseCode',
    license,
    orderId: 'CS-2',
    orderLineId: 'CS-2-000001',
    scene: 'RENEWAL',
    expireTime: '20280101000000',
    productId: 'P-2',
  });

  it('renews a registered code once per order: the license writes share the call transaction', async () => {
    // Prepare
    const world = produce();
    const code = await registered(world);

    // Act
    const first = await world.call(renewal(code));
    const repeated = await world.call(renewal(code));

    // Assess
    expect([first, repeated]).toEqual([
      { resultCode: '000000', resultMsg: 'success.' },
      { resultCode: '000000', resultMsg: 'success.' },
    ]);
    expect(world.table.commits).toEqual([
      ['nonce', 'license', 'history', 'applied', 'audit'],
      ['nonce', 'audit'],
    ]);
    expect(await world.licenses.getLicense(code)).toMatchObject({
      state: 'ACTIVE',
      expireTime: '20280101000000',
      productId: 'P-2',
      version: 2,
    });
    expect((await world.licenses.getHistory(code)).map((h) => h.event)).toEqual(['license.registered', 'license.renewed']);
    expect(world.audits()[0]).toMatchObject({ activity: 'refreshLicenseCode', licenseId: code, orderId: 'CS-2', resultCode: '000000' });
    expect(world.publisher.published).toEqual([]);
  });

  it('answers 000003 for a code nobody registered', async () => {
    // Prepare
    const world = produce();

    // Act
    const answer = await world.call(renewal('PL-unknown'));

    // Assess
    expect(answer).toEqual({ resultCode: '000003', resultMsg: 'license code does not exist' });
    expect(await world.licenses.getLicense('PL-unknown')).toBeUndefined();
    expect(world.table.commits).toEqual([['nonce', 'audit']]);
  });
});

describe('the time budget (law 11)', () => {
  const never = () => new Promise<never>(() => {});

  it('answers a committed call 000000 when the publish hangs, leaving its event to the outbox sweep', async () => {
    // Prepare
    const committed: ProduceResult[] = [];
    const world = produce({ onCommitted: (result) => committed.push(result) });
    world.deps.publisher = { publish: never };
    const started = performance.now();

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess: the publish gets 500 ms after the commit
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(answer).toEqual({ resultCode: '000000', resultMsg: 'success.', instanceId: 'biz-1' });
    expect(committed.map((c) => c.answer)).toEqual([answer]);
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000000', instanceId: 'biz-1' })]);
    expect(world.outbox.events().map((e) => e.eventId)).toEqual(['biz-1:1']);
    expect(world.logged.lines).toContainEqual({
      level: 'warn',
      message: 'events left to the outbox sweep',
      extra: { eventIds: ['biz-1:1'], error: 'TimeoutError' },
    });
  });

  it('answers a committed call 000000 when the publish throws', async () => {
    // Prepare
    const world = produce();
    world.deps.publisher = {
      publish: async () => {
        throw new Error('queue unreachable');
      },
    };

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess
    expect(answer.resultCode).toBe('000000');
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000000' })]);
  });

  it('abandons a read that hangs and answers 000005 within the budget, recording it', async () => {
    // Prepare: reads get what the budget leaves before the 1.5 s kept for after the decision
    const world = produce({ answerWithinMs: 1_700 });
    world.deps.store = { ...world.store, getOrderLineInstanceId: never };
    const started = performance.now();

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess
    expect(performance.now() - started).toBeLessThan(1_200);
    expect(answer).toEqual({ resultCode: '000005', resultMsg: 'other inner error' });
    expect(world.store.instances()).toEqual([]);
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000005', reason: 'internal error' })]);
  });

  it('abandons a commit that hangs, then fences it off with the 000005 record', async () => {
    // Prepare: the transaction never answers (and never applies)
    const world = produce();
    world.deps.store = {
      ...world.store,
      commit: (writes) => (writes.some((w) => w.label === 'instance') ? never() : world.store.commit(writes)),
    };
    const started = performance.now();

    // Act
    const answer = await world.call(newInstanceBody('biz-1'));

    // Assess: the transaction gets 1 s from the decision
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(answer.resultCode).toBe('000005');
    expect(world.audits()).toEqual([expect.objectContaining({ resultCode: '000005', reason: 'internal error' })]);
  });
});
