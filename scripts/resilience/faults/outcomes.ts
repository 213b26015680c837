/** A flow, the outcome of one fault along it, and the counts of a flow's outcomes. */
import type { Log } from '#lib/log.ts';
import type { FaultContext } from './faultContext.ts';
import type { FaultKind } from './faultKinds.ts';

export interface CaseOutcome {
  flow: string;
  k: number;
  command: string;
  kind: string;
  answeredCorrectly: boolean;
  stateEqual: boolean;
  halfWritten: boolean;
  crash: boolean;
  /** Message-log records whose result code differs from the answer given (reported, not a failure here). */
  logMismatches: string[];
  /** The faulted call's answer (a result code, or an HTTP status and per-record statuses). */
  faultedAnswer: string;
  /** Right after the faulted call, its whole change is in the table (usage: every report is in the ledger). */
  committed: boolean;
  /** Outbox events neither call published at once: the outbox sweep sends them. */
  leftToSweep: number;
  problems: string[];
}

export interface FlowReport {
  flow: string;
  title: string;
  /** The DynamoDB commands of the fault-free call, in order. */
  commands: string[];
  cases: CaseOutcome[];
}

export const failed = (c: CaseOutcome) => c.problems.length > 0;

export interface Counts {
  tried: number;
  answeredCorrectly: number;
  stateEqual: number;
  halfWritten: number;
  crashes: number;
  logMismatches: number;
  failed: number;
}

export function countsOf(cases: readonly CaseOutcome[]): Counts {
  return {
    tried: cases.length,
    answeredCorrectly: cases.filter((c) => c.answeredCorrectly).length,
    stateEqual: cases.filter((c) => c.stateEqual).length,
    halfWritten: cases.filter((c) => c.halfWritten).length,
    crashes: cases.filter((c) => c.crash).length,
    logMismatches: cases.filter((c) => c.logMismatches.length > 0).length,
    failed: cases.filter(failed).length,
  };
}

/** A flow: a fault-free baseline, then one case per (k, fault kind). */
export interface Flow<B> {
  name: string;
  title: string;
  baseline(ctx: FaultContext): Promise<B & { commands: string[] }>;
  faulted(ctx: FaultContext, baseline: B, k: number, kind: FaultKind): Promise<CaseOutcome>;
}

/** The log the flows' code writes to: warnings and errors kept, to show beside a failing case. */
export const silentLog = (errors: string[]): Log => ({
  info: () => {},
  warn: (message, extra) => errors.push(`warn ${message} ${JSON.stringify(extra ?? {}).slice(0, 300)}`),
  error: (message, extra) => errors.push(`error ${message} ${JSON.stringify(extra ?? {}).slice(0, 300)}`),
});
