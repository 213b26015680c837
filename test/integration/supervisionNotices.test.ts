import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { parseConfig } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { notifier } from '#lib/notifications/notifier.ts';
import { safetySweep } from '#lib/instances/safetySweep.ts';
import { sweepDeps } from '#lib/instances/sweepDeps.ts';
import { notificationStore } from '#lib/store/notificationStore.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import { watchSupervision, type SupervisionDeadlines } from '#lib/supervision/deadlines.ts';
import { supervisionDeps } from '#lib/supervision/deps.ts';
import type { SupervisionAction, SupervisionActor, SupervisionHistoryEntry, SupervisionRecord } from '#lib/supervision/model.ts';
import { applySupervision, newSupervision } from '#lib/supervision/stateMachine.ts';
import { recordTransition } from '#lib/supervision/transitions.ts';
import { env } from '../helpers/produce.ts';

/**
 * Supervision's notices against DynamoDB Local: the safety sweep's watch finds the flows waiting for proofs or near
 * a deadline through the `due` index and tells each once; a rejection tells the seller to deliver again at once.
 * The watch runs at an hour of its own (2031) so that other tests' flows are out of its range.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2031-03-10T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const deadlines: SupervisionDeadlines = { proofDays: 5, decisionDays: 5, noticeHours: 48 };
const log = (): Log => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }) as unknown as Log;
const store = () => supervisionStore(dynamoClient(), { main: env('MAIN_TABLE') });
const notifications = () => notificationStore(dynamoClient(), env('MAIN_TABLE'));

type Step = (r: SupervisionRecord, at: string) => { next: SupervisionRecord; entry: SupervisionHistoryEntry };

/** A flow created `ago` ms before NOW, then moved by `then` (state machine actions at the same time). */
async function flow(ago: number, then: Step[] = []): Promise<SupervisionRecord> {
  const orderId = `CS-W-${randomUUID().slice(0, 8)}`;
  const at = iso(NOW - ago);
  const created = newSupervision(
    {
      orderId,
      orderLineId: `${orderId}-000001`,
      instanceId: `i-${orderId}`,
      productId: 'P-W',
      enablingCloud: false,
      requiredKinds: ['acceptance'],
    },
    at,
  );
  expect((await store().commit(store().createWrites(created.record, created.entry))).ok).toBe(true);
  let record = created.record;
  for (const step of then) {
    const { next, entry } = step(record, at);
    expect((await store().commit(store().transitionWrites(record.version, next, entry))).ok).toBe(true);
    record = next;
  }
  return record;
}

const step =
  (action: SupervisionAction, actor: SupervisionActor): Step =>
  (record, at) => {
    const result = applySupervision(record, action, at, actor);
    if (!result.ok || result.unchanged) throw new Error(`${action.type} did not change the flow`);
    return { next: result.next, entry: result.entry };
  };
const submitted = step({ type: 'proofSubmitted', proofIds: ['p1'] }, 'system');
const appealed = step({ type: 'openAppeal', reason: 'buyer idle', evidence: [] }, 'seller');

const idsFor = (record: SupervisionRecord) => ({
  awaiting: `supervision.awaitingProofs:${record.orderId}:${record.orderLineId}:${record.waiting?.since ?? ''}`,
  proofsDue: `supervision.deadline:${record.orderId}:${record.orderLineId}:proofs:${record.waiting?.since ?? ''}`,
  decisionDue: `supervision.deadline:${record.orderId}:${record.orderLineId}:decision:${record.waiting?.since ?? ''}`,
});

describe('the supervision watch of the safety sweep', () => {
  it('tells a new wait for proofs and each deadline within the window once, and nothing of an appealed or distant flow', async () => {
    const fresh = await flow(HOUR); // waits for proofs since an hour: due in 5 days minus an hour
    const nearProofs = await flow(4 * DAY); // due in a day: inside the 48 h window
    const passed = await flow(6 * DAY); // due a day ago: still told
    const distant = await flow(2 * DAY); // due in 3 days: not yet
    const nearDecision = await flow(4 * DAY, [submitted]); // proofs in 4 days ago: the buyer's decision due in a day
    const frozen = await flow(4 * DAY, [appealed]); // an appeal is open: the flow is frozen, no deadline runs

    const notify = notifier({ store: notifications(), channels: [], now: () => NOW, log: log() });
    const first = await watchSupervision({ store: store(), notify, deadlines, now: () => NOW, log: log() });
    expect(first).toEqual({ awaitingProofs: 1, nearDeadline: 3 });

    const got = async (id: string) => (await notifications().get(id))?.status;
    expect(await got(idsFor(fresh).awaiting)).toBe('sent');
    expect(await got(idsFor(fresh).proofsDue)).toBeUndefined();
    const near = await notifications().get(idsFor(nearProofs).proofsDue);
    expect(near).toMatchObject({
      type: 'supervision.deadline',
      target: { orderId: nearProofs.orderId, orderLineId: nearProofs.orderLineId, instanceId: nearProofs.instanceId },
      link: `/seller/supervision/${nearProofs.orderId}/${nearProofs.orderLineId}/proofs`,
    });
    expect(near?.summary).toContain(`the deadline is ${iso(NOW + DAY)}`);
    expect((await notifications().get(idsFor(passed).proofsDue))?.summary).toContain(`the deadline passed at ${iso(NOW - DAY)}`);
    expect(await got(idsFor(nearDecision).decisionDue)).toBe('sent');
    expect(await got(idsFor(distant).proofsDue)).toBeUndefined();
    expect(await got(idsFor(frozen).proofsDue)).toBeUndefined();
    expect(await got(idsFor(nearProofs).awaiting)).toBeUndefined(); // began 4 days ago: told when it began

    // The next hour finds the same flows and tells nothing again.
    expect(await watchSupervision({ store: store(), notify, deadlines, now: () => NOW + HOUR, log: log() })).toEqual({
      awaitingProofs: 0,
      nearDeadline: 0,
    });
  });

  it('runs in the hourly safety sweep with the deadlines of the configuration', async () => {
    const near = await flow(4 * DAY);
    const cfg = parseConfig({ ...process.env, SUPERVISION_PROOF_DAYS: '5', SUPERVISION_DEADLINE_NOTICE_HOURS: '48' });
    const deps = { ...sweepDeps(cfg, log()), now: () => NOW };
    const summary = await safetySweep(deps, { ...deps.safety, limit: 10 });
    expect(summary.supervision?.nearDeadline).toBeGreaterThanOrEqual(1);
    expect((await notifications().get(idsFor(near).proofsDue))?.status).toBe('sent');
  });
});

describe('a rejection', () => {
  it('tells the seller at once to deliver again, with the new round’s deadline', async () => {
    const record = await flow(0, [submitted]);
    const cfg = parseConfig({ ...process.env, SUPERVISION_PROOF_DAYS: '3' });
    const at = Date.now();
    const deps = { ...supervisionDeps(cfg, { log: log() }), now: () => at };
    const answer = await recordTransition(record.orderId, record.orderLineId, { action: 'reject', reason: 'incomplete' }, deps, {
      kind: 'key',
      keyId: 'k-1',
      name: 'qa',
    });
    expect(answer.supervision.waiting).toEqual({ for: 'proofs', since: iso(at) });
    const told = await notifications().get(`supervision.awaitingProofs:${record.orderId}:${record.orderLineId}:${iso(at)}`);
    expect(told).toMatchObject({ type: 'supervision.awaitingProofs', status: 'sent' });
    expect(told?.summary).toContain(`by ${iso(at + 3 * DAY)}`);
  });
});
