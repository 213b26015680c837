import { config } from '#lib/config.ts';
import { log } from '#lib/log.ts';
import { settlementDeps } from '#lib/settlement/deps.ts';
import { settlementDynamoClient } from '#lib/aws/clients.ts';
import type { Period } from '#lib/settlement/model.ts';
import { periodOf, previousPeriod } from '#lib/settlement/period.ts';
import { PeriodClosedError, RunInProgressError } from '#lib/settlement/errors.ts';
import { startRun } from '#lib/settlement/start.ts';
import { lazy } from '#lib/shared/lazy.ts';
import { iso } from '#lib/shared/time.ts';

/**
 * The monthly schedule: starts the settlement run of the previous month in SETTLEMENT_TIME_ZONE. serverless.yml
 * fires it at `cron(0 2 1 * ? *)` in that zone (EventBridge Scheduler), 02:00 on the 1st; SETTLEMENT_SCHEDULE
 * replaces the expression. A month already closed, or with a run under way, is left alone.
 */

/** The month to settle at `nowMs`: the one before the current month in the zone. */
export function periodToSettle(nowMs: number, timeZone: string): Period {
  return previousPeriod(periodOf(iso(nowMs), timeZone));
}

export type ScheduleResult =
  { started: true; period: Period; runId: string } | { started: false; period: Period; reason: 'closed' | 'running' };

const settlement = lazy(() => settlementDeps(config(), { dynamo: settlementDynamoClient(), log }));

export async function handler(): Promise<ScheduleResult> {
  const deps = settlement();
  const period = periodToSettle(deps.now(), deps.settings.timeZone);
  try {
    const run = await startRun(deps, period, 'schedule');
    return { started: true, period, runId: run.runId };
  } catch (error) {
    if (error instanceof PeriodClosedError) {
      log.info('scheduled settlement skipped: the month is closed', { period });
      return { started: false, period, reason: 'closed' };
    }
    if (error instanceof RunInProgressError) {
      log.warn('scheduled settlement skipped: a run is under way', { period, runId: error.runId });
      return { started: false, period, reason: 'running' };
    }
    throw error;
  }
}
