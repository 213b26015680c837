/**
 * What the domains know of a transaction: writes they plan (opaque, labelled so a cancellation can say which
 * condition failed) and the result of committing them. The DynamoDB adapters (lib/store/dynamo.ts) give the
 * writes their substance; the in-memory fakes of the tests give them theirs.
 */
export type WriteLabel =
  | 'nonce'
  | 'orderLine'
  | 'instance'
  | 'history'
  | 'provisioningAttempt'
  | 'applied'
  | 'outbox'
  | 'audit'
  | 'order'
  | 'license'
  | 'usageWindow'
  | 'usageTotal'
  | 'usageRef'
  | 'usageCorrection'
  | 'billing'
  | 'statement'
  | 'supervision'
  | 'supervisionHistory'
  | 'proof'
  | 'kitRecord'
  | 'kitHistory';

/** One write of a transaction, as the domains see it: only its label. */
export interface PlannedWrite {
  readonly label: WriteLabel;
}

export type CommitResult = { ok: true } | { ok: false; conditionFailed: WriteLabel[]; conflict: boolean };

/** Commits planned writes in one transaction, all or nothing. */
export type Commit = (writes: PlannedWrite[]) => Promise<CommitResult>;
