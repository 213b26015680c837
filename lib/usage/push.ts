import { createHash, randomUUID } from 'node:crypto';
import * as notices from '#lib/notifications/events.ts';
import type { Notify } from '#lib/notifications/notifier.ts';
import type { UsagePushOutcome, UsagePushRecord } from '#lib/koogallery/openApi/contract.ts';
import { usageBody } from '#lib/koogallery/usageSignature.ts';
import type { Log } from '#lib/log.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keepAnswerText } from '#lib/audit/outbound.ts';
import { keepBody } from '#lib/audit/redact.ts';
import type { UsageLedger } from './ports.ts';
import type { UsageWindow } from './ports.ts';
import { forEachConcurrently } from '#lib/shared/pool.ts';
import { formatQuantity } from './decimal.ts';
import { usageApiTime, MAX_AGE_MS, meteringSn } from './windows.ts';
import { iso } from '#lib/shared/time.ts';

/**
 * The hourly usage push (spec §8.2). Closed windows not pushed yet are sealed (OPEN → PUSHING, which fixes their
 * metering_sn and total) and sent in batches of at most 100; the marketplace's answer moves each to ACCEPTED
 * (a "duplicate" answer included) or REJECTED. Rate limits and marketplace or network trouble leave them PUSHING
 * with the same metering_sn, retried by a later run after a backoff; so does a crash between sending and
 * recording, and the re-sent record is one the marketplace already has, never a second one.
 */

/** What the push counts for the operator's alarms (lib/usage/metrics.ts writes it as CloudWatch metrics). */
export interface PushMetrics {
  /** A record the marketplace refused, or one too old to send: it will not be billed. */
  recordRefused(): void;
}

export interface PushDeps {
  ledger: UsageLedger;
  pushUsage: (records: UsagePushRecord[]) => Promise<UsagePushOutcome>;
  audit: (record: AuditRecord) => Promise<void>;
  now: () => number;
  log: Log;
  metrics?: PushMetrics;
  /** Tells the seller's people of refused usage (lib/notifications); nobody when absent. */
  notify?: Notify | undefined;
}

export interface PushSettings {
  /** Records per request: at most 100 (spec §8.2: the 100/1000 limits conflict; 100 is safe). */
  batchSize: number;
  /** Windows handled per run; the rest wait for the next one. */
  maxWindows: number;
}

export interface PushSummary {
  due: number;
  sealed: number;
  requests: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  retrying: number;
  /** PUSHING windows still inside their backoff. */
  waiting: number;
  /** Why the run stopped sending early (a rate limit or the marketplace failing), if it did. */
  stoppedBy?: string;
}

const PARALLEL_UPDATES = 16;
const BACKOFF_CAP_MINUTES = 12 * 60;
/** A little less than the wait, so the hourly run that falls due is not missed by seconds. */
const BACKOFF_SLACK_MINUTES = 5;

/** Minutes to wait after the n-th failed attempt (n ≥ 1): 55, 115, 235… capped at 12 h. */
export function backoffMinutes(attempt: number): number {
  return Math.min(60 * 2 ** (attempt - 1), BACKOFF_CAP_MINUTES) - BACKOFF_SLACK_MINUTES;
}

/** The marketplace refused who we are, not what we sent. */
export function isCredentialRefusal(code: string, httpStatus: number | undefined): boolean {
  return /^(?:MKT|CBC)\.015\d$/.test(code) || httpStatus === 401 || httpStatus === 403;
}

export function pushRecord(w: UsageWindow): UsagePushRecord {
  if (!w.meteringSn || !w.recordTime || w.pushedUnits === undefined) throw new Error(`window ${w.instanceId} ${w.beginTime} is not sealed`);
  return {
    instance_id: w.instanceId,
    record_time: w.recordTime,
    begin_time: usageApiTime(Date.parse(w.beginTime)),
    end_time: usageApiTime(Date.parse(w.endTime)),
    usage_value: formatQuantity(w.pushedUnits),
    metering_sn: w.meteringSn,
  };
}

export async function pushUsage(deps: PushDeps, settings: PushSettings): Promise<PushSummary> {
  const batchSize = Math.min(Math.max(1, settings.batchSize), 100);
  const nowMs = deps.now();
  const at = iso(nowMs);
  const summary: PushSummary = { due: 0, sealed: 0, requests: 0, accepted: 0, duplicates: 0, rejected: 0, retrying: 0, waiting: 0 };

  const due = await deps.ledger.getWindows(await deps.ledger.dueWindows(at, settings.maxWindows));
  summary.due = due.length;
  const ready: UsageWindow[] = [];
  await forEachConcurrently(due, PARALLEL_UPDATES, async (w) => {
    if (w.state === 'PUSHING') {
      if (w.nextAttemptAt !== undefined && w.nextAttemptAt > at) summary.waiting++;
      else ready.push(w);
      return;
    }
    if (w.state !== 'OPEN') return;
    const sealed = await deps.ledger.seal(w, {
      meteringSn: meteringSn(w.instanceId, w.beginTime, w.endTime, w.revision),
      recordTime: usageApiTime(nowMs),
      at,
    });
    if (sealed) {
      summary.sealed++;
      ready.push(sealed);
    }
  });
  ready.sort((a, b) => (a.beginTime < b.beginTime ? -1 : a.beginTime > b.beginTime ? 1 : a.instanceId < b.instanceId ? -1 : 1));

  // The marketplace refuses begin times older than 21 days (MKT.9004): such windows are not sent.
  const isTooOld = (w: UsageWindow) => Date.parse(w.beginTime) < nowMs - MAX_AGE_MS;
  const tooOld = ready.filter(isTooOld);
  await forEachConcurrently(tooOld, PARALLEL_UPDATES, async (w) => {
    if (await deps.ledger.reject(w, { code: 'MKT.9004', message: 'begin time older than 21 days: not sent' }, at)) {
      summary.rejected++;
      deps.metrics?.recordRefused();
    }
    deps.log.warn('usage window too old to push', { instanceId: w.instanceId, beginTime: w.beginTime, meteringSn: w.meteringSn });
  });
  const sendable = ready.filter((w) => !isTooOld(w));

  /** Sends one batch and records the verdict; false when the run should stop (the marketplace is not taking records). */
  async function send(batch: UsageWindow[]): Promise<boolean> {
    const records = batch.map(pushRecord);
    const body = usageBody(records);
    const started = Date.now();
    const outcome = await deps.pushUsage(records);
    summary.requests++;
    const httpStatus = outcome.answered?.httpStatus ?? (outcome.ok ? undefined : outcome.httpStatus);
    await deps.audit({
      at: iso(deps.now()),
      correlationId: randomUUID(),
      channel: 'usagePush',
      resultCode: outcome.code,
      latencyMs: Date.now() - started,
      bodySha256: createHash('sha256').update(body).digest('hex'),
      bodyBytes: Buffer.byteLength(body),
      records: records.length,
      ...(outcome.ok ? {} : { reason: outcome.reason }),
      ...(httpStatus !== undefined ? { httpStatus } : {}),
      request: keepBody({ records }),
      ...(outcome.answered?.text !== undefined ? { answer: keepAnswerText(outcome.answered.text) } : {}),
    });
    if (outcome.ok) {
      await forEachConcurrently(batch, PARALLEL_UPDATES, async (w) => {
        if (await deps.ledger.accept(w, { duplicate: outcome.duplicate, at })) {
          summary.accepted++;
          if (outcome.duplicate) summary.duplicates++;
        }
      });
      return true;
    }
    // A refused signature or permission (MKT.015x, 401/403) says nothing about the records: the AK/SK or the access
    // key is wrong (e.g. mid-rotation). The records wait, like on a rate limit, until the credentials are fixed.
    if (outcome.retry || isCredentialRefusal(outcome.code, outcome.httpStatus)) {
      await forEachConcurrently(batch, PARALLEL_UPDATES, async (w) => {
        const nextAttemptAt = iso(nowMs + backoffMinutes(w.attempts + 1) * 60_000);
        if (await deps.ledger.retryLater(w, { nextAttemptAt, lastError: `${outcome.code}: ${outcome.reason}`.slice(0, 300), at }))
          summary.retrying++;
      });
      summary.stoppedBy = outcome.code;
      deps.log.warn('usage push will be retried', { code: outcome.code, records: records.length, httpStatus: outcome.httpStatus });
      return false;
    }
    // A refusal of the whole batch: find the record(s) it is about by sending each alone.
    if (batch.length > 1) {
      for (const w of batch) if (!(await send([w]))) return false;
      return true;
    }
    const w = batch[0]!;
    const rejection = { code: outcome.code, message: [outcome.reason, outcome.extraInfo].filter(Boolean).join(' ').slice(0, 500) };
    if (await deps.ledger.reject(w, rejection, at)) {
      summary.rejected++;
      deps.metrics?.recordRefused();
      await deps.notify?.(
        notices.usageRefused({ instanceId: w.instanceId, beginTime: w.beginTime, code: rejection.code, message: rejection.message, at }),
      );
    }
    deps.log.warn('usage record rejected by the marketplace', {
      instanceId: w.instanceId,
      beginTime: w.beginTime,
      meteringSn: w.meteringSn,
      code: outcome.code,
    });
    return true;
  }

  for (let i = 0; i < sendable.length; i += batchSize) {
    if (!(await send(sendable.slice(i, i + batchSize)))) {
      // The rest keeps its place (sealed or PUSHING) for the next run, without counting as a failed attempt.
      break;
    }
  }
  deps.log.info('usage push run', { ...summary });
  return summary;
}
