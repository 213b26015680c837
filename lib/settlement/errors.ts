import { Refusal } from '#lib/shared/refusal.ts';
import type { Period } from './model.ts';
import { isPeriod } from './period.ts';

// Refusals the seller API answers with 422 (unprocessable) or 409 (conflict).

export type SettlementErrorCode = 'unprocessable' | 'conflict';

export class SettlementError extends Refusal {
  override name = 'SettlementError';
  constructor(code: SettlementErrorCode, message: string) {
    super(code, message);
  }
}

/** 422: not a month `YYYY-MM`. */
export class InvalidPeriodError extends SettlementError {
  override name = 'InvalidPeriodError';
  constructor(period: unknown) {
    super('unprocessable', `not a period (YYYY-MM): "${String(period).slice(0, 40)}"`);
  }
}

/** 422: the month has not started in the statement time zone. */
export class PeriodNotStartedError extends SettlementError {
  override name = 'PeriodNotStartedError';
  constructor(period: Period) {
    super('unprocessable', `${period} has not started yet`);
  }
}

/** 409: the month's statement is closed: it is never rewritten (late changes go to the next open month). */
export class PeriodClosedError extends SettlementError {
  override name = 'PeriodClosedError';
  constructor(period: Period) {
    super('conflict', `the statement of ${period} is closed`);
  }
}

/** 409: a run of the month is under way. */
export class RunInProgressError extends SettlementError {
  override name = 'RunInProgressError';
  constructor(
    period: Period,
    readonly runId: string,
    readonly startedAt: string,
  ) {
    super('conflict', `a settlement run of ${period} is under way (${runId}, started ${startedAt})`);
  }
}

/** 409: closing needs a statement (a finished run). */
export class NothingToCloseError extends SettlementError {
  override name = 'NothingToCloseError';
  constructor(period: Period) {
    super('conflict', `${period} has no statement yet: run it first`);
  }
}

/** 409: a month can be closed only once it has ended. */
export class PeriodNotEndedError extends SettlementError {
  override name = 'PeriodNotEndedError';
  constructor(period: Period, end: string) {
    super('conflict', `${period} has not ended yet (it ends at ${end})`);
  }
}

/** 409: settlement's inputs changed since the latest version's run started (or while closing). */
export class InputsChangedError extends SettlementError {
  override name = 'InputsChangedError';
  constructor(
    readonly version: number,
    detail = `inputs changed since v${version}: run again`,
  ) {
    super('conflict', detail);
  }
}

/** A message naming a run that does not exist: it can never succeed. */
export class UnknownRunError extends Error {
  override name = 'UnknownRunError';
}

/** Refuses anything but a month `YYYY-MM` (InvalidPeriodError). */
export function checkPeriod(period: unknown): asserts period is Period {
  if (!isPeriod(period)) throw new InvalidPeriodError(period);
}
