import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Instance } from '#lib/instances/model.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import { auditLog } from '#lib/store/auditLog.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { type UsageLedger } from '#lib/usage/ports.ts';
import { type UsageWindow } from '#lib/usage/ports.ts';
import { ingestUsage } from '#lib/usage/ingest.ts';
import { pushUsage, type PushSummary } from '#lib/usage/push.ts';
import { startFakeOpenApi, type FakeOpenApi } from '../../scripts/local/fake-openapi.ts';
import { call, env, store, uniqueId } from '../helpers/produce.ts';
import { storedInstance } from '../helpers/instances.ts';
import { keys, seller, sellerKey } from '../helpers/seller.ts';

/**
 * Usage metering end to end against DynamoDB Local and the fake KooGallery Open API on 127.0.0.1: reports through
 * the real seller function (key auth, validation, ledger), then the hourly push (batches, crash and re-run,
 * duplicates, rate limits, late usage, refusals) and queryInstance's usageInfo.
 */

const PRODUCT = `METERED-${Date.now()}`;
const DAILY_PRODUCT = `METERED-DAILY-${Date.now()}`;
// Read by lib/config.ts when the seller and produce functions first run in this worker.
process.env.USAGE_PRODUCTS = `${PRODUCT},${DAILY_PRODUCT}:daily`;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CREDENTIALS = { ak: 'usage-test-ak-0123456789', sk: 'usage-test-sk-0123456789' };
const ACCESS_KEY = 'testAccessKey-0123456789';

let fake: FakeOpenApi;
let usageKey: string;
const ledger = (): UsageLedger => usageStore(dynamoClient(), env('MAIN_TABLE'));

beforeAll(async () => {
  fake = await startFakeOpenApi({ credentials: CREDENTIALS, accessKey: ACCESS_KEY });
  usageKey = await sellerKey('usage:write', 'usage:read');
});
afterAll(async () => {
  await fake?.close();
});

/** The start of the hour `hoursAgo` hours back, as an ISO instant. */
const hourStart = (hoursAgo: number, now = Date.now()) => new Date(now - (now % HOUR) - hoursAgo * HOUR).toISOString();
const plusHour = (iso: string) => new Date(Date.parse(iso) + HOUR).toISOString();
const report = (instanceId: string, hoursAgo: number, value: string, clientRef?: string) => {
  const beginTime = hourStart(hoursAgo);
  return { instanceId, beginTime, endTime: plusHour(beginTime), value, ...(clientRef ? { clientRef } : {}) };
};

/**
 * An ACTIVE instance of a product. newInstance carries no productId (spec §3.1): it comes from Query Order during
 * provisioning, which these tests leave out, so instances are written through the store with their product.
 */
async function meteredInstance(productId = PRODUCT, fields: Partial<Instance> = {}): Promise<string> {
  return (await seededInstance({ productId, ...fields })).instanceId;
}

/** An instance written through the store, for states and order terms newInstance cannot give. */
const seededInstance = (fields: Partial<Instance>): Promise<Instance> => storedInstance('use', fields);

const postUsage = (records: unknown[], key = usageKey) => seller('POST', '/seller/usage', { key, body: { records } });

async function windowsOf(instanceId: string): Promise<UsageWindow[]> {
  return ledger().windows(instanceId, new Date(Date.now() - 22 * DAY).toISOString(), new Date(Date.now() + 2 * DAY).toISOString(), 1000);
}

function push(now: number = Date.now(), overrides: Partial<Parameters<typeof pushUsage>[0]> = {}): Promise<PushSummary> {
  const client = openApiClient({ baseUrl: fake.url, credentials: async () => CREDENTIALS, accessKey: async () => ACCESS_KEY });
  return pushUsage(
    {
      ledger: ledger(),
      pushUsage: (records) => client.pushUsage(records),
      audit: auditLog(dynamoClient(), env('AUDIT_TABLE')),
      now: () => now,
      log: { info: () => {}, warn: () => {}, error: () => {} },
      ...overrides,
    },
    { batchSize: 100, maxWindows: 10_000 },
  );
}

/** What the fake accepted for these instances. */
const acceptedFor = (...instanceIds: string[]) => fake.usage().filter((u) => instanceIds.includes(u.instance_id));

describe('seller API keys on /seller/usage', () => {
  it('refuses a missing, unknown, revoked or under-scoped key, and writes nothing', async () => {
    const instanceId = await meteredInstance();
    const records = [report(instanceId, 1, '1')];
    const missing = await seller('POST', '/seller/usage', { body: { records } });
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({ error: { code: 'unauthenticated', message: expect.stringMatching(/Bearer/) } });
    expect(missing.headers['WWW-Authenticate']).toBe('Bearer');

    const unknown = await postUsage(records, `kgs_${'A'.repeat(43)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual({ error: { code: 'unauthenticated', message: 'unknown API key' } });

    const revoked = await keys().create({ name: uniqueId('revoked'), scopes: ['usage:write'], now: Date.now() });
    await keys().revoke(revoked.key.keyId, Date.now());
    const afterRevoke = await postUsage(records, revoked.secret);
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.json).toEqual({ error: { code: 'unauthenticated', message: 'this API key was revoked' } });

    const readOnly = await sellerKey('instances:read', 'usage:read');
    const wrongScope = await postUsage(records, readOnly);
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.json).toEqual({ error: { code: 'forbidden', message: 'this API key lacks the scope "usage:write"' } });

    expect(await windowsOf(instanceId)).toEqual([]);
    // The same key works where its scope allows.
    expect((await seller('GET', '/seller/usage', { key: readOnly, query: { instanceId } })).status).toBe(200);
  });
});

describe('usage ingest', () => {
  it('answers every record: accepted, or rejected with its reason, writing nothing for a rejected one', async () => {
    const metered = await meteredInstance();
    const daily = await meteredInstance(DAILY_PRODUCT);
    const plain = await meteredInstance('NOT-METERED');
    const test = await meteredInstance(PRODUCT, { test: true });
    const released = await meteredInstance(PRODUCT, { state: 'RELEASED' });
    const provisioning = await seededInstance({ productId: PRODUCT, state: 'PROVISIONING' });
    const today = new Date(Date.now() - (Date.now() % DAY) - DAY).toISOString();

    const sent = [
      report(metered, 2, '1.5'),
      { ...report(metered, 2, '1'), extra: 'field' },
      { ...report(metered, 2, '1'), beginTime: hourStart(2).replace('Z', '+00:00') },
      { ...report(metered, 2, '1'), beginTime: new Date(Date.parse(hourStart(2)) + 60_000).toISOString() },
      { ...report(metered, 2, '1'), endTime: plusHour(plusHour(hourStart(2))) },
      report(metered, 2, '1.23456'),
      report(metered, 2, '0'),
      report(metered, 2, '-1'),
      report('no-such-instance', 2, '1'),
      report(plain, 2, '1'),
      report(test, 2, '1'),
      report(released, 2, '1'),
      report(provisioning.instanceId, 2, '1'),
      report(metered, 22 * 24, '1'),
      report(metered, -2, '1'),
      report(daily, 2, '1'),
      { instanceId: daily, beginTime: today, endTime: new Date(Date.parse(today) + DAY).toISOString(), value: '7' },
    ];
    const answer = await postUsage(sent);
    expect(answer.status).toBe(200);
    const results = answer.json.results as { index: number; status: string; reason?: { code: string; message: string } }[];
    expect(results.map((r) => r.reason?.code ?? r.status)).toEqual([
      'accepted',
      'invalid',
      'invalidTime',
      'invalidTime',
      'invalidTime',
      'invalidValue',
      'invalidValue',
      'invalidValue',
      'unknownInstance',
      'notMetered',
      'test',
      'released',
      'notProvisioned',
      'tooOld',
      'future',
      'invalidTime',
      'accepted',
    ]);
    expect(results.map((r) => r.index)).toEqual(sent.map((_, i) => i));
    expect(answer.json).toMatchObject({ accepted: 2, duplicates: 0, rejected: 15 });
    expect(results[1]!.reason!.message).toMatch(/extra/);

    // Only the two accepted records reached the ledger.
    expect((await windowsOf(metered)).map((w) => [w.beginTime, w.units])).toEqual([[hourStart(2), 15000n]]);
    expect((await windowsOf(daily)).map((w) => [w.beginTime, w.endTime, w.units])).toEqual([
      [today, new Date(Date.parse(today) + DAY).toISOString(), 70000n],
    ]);
    for (const id of [plain, test, released, provisioning.instanceId]) expect(await windowsOf(id)).toEqual([]);
  });

  it('refuses a malformed request as a whole and changes nothing', async () => {
    const instanceId = await meteredInstance();
    const ok = report(instanceId, 1, '1');
    const cases: [ReturnType<typeof seller>, number, string][] = [
      [seller('POST', '/seller/usage', { key: usageKey, rawBody: '{"records": [' }), 400, 'invalid_json'],
      [seller('POST', '/seller/usage', { key: usageKey, body: [ok] }), 422, 'unprocessable'],
      [seller('POST', '/seller/usage', { key: usageKey, body: { records: [] } }), 422, 'unprocessable'],
      [seller('POST', '/seller/usage', { key: usageKey, body: { records: [ok], more: 1 } }), 422, 'unprocessable'],
      [postUsage(Array.from({ length: 1001 }, () => ok)), 413, 'payload_too_large'],
      [
        seller('POST', '/seller/usage', { key: usageKey, rawBody: JSON.stringify({ records: [ok], pad: 'x'.repeat(1_100_000) }) }),
        413,
        'payload_too_large',
      ],
    ];
    for (const [pending, status, code] of cases) {
      const answer = await pending;
      expect([answer.status, (answer.json.error as { code: string }).code]).toEqual([status, code]);
    }
    expect(await windowsOf(instanceId)).toEqual([]);
  });

  it('sums reports per window exactly, and takes a clientRef once (within a request, across requests, concurrently)', async () => {
    const instanceId = await meteredInstance();
    const first = await postUsage([
      report(instanceId, 3, '0.1', 'r-1'),
      report(instanceId, 3, '0.2', 'r-2'),
      report(instanceId, 3, '0.0001'),
      report(instanceId, 4, '99999999999.9999'),
      report(instanceId, 4, '0.0001'),
      report(instanceId, 3, '5', 'r-1'),
    ]);
    expect(first.json).toMatchObject({ accepted: 5, duplicates: 1, rejected: 0 });
    expect((first.json.results as { status: string }[])[5]).toEqual({ index: 5, status: 'duplicate', clientRef: 'r-1' });

    const again = await postUsage([
      report(instanceId, 3, '0.1', 'r-1'),
      report(instanceId, 3, '0.2', 'r-2'),
      report(instanceId, 3, '0.4', 'r-3'),
    ]);
    expect(again.json).toMatchObject({ accepted: 1, duplicates: 2 });

    // The same new clientRef in ten concurrent requests counts once.
    const racing = await Promise.all(Array.from({ length: 10 }, () => postUsage([report(instanceId, 3, '1', 'r-race')])));
    expect(racing.map((r) => r.json.accepted).reduce((a, b) => Number(a) + Number(b), 0)).toBe(1);

    const windows = await windowsOf(instanceId);
    expect(windows.map((w) => [w.beginTime, w.units, w.reports])).toEqual([
      [hourStart(4), 1_000_000_000_000_000n, 2],
      [hourStart(3), 17_001n, 5],
    ]);
    const ledgerView = await seller('GET', '/seller/usage', { key: usageKey, query: { instanceId } });
    expect(ledgerView.json).toMatchObject({
      instanceId,
      total: '100000000001.7001',
      windows: [
        { beginTime: hourStart(4), value: '100000000000', state: 'OPEN', reports: 2 },
        { beginTime: hourStart(3), value: '1.7001', state: 'OPEN', reports: 5 },
      ],
    });
  });
});

describe('usage ingest when the ledger fails', () => {
  it("answers the failed window's records 'retry' and keeps the rest of the request", async () => {
    const [busy, fine] = await Promise.all([meteredInstance(), meteredInstance()]);
    const real = ledger();
    const warnings: string[] = [];
    const result = await ingestUsage([report(busy, 2, '1', 'b-1'), report(fine, 2, '2'), report(busy, 3, '3')], {
      instances: (ids) => store().getInstances(ids),
      // Every write of `busy` keeps losing to concurrent writers (DynamoDB's TransactionConflict).
      ledger: {
        ...real,
        add: async (addition, at) =>
          addition.instanceId === busy ? { ok: false, windowClosed: false, refTaken: false, conflict: true } : real.add(addition, at),
      },
      settings: { products: new Map([[PRODUCT, 'hourly']]), chargingModes: new Set(), packageChargingModes: new Set() },
      now: Date.now,
      log: { info: () => {}, warn: (message) => warnings.push(message), error: () => {} },
    });
    expect(result).toMatchObject({ accepted: 1, retry: 2, rejected: 0 });
    expect(result.results.map((r) => r.status)).toEqual(['retry', 'accepted', 'retry']);
    expect(warnings).toEqual(['usage window not recorded', 'usage window not recorded']);
    expect(await windowsOf(busy)).toEqual([]);
    // Sent again once the ledger is free, the reports count once.
    expect((await postUsage([report(busy, 2, '1', 'b-1'), report(busy, 3, '3')])).json).toMatchObject({ accepted: 2 });
    expect((await windowsOf(busy)).map((w) => w.units)).toEqual([30000n, 10000n]);
  });
});

describe('usage push', () => {
  beforeEach(async () => {
    // Windows other tests left behind (the current hour's included) are pushed first, so each test below sees
    // only its own, whatever the time of day.
    await push(Date.now() + 3 * DAY);
  });

  it('sends closed windows across several hours in batches of at most 100, each exactly once, and leaves the open one', async () => {
    const instances = await Promise.all([meteredInstance(), meteredInstance(), meteredInstance()]);
    const records = instances.flatMap((id, n) => Array.from({ length: 40 }, (_, h) => report(id, h + 1, `${n + 1}.25`)));
    records.push(report(instances[0]!, 0, '9')); // the current hour: not closed
    expect((await postUsage(records)).json).toMatchObject({ accepted: 121 });

    const callsBefore = fake.calls().length;
    const summary = await push();
    expect(summary).toMatchObject({ due: 120, sealed: 120, requests: 2, accepted: 120, rejected: 0, retrying: 0 });
    const requests = fake.calls().slice(callsBefore);
    expect(requests.map((c) => [c.status, c.resultCode, c.records])).toEqual([
      [200, 'MKT.0000', 100],
      [200, 'MKT.0000', 20],
    ]);
    const accepted = acceptedFor(...instances);
    expect(accepted).toHaveLength(120);
    expect(new Set(accepted.map((u) => u.metering_sn)).size).toBe(120);
    expect(new Set(accepted.map((u) => `${u.instance_id}|${u.begin_time}`)).size).toBe(120);
    expect(accepted.filter((u) => u.instance_id === instances[1]).every((u) => u.usage_value === '2.25')).toBe(true);
    expect(accepted[0]).toMatchObject({
      begin_time: expect.stringMatching(/^\d{8}T\d{6}Z$/),
      end_time: expect.stringMatching(/^\d{8}T\d{6}Z$/),
    });

    const windows = await windowsOf(instances[0]!);
    expect(windows.filter((w) => w.state === 'ACCEPTED')).toHaveLength(40);
    expect(windows.filter((w) => w.state === 'OPEN').map((w) => w.beginTime)).toEqual([hourStart(0)]);
    // A second run has nothing to send.
    expect(await push()).toMatchObject({ due: 0, requests: 0 });
    expect(acceptedFor(...instances)).toHaveLength(120);
  });

  it('re-sends the same metering_sn after a crash between sending and recording: the marketplace holds each window once', async () => {
    const instances = await Promise.all([meteredInstance(), meteredInstance()]);
    await postUsage(instances.flatMap((id) => Array.from({ length: 60 }, (_, h) => report(id, h + 1, '3'))));

    // The process dies right after the marketplace took the first batch, before recording anything.
    const real = ledger();
    const crashing: UsageLedger = {
      ...real,
      accept: async () => {
        throw new Error('process killed');
      },
    };
    await expect(push(Date.now(), { ledger: crashing })).rejects.toThrow('process killed');
    const sentFirst = acceptedFor(...instances)
      .map((u) => u.metering_sn)
      .sort();
    expect(sentFirst).toHaveLength(100);
    const states = (await Promise.all(instances.map(windowsOf))).flat().map((w) => w.state);
    expect(states.filter((s) => s === 'PUSHING')).toHaveLength(120);

    // The re-run sends the same 100 records again, under the same numbers (the marketplace answers "duplicate"),
    // then the 20 never sent.
    const rerun = await push();
    expect(rerun).toMatchObject({ sealed: 0, requests: 2, accepted: 120, duplicates: 100 });
    const all = acceptedFor(...instances);
    expect(all).toHaveLength(120);
    expect(new Set(all.map((u) => `${u.instance_id}|${u.begin_time}`)).size).toBe(120);
    const windows = (await Promise.all(instances.map(windowsOf))).flat();
    expect(windows.every((w) => w.state === 'ACCEPTED')).toBe(true);
    for (const sn of sentFirst) expect(windows.some((w) => w.meteringSn === sn)).toBe(true);
  });

  it('counts a marketplace "duplicate" answer as accepted', async () => {
    const instanceId = await meteredInstance();
    await postUsage([report(instanceId, 2, '4')]);
    // The marketplace already has this window (e.g. from a previous deployment's push).
    const client = openApiClient({ baseUrl: fake.url, credentials: async () => CREDENTIALS, accessKey: async () => ACCESS_KEY });
    const begin = hourStart(2).replace(/[-:]/g, '').replace('.000', '');
    const end = plusHour(hourStart(2)).replace(/[-:]/g, '').replace('.000', '');
    expect(
      await client.pushUsage([
        { instance_id: instanceId, begin_time: begin, end_time: end, record_time: end, usage_value: '4', metering_sn: 'earlier-push' },
      ]),
    ).toMatchObject({ ok: true });

    expect(await push()).toMatchObject({ requests: 1, accepted: 1, duplicates: 1 });
    expect(await windowsOf(instanceId)).toMatchObject([{ state: 'ACCEPTED', duplicate: true }]);
    expect(acceptedFor(instanceId)).toHaveLength(1);
  });

  it('backs off on a rate limit, keeping the metering_sn, and sends on a later run', async () => {
    const instanceId = await meteredInstance();
    await postUsage([report(instanceId, 2, '1'), report(instanceId, 3, '2')]);
    fake.injectFault({
      path: '/api/mkp-openapi-public/global/v1/isv/usage-data',
      status: 406,
      resultCode: 'MKT.0250',
      resultMsg: 'rate limited',
    });

    expect(await push()).toMatchObject({ requests: 1, accepted: 0, retrying: 2, stoppedBy: 'MKT.0250' });
    const waiting = await windowsOf(instanceId);
    expect(waiting.map((w) => [w.state, w.attempts, w.lastError?.slice(0, 8)])).toEqual([
      ['PUSHING', 1, 'MKT.0250'],
      ['PUSHING', 1, 'MKT.0250'],
    ]);
    expect(acceptedFor(instanceId)).toHaveLength(0);

    // The next run inside the backoff leaves them alone; the one after it sends them.
    expect(await push(Date.now() + 10 * 60_000)).toMatchObject({ waiting: 2, requests: 0 });
    // (The run an hour later also closes the current hour, which may hold other tests' usage.)
    expect(await push(Date.now() + HOUR)).toMatchObject({ requests: 1, retrying: 0 });
    expect((await windowsOf(instanceId)).map((w) => w.state)).toEqual(['ACCEPTED', 'ACCEPTED']);
    const sent = acceptedFor(instanceId);
    expect(sent.map((u) => u.metering_sn).sort()).toEqual(waiting.map((w) => w.meteringSn).sort());
  });

  it('keeps the records waiting when the marketplace refuses the credentials (e.g. during a key rotation)', async () => {
    const instanceId = await meteredInstance();
    await postUsage([report(instanceId, 2, '1')]);
    fake.injectFault({
      path: '/api/mkp-openapi-public/global/v1/isv/usage-data',
      status: 401,
      resultCode: 'MKT.0154',
      resultMsg: 'illegal token',
    });
    expect(await push()).toMatchObject({ requests: 1, rejected: 0, retrying: 1, stoppedBy: 'MKT.0154' });
    expect(await windowsOf(instanceId)).toMatchObject([{ state: 'PUSHING', attempts: 1 }]);
    expect(await push(Date.now() + HOUR)).toMatchObject({ requests: 1, retrying: 0 });
    expect(await windowsOf(instanceId)).toMatchObject([{ state: 'ACCEPTED' }]);
    expect(acceptedFor(instanceId)).toHaveLength(1);
  });

  it('isolates a record the marketplace refuses, rejecting it with the reason and sending the rest', async () => {
    const instanceId = await meteredInstance();
    await postUsage([report(instanceId, 2, '1'), report(instanceId, 3, '2'), report(instanceId, 4, '3')]);
    // The batch is refused, then the first record sent alone (the oldest window).
    fake.injectFault({
      path: '/api/mkp-openapi-public/global/v1/isv/usage-data',
      status: 500,
      resultCode: 'MKT.9002',
      resultMsg: 'Invalid usage entities.',
      times: 2,
    });

    expect(await push()).toMatchObject({ requests: 4, accepted: 2, rejected: 1 });
    const windows = await windowsOf(instanceId);
    expect(windows.map((w) => w.state)).toEqual(['REJECTED', 'ACCEPTED', 'ACCEPTED']);
    expect(windows[0]!.rejection).toEqual({ code: 'MKT.9002', message: expect.stringContaining('Invalid usage entities') });
    expect(acceptedFor(instanceId)).toHaveLength(2);
  });

  it('rejects without sending a window older than 21 days at push time (the marketplace would answer MKT.9004)', async () => {
    const instanceId = await meteredInstance();
    await postUsage([report(instanceId, 20 * 24, '1')]);
    const summary = await push(Date.now() + 2 * DAY);
    expect(summary).toMatchObject({ rejected: 1, requests: 0 });
    expect(await windowsOf(instanceId)).toMatchObject([{ state: 'REJECTED', rejection: { code: 'MKT.9004' } }]);
    expect(acceptedFor(instanceId)).toHaveLength(0);
  });

  it('carries usage reported for a pushed window into the current window as a late correction', async () => {
    const instanceId = await meteredInstance();
    await postUsage([report(instanceId, 2, '5')]);
    await push();

    const late = await postUsage([report(instanceId, 2, '0.75', 'late-1')]);
    expect((late.json.results as unknown[])[0]).toEqual({
      index: 0,
      status: 'accepted',
      window: { beginTime: hourStart(0), endTime: plusHour(hourStart(0)) },
      lateFor: { beginTime: hourStart(2), endTime: plusHour(hourStart(2)) },
    });
    const view = await seller('GET', '/seller/usage', { key: usageKey, query: { instanceId } });
    expect(view.json).toMatchObject({
      total: '5.75',
      windows: [
        { beginTime: hourStart(2), state: 'ACCEPTED', value: '5' },
        { beginTime: hourStart(0), state: 'OPEN', value: '0.75', lateValue: '0.75' },
      ],
      corrections: [
        { reportedFor: { beginTime: hourStart(2) }, appliedTo: { beginTime: hourStart(0) }, value: '0.75', clientRefs: ['late-1'] },
      ],
    });
    // The retried report is still a duplicate.
    expect((await postUsage([report(instanceId, 2, '0.75', 'late-1')])).json).toMatchObject({ duplicates: 1 });

    // Once the current hour closes, the correction goes out with it: nothing is lost, nothing is sent twice.
    await push(Date.parse(plusHour(hourStart(0))) + 5 * 60_000);
    expect(
      acceptedFor(instanceId)
        .map((u) => u.usage_value)
        .sort(),
    ).toEqual(['0.75', '5']);
  });
});

describe('queryInstance usageInfo', () => {
  it("reports a package instance's consumption from the ledger, and none for other instances", async () => {
    // Metered by its order's charging mode alone (no product listed in USAGE_PRODUCTS).
    const pkg = await seededInstance({ order: { orderId: 'o', orderLineId: 'o-1', chargingMode: 'ON_DEMAND_PACKAGE' } });
    const plain = await meteredInstance();
    await postUsage([report(pkg.instanceId, 2, '12.5'), report(pkg.instanceId, 1, '0.25'), report(plain, 1, '3')]);

    const answer = await call({ activity: 'queryInstance', instanceId: `${pkg.instanceId},${plain}` });
    expect(answer.json.resultCode).toBe('000000');
    const info = answer.json.info as Record<string, unknown>[];
    expect(info[0]).toMatchObject({ instanceId: pkg.instanceId, usageInfo: [{ usageValue: 12.75 }] });
    expect(info[1]).not.toHaveProperty('usageInfo');
    expect(answer.raw).toContain('"usageValue":12.75');
  });
});

describe('seller API: instances, messages and the OpenAPI document', () => {
  it('lists and shows instances to a key with instances:read, and refuses others', async () => {
    const instanceId = await meteredInstance();
    const reader = await sellerKey('instances:read');
    const list = await seller('GET', '/seller/instances', { key: reader, query: { productId: PRODUCT, limit: '2' } });
    expect(list.status).toBe(200);
    expect((list.json.items as { instanceId: string }[]).length).toBe(2);
    expect(list.json.nextCursor).toEqual(expect.any(String));
    const next = await seller('GET', '/seller/instances', {
      key: reader,
      query: { productId: PRODUCT, limit: '2', cursor: String(list.json.nextCursor) },
    });
    expect(next.status).toBe(200);

    const one = await seller('GET', `/seller/instances/${encodeURIComponent(instanceId)}`, { key: reader });
    expect(one.json).toMatchObject({
      instance: { instanceId, state: 'ACTIVE', productId: PRODUCT },
      history: [{ version: 1, to: 'ACTIVE', actor: 'marketplace' }],
    });
    expect(JSON.stringify(one.json)).not.toContain('password');

    expect((await seller('GET', '/seller/instances/no-such-instance', { key: reader })).status).toBe(404);
    const badCursor = await seller('GET', '/seller/instances', { key: reader, query: { cursor: 'not-a-cursor' } });
    expect([badCursor.status, (badCursor.json.error as { code: string }).code]).toEqual([400, 'invalid_request']);
    const badState = await seller('GET', '/seller/instances', { key: reader, query: { state: 'GONE' } });
    expect(badState.status).toBe(400);
    expect((await seller('GET', '/seller/instances', { key: usageKey })).status).toBe(403);
    expect((await seller('GET', '/seller/nothing-here', { key: reader })).status).toBe(404);
  });

  it('shows the message log (marketplace calls and usage pushes) to a key with messages:read', async () => {
    const reader = await sellerKey('messages:read');
    const probe = await call({ activity: 'queryInstance', instanceId: uniqueId('missing') });
    expect(probe.json.resultCode).toBe('000003');
    const log = await seller('GET', '/seller/messages', { key: reader, query: { resultCode: '000003', limit: '200' } });
    expect(log.status).toBe(200);
    expect((log.json.items as { correlationId: string }[]).some((m) => m.correlationId === probe.correlationId)).toBe(true);
    // MKT.0000 is the Open API's success code: our usage pushes and our order queries both receive it.
    const pushes = await seller('GET', '/seller/messages', { key: reader, query: { resultCode: 'MKT.0000', channel: 'usagePush' } });
    expect(pushes.status).toBe(200);
    expect((pushes.json.items as { channel: string }[]).every((m) => m.channel === 'usagePush')).toBe(true);
    const tooWide = await seller('GET', '/seller/messages', {
      key: reader,
      query: { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
    });
    expect(tooWide.status).toBe(400);
    expect((await seller('GET', '/seller/messages', { key: usageKey })).status).toBe(403);
  });

  it('serves the OpenAPI document without a key', async () => {
    const doc = await seller('GET', '/seller/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json).toMatchObject({ openapi: '3.1.0' });
    expect(Object.keys(doc.json.paths as object).sort()).toEqual([
      '/seller/audit',
      '/seller/dlq',
      '/seller/dlq/redrive',
      '/seller/instances',
      '/seller/instances/{instanceId}',
      '/seller/instances/{instanceId}/provisioning/retry',
      '/seller/keys',
      '/seller/keys/{keyId}/revoke',
      '/seller/messages',
      '/seller/messages/{messageId}',
      '/seller/notifications',
      '/seller/notifications/{notificationId}',
      '/seller/openapi.json',
      '/seller/statements',
      '/seller/statements/{period}',
      '/seller/statements/{period}/close',
      '/seller/statements/{period}/reconciliation',
      '/seller/statements/{period}/run',
      '/seller/supervision',
      '/seller/supervision/{orderId}/{orderLineId}/proofs',
      '/seller/supervision/{orderId}/{orderLineId}/transitions',
      '/seller/tenants',
      '/seller/tenants/{tenantId}',
      '/seller/tenants/{tenantId}/users',
      '/seller/usage',
      '/seller/usage/windows/resend',
      '/seller/whoami',
    ]);
  });
});
