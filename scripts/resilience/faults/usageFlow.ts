/** The usage ingest flow (POST /seller/usage through the seller API router), faulted and resent. */
import { isDeepStrictEqual } from 'node:util';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Instance } from '#lib/instances/model.ts';
import { createInstance } from '#lib/instances/stateMachine.ts';
import { eventFor } from '#lib/outbox/events.ts';
import { handleSellerRequest } from '#lib/seller-api/router.ts';
import { usageRoutes } from '#lib/seller-api/allRoutes.ts';
import { errorText } from '#lib/shared/errors.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { keys } from '#lib/store/keys.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { parseQuantity } from '#lib/usage/decimal.ts';
import type { MeteringSettings } from '#lib/usage/metering.ts';
import { queryPartition } from '../tables.ts';
import { type FaultContext, HOUR_MS, nextTag } from './faultContext.ts';
import { type Flow, silentLog } from './outcomes.ts';

const USAGE_PRODUCT = 'FAULTS-METERED';
const SELLER_SECRET = `kgs_${'f'.repeat(43)}`;
const METERING: MeteringSettings = {
  products: new Map([[USAGE_PRODUCT, 'hourly']]),
  chargingModes: new Set(),
  packageChargingModes: new Set(),
};

interface UsageRecord {
  instanceId: string;
  beginTime: string;
  endTime: string;
  value: string;
  clientRef: string;
}

/** 2 instances × 2 hourly windows × 2 reports, each with a clientRef: four window transactions. */
function usageRecords(ctx: FaultContext, tag: string): UsageRecord[] {
  const records: UsageRecord[] = [];
  for (const i of [0, 1]) {
    for (const [h, beginTime] of ctx.usageHours.entries()) {
      for (const j of [0, 1]) {
        const endTime = new Date(Date.parse(beginTime) + HOUR_MS).toISOString();
        records.push({ instanceId: `${tag}-m${i}`, beginTime, endTime, value: `${i + 1}.${h}${j}25`, clientRef: `ref-${h}-${j}` });
      }
    }
  }
  return records;
}

/** A metered ACTIVE instance, written through the store (newInstance carries no productId). */
async function meteredInstance(ctx: FaultContext, instanceId: string): Promise<void> {
  const at = new Date().toISOString();
  const { instance, entry } = createInstance(
    { instanceId, orderId: `${instanceId}-o`, orderLineId: `${instanceId}-o-1`, businessId: instanceId, test: false, state: 'ACTIVE' },
    at,
  );
  const metered: Instance = { ...instance, productId: USAGE_PRODUCT };
  const store = instanceStore(ctx.client, ctx.tables);
  const writes = store.createInstance(
    metered,
    entry,
    eventFor(metered, entry, 'instance.created'),
    Math.floor(Date.now() / 1000),
    undefined,
  );
  const result = await store.commit(writes);
  if (!result.ok) throw new Error(`seeding ${instanceId}: ${JSON.stringify(result)}`);
}

interface UsageAnswer {
  status: number;
  json: Record<string, unknown>;
  /** Per record: accepted, duplicate, rejected, retry; empty unless HTTP 200. */
  statuses: string[];
  errors: string[];
  threw?: string;
}

async function postUsage(ctx: FaultContext, records: UsageRecord[], correlationId: string): Promise<UsageAnswer> {
  const errors: string[] = [];
  const log = silentLog(errors);
  const instances = instanceStore(ctx.client, ctx.tables);
  try {
    const response = await handleSellerRequest(
      {
        method: 'POST',
        path: '/seller/usage',
        headers: { authorization: `Bearer ${SELLER_SECRET}`, 'content-type': 'application/json' },
        query: {},
        body: JSON.stringify({ records }),
        correlationId,
      },
      {
        routes: usageRoutes,
        // The key check is not part of the flow: a stand-in accepts the run's key.
        authenticate: async () => ({
          ok: true,
          key: { keyId: 'faults', name: 'faults', scopes: ['usage:write'], createdAt: new Date(0).toISOString() },
        }),
        deps: {
          usage: {
            instances: (ids) => instances.getInstances(ids),
            ledger: usageStore(ctx.client, ctx.tables.main),
            settings: METERING,
            now: Date.now,
            log,
          },
        },
        now: Date.now,
        maxBodyBytes: 1_048_576,
        // The audit record is not part of the flow under faults: the run's records are kept nowhere.
        actions: { append: async () => {} },
        log,
      },
    );
    const json = JSON.parse(response.body) as Record<string, unknown>;
    const results = Array.isArray(json.results) ? (json.results as { status?: unknown }[]) : [];
    return { status: response.status, json, statuses: results.map((r) => String(r.status)), errors };
  } catch (error) {
    return { status: 0, json: {}, statuses: [], errors, threw: errorText(error) };
  }
}

interface LedgerState {
  /** Per instance (by position): running total, windows, claimed clientRefs with their window, corrections. */
  instances: {
    total: string | undefined;
    windows: { beginTime: string; state: unknown; units: string; reports: unknown; lateUnits: string | undefined }[];
    refs: { clientRef: string; windowBegin: unknown }[];
    corrections: number;
  }[];
}

async function ledgerState(ctx: FaultContext, records: UsageRecord[]): Promise<LedgerState> {
  const instanceIds = [...new Set(records.map((r) => r.instanceId))];
  const out: LedgerState = { instances: [] };
  for (const instanceId of instanceIds) {
    const items = await queryPartition(ctx.inspect, ctx.tables.main, keys.usageTotal(instanceId).pk);
    const total = items.find((i) => i.sk === '#TOTAL');
    const windows = items
      .filter((i) => String(i.sk).startsWith('WINDOW#'))
      .map((w) => ({
        beginTime: String(w.beginTime),
        state: w.usageState,
        units: String(w.units),
        reports: w.reports,
        lateUnits: w.lateUnits === undefined ? undefined : String(w.lateUnits),
      }));
    const refs: { clientRef: string; windowBegin: unknown }[] = [];
    for (const clientRef of [...new Set(records.filter((r) => r.instanceId === instanceId).map((r) => r.clientRef))].sort()) {
      const got = await ctx.inspect.send('GetItem', {
        TableName: ctx.tables.main,
        Key: marshall(keys.usageRef(instanceId, clientRef)),
        ConsistentRead: true,
      });
      if (got.Item) refs.push({ clientRef, windowBegin: unmarshall(got.Item).windowBegin });
    }
    out.instances.push({
      total: total === undefined ? undefined : String(total.units),
      windows,
      refs,
      corrections: items.filter((i) => String(i.sk).startsWith('LATE#')).length,
    });
  }
  return out;
}

/** The ledger agrees with the claimed clientRefs: whole window transactions, sums, counts and totals. */
function ledgerProblems(state: LedgerState, records: UsageRecord[]): string[] {
  const problems: string[] = [];
  const instanceIds = [...new Set(records.map((r) => r.instanceId))];
  state.instances.forEach((inst, n) => {
    const mine = records.filter((r) => r.instanceId === instanceIds[n]);
    const claimed = new Set(inst.refs.map((r) => r.clientRef));
    let sum = 0n;
    for (const beginTime of [...new Set(mine.map((r) => r.beginTime))]) {
      const group = mine.filter((r) => r.beginTime === beginTime);
      const inGroup = group.filter((r) => claimed.has(r.clientRef));
      if (inGroup.length !== 0 && inGroup.length !== group.length)
        problems.push(`instance ${n}, window ${beginTime}: ${inGroup.length} of ${group.length} clientRefs claimed`);
      const expected = inGroup.reduce((s, r) => s + (parseQuantity(r.value) ?? 0n), 0n);
      const window = inst.windows.find((w) => w.beginTime === beginTime);
      const units = window ? BigInt(window.units) : 0n;
      if (units !== expected || (window ? Number(window.reports) : 0) !== inGroup.length) {
        problems.push(
          `instance ${n}, window ${beginTime}: ${units} units in ${String(window?.reports ?? 0)} reports, the claimed clientRefs make ${expected} in ${inGroup.length}`,
        );
      }
      sum += units;
    }
    if (BigInt(inst.total ?? '0') !== sum)
      problems.push(`instance ${n}: running total ${inst.total ?? '(none)'} ≠ sum of its windows ${sum}`);
  });
  return problems;
}

const claimedRefs = (state: LedgerState, records: UsageRecord[]) => {
  const instanceIds = [...new Set(records.map((r) => r.instanceId))];
  return new Set(state.instances.flatMap((inst, n) => inst.refs.map((r) => `${instanceIds[n]}\n${r.clientRef}`)));
};

const showUsage = (a: UsageAnswer) =>
  a.threw ? `threw ${a.threw}` : `HTTP ${a.status} ${a.statuses.join(',') || JSON.stringify(a.json).slice(0, 200)}`;

export interface UsageBaseline {
  answer: string;
  final: LedgerState;
}

export const usageFlow: Flow<UsageBaseline> = {
  name: 'usage',
  title: 'POST /seller/usage (8 reports)',

  async baseline(ctx) {
    const tag = nextTag(ctx);
    const records = usageRecords(ctx, tag);
    ctx.injector.reset();
    for (const id of new Set(records.map((r) => r.instanceId))) await meteredInstance(ctx, id);
    ctx.injector.reset();
    const sent = await postUsage(ctx, records, `${tag}-u1`);
    const commands = [...ctx.injector.sent];
    if (sent.status !== 200 || sent.statuses.some((s) => s !== 'accepted'))
      throw new Error(`usage: the fault-free request answered ${showUsage(sent)}`);
    const final = await ledgerState(ctx, records);
    const problems = ledgerProblems(final, records);
    if (problems.length > 0) throw new Error(`usage: the fault-free ledger is inconsistent: ${problems.join('; ')}`);
    return { answer: showUsage(sent), final, commands };
  },

  async faulted(ctx, baseline, k, kind) {
    const tag = nextTag(ctx);
    const records = usageRecords(ctx, tag);
    ctx.injector.reset();
    for (const id of new Set(records.map((r) => r.instanceId))) await meteredInstance(ctx, id);

    ctx.injector.arm(k, kind);
    const first = await postUsage(ctx, records, `${tag}-u1`);
    const struck = ctx.injector.struck;
    ctx.injector.disarm();
    const mid = await ledgerState(ctx, records);
    // The seller's product sends the same reports again, with the same clientRefs.
    const second = await postUsage(ctx, records, `${tag}-u2`);
    const final = await ledgerState(ctx, records);

    const problems: string[] = [];
    const crash = first.threw !== undefined || second.threw !== undefined;
    if (first.threw) problems.push(`the faulted request threw ${first.threw}`);
    if (second.threw) problems.push(`the resend threw ${second.threw}`);
    if (!struck) problems.push(`the fault did not strike: the request sent ${ctx.injector.sent.length} command(s)`);

    const midProblems = ledgerProblems(mid, records);
    const halfWritten = midProblems.length > 0;
    for (const p of midProblems) problems.push(`half-written: ${p}`);

    const claimed = claimedRefs(mid, records);
    const committed = claimed.size === records.length;
    let answeredCorrectly = !crash;
    if (first.status === 200) {
      first.statuses.forEach((status, i) => {
        const r = records[i]!;
        const recorded = claimed.has(`${r.instanceId}\n${r.clientRef}`);
        if (status === 'accepted' && !recorded) {
          answeredCorrectly = false;
          problems.push(`record ${i} answered accepted but it is not in the ledger`);
        }
        if (status !== 'accepted' && status !== 'retry') {
          answeredCorrectly = false;
          problems.push(`record ${i} answered ${status} on its first sending`);
        }
      });
    } else if (![429, 500].includes(first.status) || typeof (first.json.error as { code?: unknown } | undefined)?.code !== 'string') {
      answeredCorrectly = false;
      problems.push(`the faulted request answered ${showUsage(first)}, expected 200 per record, or a 429/500 JSON error`);
    }
    if (kind.absorbed && showUsage(first) !== baseline.answer) {
      answeredCorrectly = false;
      problems.push(`an absorbed fault (${kind.name}) was answered ${showUsage(first)}, the fault-free request ${baseline.answer}`);
    }
    if (!kind.absorbed && first.status === 200 && first.statuses.every((s) => s === 'accepted')) {
      answeredCorrectly = false;
      problems.push(`a ${kind.name} on ${struck?.command ?? '?'} left no trace in the answer`);
    }
    // The resend: every report accepted, or duplicate exactly when the faulted request recorded it.
    if (second.status !== 200) {
      answeredCorrectly = false;
      problems.push(`the resend answered ${showUsage(second)}`);
    } else {
      second.statuses.forEach((status, i) => {
        const r = records[i]!;
        const expected = claimed.has(`${r.instanceId}\n${r.clientRef}`) ? 'duplicate' : 'accepted';
        if (status !== expected) {
          answeredCorrectly = false;
          problems.push(`the resend answered record ${i} ${status}, expected ${expected}`);
        }
      });
    }
    const stateEqual = isDeepStrictEqual(final, baseline.final);
    if (!stateEqual) problems.push(`final ledger differs from the fault-free run: ${JSON.stringify(final).slice(0, 600)}`);
    if (problems.length > 0) for (const line of [...first.errors, ...second.errors].slice(0, 4)) problems.push(`  server log: ${line}`);

    const counts = first.statuses.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    return {
      flow: 'usage',
      k,
      command: struck?.command ?? ctx.injector.sent[k - 1] ?? '?',
      kind: kind.name,
      answeredCorrectly,
      stateEqual,
      halfWritten,
      crash,
      logMismatches: [],
      faultedAnswer: `${
        first.threw
          ? 'threw'
          : first.status === 200
            ? `200 ${Object.entries(counts)
                .sort()
                .map(([s, n]) => `${s}×${n}`)
                .join(' ')}`
            : `HTTP ${first.status}`
      }, ${claimed.size}/${records.length} in the ledger`,
      committed,
      leftToSweep: 0,
      problems,
    };
  },
};
