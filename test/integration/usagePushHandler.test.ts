import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { sellerViews } from '#lib/store/sellerViews.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { createResources } from '../../scripts/local/emulators.ts';
import { startFakeOpenApi, type FakeOpenApi } from '../../scripts/local/fake-openapi.ts';
import { handler } from '../../functions/usagePush.ts';

/**
 * The hourly usage push as Lambda runs it (functions/usagePush.ts), on tables of its own stage (the push takes every
 * due window of its table) against DynamoDB Local and the fake KooGallery Open API: the records refused in a run
 * come out as one EMF line on stdout, the metric UsageRecordsRefused that the alarm watches; a run that refused
 * nothing writes no metric line.
 */

const HOUR = 3_600_000;
const CREDENTIALS = { ak: 'push-handler-ak-0123456789', sk: 'push-handler-sk-0123456789' };
const ACCESS_KEY = 'pushHandlerAccessKey-0123456789';
let fake: FakeOpenApi;
let mainTable: string;
let auditTable: string;

beforeAll(async () => {
  const stack = inject('localStack');
  const resources = await createResources({
    stage: `upush${randomUUID().slice(0, 6)}`,
    dynamoEndpoint: stack.dynamoEndpoint,
    sqsEndpoint: stack.sqsEndpoint,
  });
  fake = await startFakeOpenApi({ credentials: CREDENTIALS, accessKey: ACCESS_KEY });
  mainTable = resources.tables.MainTable!;
  auditTable = resources.tables.AuditTable!;
  // Read by lib/config.ts when the handler first runs in this worker; what Lambda's environment holds.
  Object.assign(process.env, {
    MAIN_TABLE: mainTable,
    AUDIT_TABLE: auditTable,
    OPENAPI_BASE_URL: fake.url,
    OPENAPI_FALLBACK_URL: 'none',
    KOOGALLERY_AK: CREDENTIALS.ak,
    KOOGALLERY_SK: CREDENTIALS.sk,
    KOOGALLERY_ACCESS_KEY: ACCESS_KEY,
    POWERTOOLS_SERVICE_NAME: 'koogallery-isv',
  });
});
afterAll(async () => {
  await fake?.close();
});

/** Usage in the hour that began `hoursAgo` hours back. */
async function used(instanceId: string, hoursAgo: number): Promise<void> {
  const now = Date.now();
  const beginTime = new Date(now - (now % HOUR) - hoursAgo * HOUR).toISOString();
  const endTime = new Date(Date.parse(beginTime) + HOUR).toISOString();
  const added = await usageStore(dynamoClient(), mainTable).add(
    { instanceId, beginTime, endTime, units: 10_000n, reports: 1, clientRefs: [] },
    new Date(now).toISOString(),
  );
  expect(added).toEqual({ ok: true });
}

/** Runs the handler and returns its summary and the EMF lines it wrote to stdout. */
async function run() {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    const summary = await handler();
    const emf = written
      .join('')
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { summary, emf };
  } finally {
    spy.mockRestore();
  }
}

describe('usagePush handler metrics', () => {
  it('writes the refused records of a run as the UsageRecordsRefused metric, and no metric when none was refused', async () => {
    // Prepare: one window too old to send (the marketplace would refuse it), one it accepts.
    await used('push-old', 22 * 24);
    await used('push-new', 2);

    // Act
    const first = await run();
    const second = await run();

    // Assess
    expect(first.summary).toMatchObject({ rejected: 1, accepted: 1 });
    expect(first.emf).toHaveLength(1);
    expect(first.emf[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'KooGalleryISV/test', Metrics: [{ Name: 'UsageRecordsRefused', Unit: 'Count' }] }] },
      service: 'koogallery-isv',
      UsageRecordsRefused: 1,
    });
    expect(second.summary).toMatchObject({ due: 0, rejected: 0 });
    expect(second.emf).toEqual([]);
  });
});

describe('usagePush handler message log', () => {
  it('keeps each push with the records sent and the marketplace answer, filterable by channel', async () => {
    const instanceId = `push-log-${randomUUID().slice(0, 8)}`;
    await used(instanceId, 3);
    const from = new Date(Date.now() - 1_000).toISOString();
    expect((await run()).summary).toMatchObject({ accepted: 1 });

    const views = sellerViews(dynamoClient(), { main: mainTable, audit: auditTable });
    const page = await views.listMessages({ from, to: new Date(Date.now() + 1_000).toISOString(), channel: 'usagePush' });
    const pushed = page.items.find((m) => m.request?.json.includes(instanceId));
    expect(pushed).toMatchObject({ channel: 'usagePush', resultCode: 'MKT.0000', httpStatus: 200, records: 1 });
    const request = JSON.parse(pushed!.request!.json) as { records: Record<string, unknown>[] };
    expect(request.records).toEqual([
      expect.objectContaining({ instance_id: instanceId, usage_value: '1', metering_sn: expect.any(String) }),
    ]);
    expect(JSON.parse(pushed!.answer!.json)).toMatchObject({ resultCode: 'MKT.0000' });
    expect(JSON.stringify(pushed)).not.toContain(ACCESS_KEY);
    expect(await views.listMessages({ from, to: new Date().toISOString(), channel: 'webhook' })).toEqual({ items: [] });
  });
});
