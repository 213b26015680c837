import { describe, expect, it } from 'vitest';
import { pushUsage, type PushDeps, type PushSummary } from '#lib/usage/push.ts';
import type { UsageLedger } from '#lib/usage/ports.ts';
import { resendRejectedWindow } from '#lib/usage/resend.ts';
import { meteringSn, usageApiTime } from '#lib/usage/windows.ts';
import { auditRecords, fakeAuditLog, fakeUsageApi, fakeUsageLedger, memoryTable, recordingLog } from '../fakes/index.ts';

/**
 * The hourly usage push (lib/usage/push.ts) over the in-memory ledger and a fake usage API: closed windows sealed
 * and sent in batches, each marketplace answer moving them (accepted, duplicate, refused, rate-limited), windows
 * too old never sent, every request audited.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-11-20T08:30:00.000Z');
const hourStart = (hoursAgo: number) => new Date(NOW - (NOW % HOUR) - hoursAgo * HOUR).toISOString();
const plusHour = (iso: string) => new Date(Date.parse(iso) + HOUR).toISOString();

function usagePush(settings = { batchSize: 100, maxWindows: 10_000 }) {
  const table = memoryTable();
  const ledger = fakeUsageLedger(table);
  const api = fakeUsageApi();
  const logged = recordingLog();
  const deps: PushDeps = { ledger, pushUsage: api.pushUsage, audit: fakeAuditLog(table), now: () => NOW, log: logged.log };
  /** A run at `now`, with the deps it was given otherwise. */
  const push = (now = NOW, overrides: Partial<PushDeps> = {}): Promise<PushSummary> =>
    pushUsage({ ...deps, now: () => now, ...overrides }, settings);
  /** `units` (of 0.0001) used in the hour `hoursAgo` hours back. */
  const used = async (instanceId: string, hoursAgo: number, units: bigint) => {
    const beginTime = hourStart(hoursAgo);
    expect(
      await ledger.add(
        { instanceId, beginTime, endTime: plusHour(beginTime), units, reports: 1, clientRefs: [] },
        new Date(NOW).toISOString(),
      ),
    ).toEqual({ ok: true });
  };
  const windowsOf = (instanceId: string) =>
    ledger.windows(instanceId, new Date(NOW - 22 * DAY).toISOString(), new Date(NOW + 3 * DAY).toISOString(), 1000);
  return { table, ledger, api, logged, push, used, windowsOf, audits: () => auditRecords(table) };
}

describe('sealing and sending', () => {
  it('seals the closed windows and sends them in batches, each once, leaving the open one', async () => {
    // Prepare
    const world = usagePush({ batchSize: 4, maxWindows: 100 });
    for (const id of ['inst-a', 'inst-b']) for (const hoursAgo of [1, 2, 3]) await world.used(id, hoursAgo, 22_500n);
    await world.used('inst-a', 0, 90_000n);

    // Act
    const summary = await world.push();
    const second = await world.push();

    // Assess
    expect(summary).toEqual({ due: 6, sealed: 6, requests: 2, accepted: 6, duplicates: 0, rejected: 0, retrying: 0, waiting: 0 });
    expect(world.api.requests.map((r) => r.length)).toEqual([4, 2]);
    expect(world.api.held()).toHaveLength(6);
    expect(world.api.requests[0]![0]).toEqual({
      instance_id: 'inst-a',
      record_time: usageApiTime(NOW),
      begin_time: usageApiTime(Date.parse(hourStart(3))),
      end_time: usageApiTime(Date.parse(hourStart(2))),
      usage_value: '2.25',
      metering_sn: meteringSn('inst-a', hourStart(3), hourStart(2), 1),
    });
    expect((await world.windowsOf('inst-a')).map((w) => [w.beginTime, w.state, w.pushedUnits])).toEqual([
      [hourStart(3), 'ACCEPTED', 22_500n],
      [hourStart(2), 'ACCEPTED', 22_500n],
      [hourStart(1), 'ACCEPTED', 22_500n],
      [hourStart(0), 'OPEN', undefined],
    ]);
    expect(second).toMatchObject({ due: 0, requests: 0 });
  });

  it('audits every request: its body hash and size, the records and the answer', async () => {
    // Prepare
    const world = usagePush({ batchSize: 1, maxWindows: 100 });
    await world.used('inst-a', 2, 10_000n);
    await world.used('inst-a', 1, 10_000n);
    world.api.refuseNext({ retry: true, code: 'MKT.0250', reason: 'rate limited', httpStatus: 406 });

    // Act
    await world.push();
    await world.push(NOW + HOUR);

    // Assess
    expect(world.api.requests).toHaveLength(3);
    const audits = world.audits();
    expect(audits.map((a) => [a.channel, a.resultCode, a.records, a.reason])).toEqual([
      ['usagePush', 'MKT.0250', 1, 'rate limited'],
      ['usagePush', 'MKT.0000', 1, undefined],
      ['usagePush', 'MKT.0000', 1, undefined],
    ]);
    for (const a of audits) expect(a).toMatchObject({ bodySha256: expect.stringMatching(/^[0-9a-f]{64}$/), bodyBytes: expect.any(Number) });
  });
});

describe('the marketplace answers', () => {
  it('counts a "duplicate" answer as accepted', async () => {
    // Prepare
    const world = usagePush();
    await world.used('inst-a', 2, 40_000n);
    const sn = meteringSn('inst-a', hourStart(2), hourStart(1), 1);
    world.api.hold({ instance_id: 'inst-a', record_time: '', begin_time: '', end_time: '', usage_value: '4', metering_sn: sn });

    // Act
    const summary = await world.push();

    // Assess
    expect(summary).toMatchObject({ requests: 1, accepted: 1, duplicates: 1 });
    expect(await world.windowsOf('inst-a')).toMatchObject([
      { state: 'ACCEPTED', duplicate: true, meteringSn: sn, acceptedAt: new Date(NOW).toISOString() },
    ]);
  });

  it('backs off on a rate limit, keeping the metering_sn, and leaves the batches not sent in their place', async () => {
    // Prepare
    const world = usagePush({ batchSize: 2, maxWindows: 100 });
    for (const hoursAgo of [1, 2, 3]) await world.used('inst-a', hoursAgo, 10_000n);
    world.api.refuseNext({ retry: true, code: 'MKT.0250', reason: 'rate limited', httpStatus: 406 });

    // Act
    const limited = await world.push();
    const inBackoff = await world.push(NOW + 10 * 60_000);
    const later = await world.push(NOW + HOUR);

    // Assess
    expect(limited).toMatchObject({ sealed: 3, requests: 1, accepted: 0, retrying: 2, stoppedBy: 'MKT.0250' });
    expect(inBackoff).toMatchObject({ waiting: 2, requests: 1, accepted: 1 });
    expect(later).toMatchObject({ requests: 1, accepted: 2, retrying: 0 });
    expect(
      world.api
        .held()
        .map((r) => r.metering_sn)
        .sort(),
    ).toEqual(
      world.api.requests[0]!.concat(world.api.requests[1]!)
        .map((r) => r.metering_sn)
        .sort(),
    );
    expect((await world.windowsOf('inst-a')).map((w) => [w.state, w.attempts, w.lastError, w.nextAttemptAt])).toEqual([
      ['ACCEPTED', 1, undefined, undefined],
      ['ACCEPTED', 1, undefined, undefined],
      ['ACCEPTED', 0, undefined, undefined],
    ]);
  });

  it('records the backoff on the windows it stopped at', async () => {
    // Prepare
    const world = usagePush();
    await world.used('inst-a', 2, 10_000n);
    world.api.refuseNext({ retry: true, code: 'MKT.0250', reason: 'rate limited', httpStatus: 406 });

    // Act
    await world.push();

    // Assess
    expect(await world.windowsOf('inst-a')).toMatchObject([
      { state: 'PUSHING', attempts: 1, lastError: 'MKT.0250: rate limited', nextAttemptAt: new Date(NOW + 55 * 60_000).toISOString() },
    ]);
    expect(world.logged.messages('warn')).toEqual(['usage push will be retried']);
  });

  it('keeps the records waiting when the marketplace refuses the credentials', async () => {
    // Prepare
    const world = usagePush();
    await world.used('inst-a', 2, 10_000n);
    world.api.refuseNext({ retry: false, code: 'MKT.0154', reason: 'illegal token', httpStatus: 401 });

    // Act
    const refused = await world.push();
    const fixed = await world.push(NOW + HOUR);

    // Assess
    expect(refused).toMatchObject({ requests: 1, rejected: 0, retrying: 1, stoppedBy: 'MKT.0154' });
    expect(fixed).toMatchObject({ requests: 1, accepted: 1 });
    expect(await world.windowsOf('inst-a')).toMatchObject([{ state: 'ACCEPTED', attempts: 1 }]);
  });

  it('isolates a record the marketplace refuses, rejecting it with the reason and sending the rest', async () => {
    // Prepare
    const world = usagePush();
    for (const hoursAgo of [2, 3, 4]) await world.used('inst-a', hoursAgo, 10_000n);
    world.api.refuseNext({ retry: false, code: 'MKT.9002', reason: 'Invalid usage entities.', extraInfo: 'record 1', httpStatus: 500 }, 2);

    // Act
    const summary = await world.push();

    // Assess
    expect(summary).toMatchObject({ requests: 4, accepted: 2, rejected: 1 });
    expect(world.api.requests.map((r) => r.length)).toEqual([3, 1, 1, 1]);
    const windows = await world.windowsOf('inst-a');
    expect(windows.map((w) => w.state)).toEqual(['REJECTED', 'ACCEPTED', 'ACCEPTED']);
    expect(windows[0]!.rejection).toEqual({ code: 'MKT.9002', message: 'Invalid usage entities. record 1' });
  });

  it('sends the same metering_sn again after a crash between sending and recording', async () => {
    // Prepare
    const world = usagePush({ batchSize: 2, maxWindows: 100 });
    for (const hoursAgo of [1, 2, 3]) await world.used('inst-a', hoursAgo, 30_000n);
    const crashing: Partial<UsageLedger> = {
      accept: async () => {
        throw new Error('process killed');
      },
    };

    // Act
    const crashed = world.push(NOW, { ledger: { ...world.ledger, ...crashing } });
    await expect(crashed).rejects.toThrow('process killed');
    const rerun = await world.push();

    // Assess
    expect(rerun).toMatchObject({ sealed: 0, requests: 2, accepted: 3, duplicates: 2 });
    expect(world.api.requests.map((r) => r.map((x) => x.metering_sn))).toEqual([
      world.api.requests[0]!.map((x) => x.metering_sn),
      world.api.requests[0]!.map((x) => x.metering_sn),
      world.api.requests[2]!.map((x) => x.metering_sn),
    ]);
    expect(world.api.held()).toHaveLength(3);
    expect((await world.windowsOf('inst-a')).every((w) => w.state === 'ACCEPTED')).toBe(true);
  });
});

describe('sending a refused window again', () => {
  it('re-opens only a REJECTED window, under the next revision, and the next push sends a new record', async () => {
    // Prepare
    const world = usagePush();
    for (const hoursAgo of [2, 3]) await world.used('inst-a', hoursAgo, 10_000n);
    world.api.refuseNext({ retry: false, code: 'MKT.9002', reason: 'Invalid usage entities.', httpStatus: 500 }, 2);
    await world.push();
    const [refused, accepted] = await world.windowsOf('inst-a');
    const deps = { ledger: world.ledger, now: () => NOW };

    // Act
    const notRefused = await resendRejectedWindow(accepted!, deps);
    const unknown = await resendRejectedWindow({ instanceId: 'inst-z', beginTime: hourStart(2) }, deps);
    const result = await resendRejectedWindow(refused!, deps);
    const again = await resendRejectedWindow(refused!, deps);
    const summary = await world.push();

    // Assess
    expect([notRefused, unknown, again].map((r) => (r.ok ? 'ok' : r.code))).toEqual(['conflict', 'not_found', 'conflict']);
    expect(result).toMatchObject({
      ok: true,
      window: { state: 'OPEN', revision: 2, attempts: 0, previousRejection: { code: 'MKT.9002', message: 'Invalid usage entities.' } },
    });
    expect(summary).toMatchObject({ sealed: 1, accepted: 1, rejected: 0 });
    expect(world.api.requests.at(-1)!.map((r) => r.metering_sn)).toEqual([meteringSn('inst-a', hourStart(3), hourStart(2), 2)]);
    expect((await world.windowsOf('inst-a')).map((w) => [w.state, w.revision])).toEqual([
      ['ACCEPTED', 2],
      ['ACCEPTED', 1],
    ]);
  });

  it('refuses a window begun more than 21 days ago, changing nothing', async () => {
    // Prepare
    const world = usagePush();
    await world.used('inst-a', 21 * 24 + 2, 10_000n);
    await world.push();
    const [tooOld] = await world.windowsOf('inst-a');

    // Act
    const result = await resendRejectedWindow(tooOld!, { ledger: world.ledger, now: () => NOW });

    // Assess
    expect(result).toMatchObject({ ok: false, code: 'unprocessable' });
    expect(await world.windowsOf('inst-a')).toEqual([tooOld]);
  });
});

describe('windows too old', () => {
  it('rejects without sending a window older than 21 days at push time', async () => {
    // Prepare
    const world = usagePush();
    await world.used('inst-a', 20 * 24, 10_000n);

    // Act
    const summary = await world.push(NOW + 2 * DAY);

    // Assess
    expect(summary).toMatchObject({ due: 1, sealed: 1, rejected: 1, requests: 0 });
    expect(await world.windowsOf('inst-a')).toMatchObject([
      { state: 'REJECTED', rejection: { code: 'MKT.9004', message: 'begin time older than 21 days: not sent' } },
    ]);
    expect(world.api.requests).toEqual([]);
    expect(world.audits()).toEqual([]);
    expect(world.logged.messages('warn')).toEqual(['usage window too old to push']);
  });
});

describe('refused-usage metric', () => {
  /** A metrics port that keeps what it was told. */
  const countingMetrics = () => {
    const counted = { refused: 0 };
    return { counted, metrics: { recordRefused: () => void counted.refused++ } };
  };

  it('counts each record the marketplace refuses, once, and nothing it accepts, delays or refuses for the credentials', async () => {
    // Prepare
    const world = usagePush();
    for (const hoursAgo of [2, 3, 4]) await world.used('inst-a', hoursAgo, 10_000n);
    await world.used('inst-b', 2, 10_000n);
    world.api.refuseNext({ retry: false, code: 'MKT.9002', reason: 'Invalid usage entities.', httpStatus: 500 }, 2);
    const { counted, metrics } = countingMetrics();

    // Act
    const summary = await world.push(NOW, { metrics });
    const rerun = await world.push(NOW + HOUR, { metrics });
    world.api.refuseNext({ retry: true, code: 'MKT.0250', reason: 'rate limited', httpStatus: 406 });
    await world.used('inst-b', 1, 10_000n);
    const rateLimited = await world.push(NOW + HOUR, { metrics });
    world.api.refuseNext({ retry: false, code: 'MKT.0154', reason: 'illegal token', httpStatus: 401 });
    const badCredentials = await world.push(NOW + 3 * HOUR, { metrics });

    // Assess
    expect(summary).toMatchObject({ rejected: 1, accepted: 3 });
    expect(rerun).toMatchObject({ requests: 0 });
    expect(rateLimited).toMatchObject({ retrying: 1, rejected: 0 });
    expect(badCredentials).toMatchObject({ retrying: 1, rejected: 0 });
    expect(counted.refused).toBe(1);
  });

  it('counts a window too old to send as refused', async () => {
    // Prepare
    const world = usagePush();
    await world.used('inst-a', 20 * 24, 10_000n);
    const { counted, metrics } = countingMetrics();

    // Act
    const summary = await world.push(NOW + 2 * DAY, { metrics });

    // Assess
    expect(summary).toMatchObject({ rejected: 1, requests: 0 });
    expect(counted.refused).toBe(1);
  });
});
