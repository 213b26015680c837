import { iso, sleep } from '#lib/shared/time.ts';
import { checkPeriod, InputsChangedError, NothingToCloseError, PeriodNotEndedError, RunInProgressError } from './errors.ts';
import { BILL_SHARDS, type Period } from './model.ts';
import { periodBounds } from './period.ts';
import type { SettlementDeps } from './ports.ts';
import { RUN_STALE_MS } from './start.ts';
import type { StatementHeader } from './statementRecords.ts';

export interface ClosedStatement {
  header: StatementHeader;
  /** The month was already closed: nothing changed. */
  alreadyClosed: boolean;
}

/** How long the `bill` index may lag behind a committed write (DynamoDB's global indexes are eventually consistent). */
export const INDEX_LAG_MS = 1_000;

/** Whether any shard holds a change, recorded since `since`, that can touch a month ending at `end`. */
async function inputsChanged(deps: SettlementDeps, since: string, end: string): Promise<boolean> {
  const checks: Promise<boolean>[] = [];
  for (const kind of ['LINE', 'USAGE'] as const) {
    for (let shard = 0; shard < BILL_SHARDS; shard++) checks.push(deps.billing.changedSince(kind, shard, since, end));
  }
  return (await Promise.all(checks)).some(Boolean);
}

/**
 * Closes the month's statement at its latest version: from then on it is never rewritten, and changes belonging to
 * it become adjustments in the next open month. Refused (409) when there is no version yet (NothingToCloseError),
 * a run is under way (RunInProgressError), the month has not ended (PeriodNotEndedError), or settlement's inputs
 * changed since the latest version's run started (InputsChangedError: run again). Closing a closed month changes
 * nothing.
 */
export async function closePeriod(deps: SettlementDeps, period: Period): Promise<ClosedStatement> {
  checkPeriod(period);
  const header = await deps.statements.getHeader(period);
  if (!header || header.latestVersion === 0 || !header.runStartedAt) throw new NothingToCloseError(period);
  if (header.status === 'CLOSED') return { header, alreadyClosed: true };
  const nowMs = deps.now();
  const staleBefore = iso(nowMs - RUN_STALE_MS);
  if (header.activeRun && header.activeRun.startedAt >= staleBefore)
    throw new RunInProgressError(period, header.activeRun.runId, header.activeRun.startedAt);
  const { end } = periodBounds(period, deps.settings.timeZone);
  if (nowMs < Date.parse(end)) throw new PeriodNotEndedError(period, end);

  const since = header.runStartedAt;
  if (await inputsChanged(deps, since, end)) throw new InputsChangedError(header.latestVersion);

  const at = iso(deps.now());
  if (await deps.statements.close(period, header.latestVersion, since, at, staleBefore)) {
    // A fact recorded between the check above and the close is not in the statement: look again once the index has
    // caught up. From the close on, recorders see the month closed and make their changes adjustments.
    await sleep(deps.indexLagMs ?? INDEX_LAG_MS);
    if (await inputsChanged(deps, since, end)) {
      await deps.statements.reopen(period, at, iso(deps.now()));
      throw new InputsChangedError(header.latestVersion, `inputs changed while closing v${header.latestVersion}: run again`);
    }
    deps.log.info('statement closed', { period, version: header.latestVersion });
    const { activeRun: _stale, ...rest } = header;
    return { header: { ...rest, status: 'CLOSED', closedAt: at, updatedAt: at }, alreadyClosed: false };
  }
  const now = await deps.statements.getHeader(period);
  if (now?.status === 'CLOSED') return { header: now, alreadyClosed: true };
  if (now?.activeRun) throw new RunInProgressError(period, now.activeRun.runId, now.activeRun.startedAt);
  throw new InputsChangedError(
    header.latestVersion,
    `the statement changed while closing (now v${now?.latestVersion ?? 0}): look at it and close again`,
  );
}
