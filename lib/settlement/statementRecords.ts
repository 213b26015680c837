import type { SellerActor } from '#lib/audit/records.ts';
import type { CurrencyTotals, Period } from './model.ts';

/**
 * What settlement keeps of each month (docs/data-model.md): the statement's header (status, latest version, the run
 * under way), one record per version (where its files are, their SHA-256, totals and the diff's counts), one per
 * settlement run and a marker per finished segment of a run.
 */

export type StatementStatus = 'DRAFT' | 'CLOSED';
export const RUN_STATUSES = ['RUNNING', 'DONE', 'UNCHANGED', 'FAILED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/**
 * What started a run: the monthly schedule, or who asked for it (the seller API key, or an operator). Runs recorded
 * before runs named their key say `seller`.
 */
export type RunTrigger = 'schedule' | 'seller' | SellerActor;

export interface StatementHeader {
  period: Period;
  status: StatementStatus;
  /** 0 until the first run finishes. */
  latestVersion: number;
  /** SHA-256 (hex) of the latest version's CSV. */
  sha256?: string;
  lineCount: number;
  totals: Record<string, CurrencyTotals>;
  /** Lines withheld because of a configuration problem (NO_FEE_SHARE, NO_PRICE, …), in the latest version. */
  problems: number;
  /** Start of the latest run that produced or confirmed the latest version: inputs recorded since may be missing. */
  runStartedAt?: string;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
  /** The run under way, if any (at most one per month). */
  activeRun?: { runId: string; startedAt: string };
  /** How the last finished run ended. */
  lastRun?: { runId: string; status: RunStatus; finishedAt: string };
}

export interface DiffCounts {
  /** The version compared with. */
  against: number;
  added: number;
  removed: number;
  changed: number;
}

export interface StatementVersion {
  period: Period;
  version: number;
  csvKey: string;
  jsonKey: string;
  /** The lines as JSON Lines, sorted by lineId: what diffs and reconciliation read. */
  linesKey: string;
  /** Changes against the previous version (absent for v1). */
  diffKey?: string;
  sha256Csv: string;
  sha256Json: string;
  csvBytes: number;
  jsonBytes: number;
  lineCount: number;
  totals: Record<string, CurrencyTotals>;
  problems: number;
  diff?: DiffCounts;
  runId: string;
  runStartedAt: string;
  createdAt: string;
}

export interface SettlementRun {
  runId: string;
  period: Period;
  status: RunStatus;
  /** How many segments the run was split into, and how many have finished. */
  segments: number;
  segmentsDone: number;
  trigger: RunTrigger;
  startedAt: string;
  finishedAt?: string;
  /** DONE: the version written; UNCHANGED: the version confirmed. */
  version?: number;
  /** FAILED: why. */
  error?: string;
}

/** A finished segment: where its sorted parts are. */
export interface SegmentMarker {
  segment: number;
  linesKey: string;
  problemsKey: string;
  lines: number;
  problems: number;
}
