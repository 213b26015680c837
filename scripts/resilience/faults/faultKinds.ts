/** The ways the k-th DynamoDB command can fail: before or after the server applied it, surfaced or inside the SDK's retries. */
import { InternalServerError, ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

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

const timeout = () =>
  Object.assign(new Error('socket timed out after 1500 ms (the request was sent)'), {
    name: 'TimeoutError',
    code: 'ETIMEDOUT',
    $metadata: {},
  });

/** A cancellation naming `code` for one item and `None` for the others, as DynamoDB reports one. */
function cancelled(input: unknown, code: string): Error {
  const count = Math.max(1, ((input as { TransactItems?: unknown[] }).TransactItems ?? []).length);
  const at = Math.min(1, count - 1);
  const reasons = Array.from({ length: count }, (_, i) => (i === at ? { Code: code, Message: code } : { Code: 'None' }));
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons,
    $metadata: { httpStatusCode: 400 },
  });
}

export const TRANSACT = 'TransactWriteItems';

export const FAULT_KINDS: readonly FaultKind[] = [
  {
    name: 'InternalServerError',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () => new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } }),
  },
  {
    name: 'ProvisionedThroughputExceeded',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () =>
      new ProvisionedThroughputExceededException({
        message: 'The level of configured provisioned throughput for the table was exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
  },
  {
    name: 'connection reset',
    layer: 'surfaced',
    when: 'before',
    absorbed: false,
    error: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} }),
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
      $metadata: { httpStatusCode: 200 },
    }),
  },
  { name: 'lost answer (applied, then timeout)', layer: 'surfaced', when: 'after', absorbed: false, error: timeout },
  {
    name: 'SDK-retried 500',
    layer: 'sdk',
    when: 'before',
    absorbed: true,
    error: () => new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } }),
  },
  { name: 'SDK-retried lost answer', layer: 'sdk', when: 'after', absorbed: true, error: timeout },
];

export const faultKind = (name: string): FaultKind => {
  const kind = FAULT_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`no fault kind ${name}`);
  return kind;
};
