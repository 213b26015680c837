/**
 * The usage ledger as usage ingest, the hourly push and the seller API need it. lib/store/usageStore.ts implements
 * it on DynamoDB (docs/data-model.md); test/fakes has an in-memory one.
 */

import type { CommitResult } from '#lib/shared/transaction.ts';

export const WINDOW_STATES = ['OPEN', 'PUSHING', 'ACCEPTED', 'REJECTED'] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

export interface UsageWindow {
  instanceId: string;
  /** ISO instants. */
  beginTime: string;
  endTime: string;
  state: WindowState;
  /** Sum of every report, late corrections included, in 0.0001 units. */
  units: bigint;
  reports: number;
  /** The part of `units` that arrived for windows already pushed (corrections). */
  lateUnits: bigint;
  revision: number;
  /** Set when sealed: what is (re)sent until the marketplace answers. */
  meteringSn?: string;
  recordTime?: string;
  pushedUnits?: bigint;
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
  acceptedAt?: string;
  /** The marketplace said it already had this record. */
  duplicate?: boolean;
  rejection?: { code: string; message: string };
  /** The refusal of the record sent before the seller asked to send the window again. */
  previousRejection?: { code: string; message: string };
  updatedAt: string;
}

/** Usage reported for a window already pushed, carried into a later open window. */
export interface UsageCorrection {
  instanceId: string;
  at: string;
  /** The window the usage was reported for. */
  reportedFor: { beginTime: string; endTime: string };
  /** The window that carries it to the marketplace. */
  appliedTo: { beginTime: string; endTime: string };
  units: bigint;
  reports: number;
  clientRefs: string[];
}

/** Usage to add to one window in one transaction. */
export interface WindowAddition {
  instanceId: string;
  beginTime: string;
  endTime: string;
  units: bigint;
  reports: number;
  clientRefs: string[];
  /** Set when the usage was reported for a window already pushed: that window, and the correction record's id. */
  late?: { reportedFor: { beginTime: string; endTime: string }; correctionId: string };
}

export type AdditionResult = { ok: true } | { ok: false; windowClosed: boolean; refTaken: boolean; conflict: boolean };

/** An addition's transaction result, read as the ledger answers it: which of its conditions stopped it. */
export function additionResultOf(result: CommitResult): AdditionResult {
  if (result.ok) return result;
  return {
    ok: false,
    windowClosed: result.conditionFailed.includes('usageWindow'),
    refTaken: result.conditionFailed.includes('usageRef'),
    conflict: result.conflict,
  };
}

/** Transactions hold at most 100 items: the window, the total, a correction, and up to 97 clientRef claims. */
export const MAX_REFS_PER_ADDITION = 97;

export interface UsageLedger {
  /** Which of these (instanceId, clientRef) pairs are already taken; keys of the answer are `${instanceId}\n${clientRef}`. */
  takenRefs(pairs: { instanceId: string; clientRef: string }[]): Promise<Set<string>>;
  /**
   * Adds usage to an OPEN (or new) window, claims its clientRefs and updates the instance's running total, all
   * or nothing. Fails without writing if the window is no longer OPEN or a clientRef is already taken.
   */
  add(addition: WindowAddition, at: string): Promise<AdditionResult>;
  /** Windows whose end is at or before `nowIso` and that are not pushed yet (OPEN or PUSHING), oldest first. */
  dueWindows(nowIso: string, limit: number): Promise<{ instanceId: string; beginTime: string }[]>;
  getWindows(list: { instanceId: string; beginTime: string }[]): Promise<UsageWindow[]>;
  /**
   * OPEN → PUSHING: fixes the record (metering_sn, record time, the total sent) in the same conditional write that
   * stops reports from joining the window. Undefined if the window was not OPEN any more.
   */
  seal(w: UsageWindow, sealed: { meteringSn: string; recordTime: string; at: string }): Promise<UsageWindow | undefined>;
  /** PUSHING → ACCEPTED for the record with this metering_sn. */
  accept(w: UsageWindow, verdict: { duplicate: boolean; at: string }): Promise<boolean>;
  /** PUSHING → REJECTED with the marketplace's (or our pre-check's) reason. */
  reject(w: UsageWindow, rejection: { code: string; message: string }, at: string): Promise<boolean>;
  /** Stays PUSHING (same metering_sn); the next run after `nextAttemptAt` sends it again. */
  retryLater(w: UsageWindow, retry: { nextAttemptAt: string; lastError: string; at: string }): Promise<boolean>;
  /**
   * REJECTED → OPEN and due again, under the next revision (so the next push seals it with a new metering_sn), its
   * rejection kept as `previousRejection`. Undefined, changing nothing, if the window is not REJECTED (or missing).
   */
  resend(w: { instanceId: string; beginTime: string }, at: string): Promise<UsageWindow | undefined>;
  /** Running totals (0.0001 units) of up to 100 instances; instances without usage are absent. */
  totals(instanceIds: readonly string[]): Promise<Map<string, { units: bigint; updatedAt: string }>>;
  /** An instance's windows with begin in [fromIso, toIso), oldest first, at most `limit`. */
  windows(instanceId: string, fromIso: string, toIso: string, limit: number): Promise<UsageWindow[]>;
  /** An instance's late-usage corrections, oldest first. */
  corrections(instanceId: string, limit: number): Promise<UsageCorrection[]>;
}
