/**
 * The ways the k-th DynamoDB command can fail: before or after the server applied it, surfaced or inside the client's
 * retries. Each error is what lib/aws/awsJson.ts raises for it (an `AwsServiceError` named as DynamoDB names it, a
 * `TimeoutError`, a dropped connection's error), so lib's checks (`isRetryable`, `cancellationReasons`) see what
 * they would see from the real service.
 */
import { AwsServiceError, TimeoutError } from '#lib/aws/awsJson.ts';
import { CLIENT_TIMEOUTS } from '#lib/aws/clients.ts';

export interface FaultKind {
  name: string;
  /** `surfaced`: the error reaches the application; `sdk`: it strikes one HTTP attempt, inside the client's retries. */
  layer: 'surfaced' | 'sdk';
  /** `before`: the server never sees the command; `after`: the server applied it and the answer is lost. */
  when: 'before' | 'after';
  /** Only for this command (a transaction's cancellation). */
  only?: string;
  /** The caller's call still gets the fault-free answer (the fault is absorbed on the way). */
  absorbed: boolean;
  error(input: unknown): Error;
  /** Instead of an error, this answer without sending (a throttled BatchGetItem's). */
  respond?: (input: unknown) => Record<string, unknown>;
}

/** A refusal of DynamoDB's; `attempts`: the client's attempts it took (a retried refusal surfaces after the last). */
function serviceError(name: string, message: string, status: number, fields: Record<string, unknown> = {}, attempts = 1): AwsServiceError {
  return Object.assign(new AwsServiceError(name, message, status, `FAULT${Date.now().toString(36)}`, attempts), fields);
}

/** What the client raises when it gives up on a retryable refusal. */
const retriedOut = (name: string, message: string, status: number) =>
  serviceError(name, message, status, {}, CLIENT_TIMEOUTS.dynamo.maxAttempts);

/** An attempt whose answer did not come within the client's limit (the request was sent). */
const timeout = () => new TimeoutError(`no answer within ${CLIENT_TIMEOUTS.dynamo.requestTimeout} ms`);

/** A connection the server dropped, as Node reports it. */
const connectionReset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** A cancellation naming `code` for one item and `None` for the others, as DynamoDB reports one. */
function cancelled(input: unknown, code: string): Error {
  const count = Math.max(1, ((input as { TransactItems?: unknown[] }).TransactItems ?? []).length);
  const at = Math.min(1, count - 1);
  const reasons = Array.from({ length: count }, (_, i) => (i === at ? { Code: code, Message: code } : { Code: 'None' }));
  return serviceError(
    'TransactionCanceledException',
    `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    400,
    { CancellationReasons: reasons },
  );
}

export const TRANSACT = 'TransactWriteItems';

export const FAULT_KINDS: readonly FaultKind[] = [
  {
    name: 'InternalServerError',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () => retriedOut('InternalServerError', 'Internal server error', 500),
  },
  {
    name: 'ProvisionedThroughputExceeded',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () =>
      retriedOut(
        'ProvisionedThroughputExceededException',
        'The level of configured provisioned throughput for the table was exceeded',
        400,
      ),
  },
  {
    name: 'connection reset',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: connectionReset,
  },
  {
    name: 'cancelled: ThrottlingError',
    layer: 'surfaced',
    when: 'before',
    only: TRANSACT,
    absorbed: false,
    error: (input) => cancelled(input, 'ThrottlingError'),
  },
  {
    name: 'cancelled: TransactionConflict',
    layer: 'surfaced',
    when: 'before',
    only: TRANSACT,
    absorbed: true,
    error: (input) => cancelled(input, 'TransactionConflict'),
  },
  {
    name: 'every key unprocessed',
    layer: 'surfaced',
    when: 'before',
    only: 'BatchGetItem',
    absorbed: true,
    error: timeout,
    respond: (input) => ({
      Responses: {},
      UnprocessedKeys: (input as { RequestItems?: unknown }).RequestItems ?? {},
    }),
  },
  { name: 'lost answer (applied, then timeout)', layer: 'surfaced', when: 'after', absorbed: false, error: timeout },
  {
    name: 'client-retried 500',
    layer: 'sdk',
    when: 'before',
    absorbed: true,
    error: () => serviceError('InternalServerError', 'Internal server error', 500),
  },
  { name: 'client-retried lost answer', layer: 'sdk', when: 'after', absorbed: true, error: timeout },
];

export const faultKind = (name: string): FaultKind => {
  const kind = FAULT_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`no fault kind ${name}`);
  return kind;
};
