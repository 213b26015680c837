import { describe, expect, it } from 'vitest';
import type { Instance } from '#lib/instances/model.ts';
import { createInstance } from '#lib/instances/stateMachine.ts';
import { ingestUsage, type IngestDeps } from '#lib/usage/ingest.ts';
import { meteringSn, usageApiTime } from '#lib/usage/windows.ts';
import { memoryTable, fakeUsageLedger, recordingLog, touches } from '../fakes/index.ts';

/**
 * Usage ingest (lib/usage/ingest.ts) over the in-memory ledger: every report answered (accepted, duplicate,
 * rejected with its reason, or retry), one transaction per window, late usage carried into the open window.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-11-20T08:30:00.000Z');

/** The start of the hour `hoursAgo` hours back, as an ISO instant. */
const hourStart = (hoursAgo: number) => new Date(NOW - (NOW % HOUR) - hoursAgo * HOUR).toISOString();
const plusHour = (iso: string) => new Date(Date.parse(iso) + HOUR).toISOString();
const window = (hoursAgo: number) => ({ beginTime: hourStart(hoursAgo), endTime: plusHour(hourStart(hoursAgo)) });
const report = (instanceId: string, hoursAgo: number, value: string, clientRef?: string) => ({
  instanceId,
  ...window(hoursAgo),
  value,
  ...(clientRef ? { clientRef } : {}),
});

/** An instance of a product, ACTIVE unless told otherwise. */
function instance(instanceId: string, productId: string, fields: Partial<Instance> = {}): Instance {
  const { instance } = createInstance(
    { instanceId, orderId: `CS-${instanceId}`, orderLineId: `CS-${instanceId}-1`, businessId: instanceId, test: false, state: 'ACTIVE' },
    '2026-11-01T00:00:00.000Z',
  );
  return { ...instance, productId, ...fields };
}

const INSTANCES = [
  instance('metered', 'METERED'),
  instance('busy', 'METERED'),
  instance('daily', 'DAILY'),
  instance('plain', 'NOT-METERED'),
  instance('debug', 'METERED', { test: true }),
  instance('released', 'METERED', { state: 'RELEASED' }),
  instance('waiting', 'METERED', { state: 'PROVISIONING' }),
];

function ingest() {
  const table = memoryTable();
  const ledger = fakeUsageLedger(table);
  const logged = recordingLog();
  const known = new Map(INSTANCES.map((i) => [i.instanceId, i]));
  const deps: IngestDeps = {
    instances: async (ids) => new Map(ids.flatMap((id) => (known.has(id) ? [[id, known.get(id)!] as const] : []))),
    ledger,
    settings: {
      products: new Map([
        ['METERED', 'hourly'],
        ['DAILY', 'daily'],
      ]),
      chargingModes: new Set(),
      packageChargingModes: new Set(),
    },
    now: () => NOW,
    log: logged.log,
  };
  const windowsOf = (instanceId: string) =>
    ledger.windows(instanceId, new Date(NOW - 22 * DAY).toISOString(), new Date(NOW + DAY).toISOString(), 1000);
  return { table, ledger, logged, deps, windowsOf, send: (records: unknown[]) => ingestUsage(records, deps) };
}

describe('accepted reports', () => {
  it('sums reports per window exactly and keeps the running total', async () => {
    // Prepare
    const world = ingest();

    // Act
    const result = await world.send([
      report('metered', 3, '0.1'),
      report('metered', 3, '0.2'),
      report('metered', 4, '99999999999.9999'),
      report('metered', 3, '0.0001'),
    ]);

    // Assess
    expect(result).toMatchObject({ accepted: 4, duplicates: 0, rejected: 0, retry: 0 });
    expect(result.results[2]).toEqual({ index: 2, status: 'accepted', window: window(4) });
    expect((await world.windowsOf('metered')).map((w) => [w.beginTime, w.state, w.units, w.reports, w.lateUnits])).toEqual([
      [hourStart(4), 'OPEN', 999_999_999_999_999n, 1, 0n],
      [hourStart(3), 'OPEN', 3_001n, 3, 0n],
    ]);
    expect(await world.ledger.totals(['metered'])).toEqual(
      new Map([['metered', { units: 1_000_000_000_003_000n, updatedAt: new Date(NOW).toISOString() }]]),
    );
    expect(world.table.commits).toEqual([
      ['usageWindow', 'usageTotal'],
      ['usageWindow', 'usageTotal'],
    ]);
  });
});

describe('rejected reports', () => {
  it('answers each with its reason and writes nothing for them', async () => {
    // Prepare
    const world = ingest();
    const sent: [unknown, string][] = [
      [{ ...report('metered', 2, '1'), extra: 'field' }, 'invalid'],
      [{ ...report('metered', 2, '1'), beginTime: new Date(Date.parse(hourStart(2)) + 60_000).toISOString() }, 'invalidTime'],
      [report('metered', 2, '1.23456'), 'invalidValue'],
      [report('metered', 2, '0'), 'invalidValue'],
      [report('nobody', 2, '1'), 'unknownInstance'],
      [report('plain', 2, '1'), 'notMetered'],
      [report('debug', 2, '1'), 'test'],
      [report('released', 2, '1'), 'released'],
      [report('waiting', 2, '1'), 'notProvisioned'],
      [report('metered', 22 * 24, '1'), 'tooOld'],
      [report('metered', -2, '1'), 'future'],
      [report('daily', 2, '1'), 'invalidTime'],
    ];

    // Act
    const result = await world.send(sent.map(([record]) => record));

    // Assess
    expect(result).toMatchObject({ accepted: 0, rejected: sent.length });
    expect(result.results.map((r) => (r.status === 'rejected' ? r.reason.code : r.status))).toEqual(sent.map(([, code]) => code));
    expect(result.results[4]).toEqual({
      index: 4,
      status: 'rejected',
      reason: { code: 'unknownInstance', message: 'no such instance: nobody' },
    });
    expect(world.table.commits).toEqual([]);
  });
});

describe('duplicates', () => {
  it('takes a clientRef once within a request and across requests', async () => {
    // Prepare
    const world = ingest();
    const first = await world.send([
      report('metered', 3, '0.1', 'r-1'),
      report('metered', 3, '0.2', 'r-2'),
      report('metered', 3, '5', 'r-1'),
    ]);

    // Act
    const again = await world.send([
      report('metered', 3, '0.1', 'r-1'),
      report('metered', 3, '0.2', 'r-2'),
      report('metered', 3, '0.4', 'r-3'),
    ]);

    // Assess
    expect(first).toMatchObject({ accepted: 2, duplicates: 1 });
    expect(first.results[2]).toEqual({ index: 2, status: 'duplicate', clientRef: 'r-1' });
    expect(again).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(again.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate', 'accepted']);
    expect((await world.windowsOf('metered')).map((w) => [w.units, w.reports])).toEqual([[7_000n, 3]]);
    expect(
      await world.ledger.takenRefs([
        { instanceId: 'metered', clientRef: 'r-3' },
        { instanceId: 'metered', clientRef: 'r-4' },
      ]),
    ).toEqual(new Set(['metered\nr-3']));
  });

  it('answers duplicate exactly the report whose clientRef a concurrent request took meanwhile', async () => {
    // Prepare
    const world = ingest();
    const rival = () => world.send([report('metered', 3, '5', 'r-a')]);
    world.table.inject({ kind: 'race', otherWriter: rival }, { when: touches('usageRef', 'metered', 'r-b') });

    // Act
    const result = await world.send([report('metered', 3, '1', 'r-a'), report('metered', 3, '2', 'r-b')]);

    // Assess
    expect(result.results).toEqual([
      { index: 0, status: 'duplicate', clientRef: 'r-a' },
      { index: 1, status: 'accepted', window: window(3) },
    ]);
    expect((await world.windowsOf('metered')).map((w) => [w.units, w.reports])).toEqual([[70_000n, 2]]);
  });
});

describe('late reports', () => {
  it('carries usage for a window already pushed into the current window as a correction', async () => {
    // Prepare
    const world = ingest();
    await world.send([report('metered', 2, '5')]);
    const [pushed] = await world.windowsOf('metered');
    await world.ledger.seal(pushed!, {
      meteringSn: meteringSn('metered', pushed!.beginTime, pushed!.endTime, 1),
      recordTime: usageApiTime(NOW),
      at: new Date(NOW).toISOString(),
    });

    // Act
    const late = await world.send([report('metered', 2, '0.75', 'late-1')]);
    const repeated = await world.send([report('metered', 2, '0.75', 'late-1')]);

    // Assess
    expect(late.results).toEqual([{ index: 0, status: 'accepted', window: window(0), lateFor: window(2) }]);
    expect(repeated).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await world.windowsOf('metered')).map((w) => [w.beginTime, w.state, w.units, w.lateUnits])).toEqual([
      [hourStart(2), 'PUSHING', 50_000n, 0n],
      [hourStart(0), 'OPEN', 7_500n, 7_500n],
    ]);
    expect(await world.ledger.corrections('metered', 10)).toEqual([
      {
        instanceId: 'metered',
        at: new Date(NOW).toISOString(),
        reportedFor: window(2),
        appliedTo: window(0),
        units: 7_500n,
        reports: 1,
        clientRefs: ['late-1'],
      },
    ]);
    expect((await world.ledger.totals(['metered'])).get('metered')?.units).toBe(57_500n);
  });
});

describe('a failing ledger', () => {
  it("answers the failed window's records 'retry' and keeps the rest of the request", async () => {
    // Prepare
    const world = ingest();
    world.table.inject({ kind: 'throw' }, { when: touches('usageWindow', 'busy'), times: Infinity });

    // Act
    const result = await world.send([report('busy', 2, '1', 'b-1'), report('metered', 2, '2'), report('busy', 3, '3')]);

    // Assess
    expect(result).toMatchObject({ accepted: 1, retry: 2, rejected: 0 });
    expect(result.results.map((r) => r.status)).toEqual(['retry', 'accepted', 'retry']);
    expect(world.logged.messages('warn')).toEqual(['usage window not recorded', 'usage window not recorded']);
    expect(await world.windowsOf('busy')).toEqual([]);
    expect(await world.ledger.takenRefs([{ instanceId: 'busy', clientRef: 'b-1' }])).toEqual(new Set());
    expect((await world.windowsOf('metered')).map((w) => w.units)).toEqual([20_000n]);
  });

  it('retries a window write that lost to a concurrent transaction', async () => {
    // Prepare
    const world = ingest();
    world.table.inject({ kind: 'conflict' }, { when: touches('usageWindow', 'metered'), times: 2 });

    // Act
    const result = await world.send([report('metered', 2, '1', 'c-1')]);

    // Assess
    expect(result).toMatchObject({ accepted: 1, retry: 0 });
    expect((await world.windowsOf('metered')).map((w) => [w.units, w.reports])).toEqual([[10_000n, 1]]);
    expect(world.table.commits).toEqual([['usageWindow', 'usageTotal', 'usageRef']]);
  });
});
