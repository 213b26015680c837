/** The faulting client: counts the DynamoDB commands a client sends and makes the k-th fail. */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  AwsServiceError,
  type AttemptSender,
  type AwsJsonClient,
  type HttpAnswer,
  type Operations,
  type SendOptions,
} from '#lib/aws/awsJson.ts';
import { newDynamoClient, type DynamoDb } from '#lib/aws/clients.ts';
import type { FaultKind } from './faultKinds.ts';

/** What an armed fault struck. */
export interface Struck {
  k: number;
  command: string;
  /** The server applied the command before the answer was lost. */
  applied: boolean;
}

/** One command on its way: its operation, its input, and the rest of the way (`next`, with the input to send). */
export type AroundCommand = (operation: string, input: object, next: (input: object) => Promise<object>) => Promise<object>;

/** `client` with `around` in front of each command (once per `send`, before the client's retries). */
export function aroundEachCommand<Ops extends Operations<Ops>>(client: AwsJsonClient<Ops>, around: AroundCommand): AwsJsonClient<Ops> {
  type Name = keyof Ops & string;
  const send = (operation: Name, input: object, options?: SendOptions) =>
    around(operation, input, (actual) => client.send(operation, actual as Ops[Name]['input'], options));
  return { send: send as AwsJsonClient<Ops>['send'], destroy: () => client.destroy() };
}

/** The answer DynamoDB gives when it refuses a request with `error`, as the client reads it. */
function answerOf(error: AwsServiceError): HttpAnswer {
  const fields = Object.entries(error).filter(([key]) => !['name', 'message', 'stack', '$fault', '$metadata'].includes(key));
  return {
    status: error.$metadata.httpStatusCode,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': error.$metadata.requestId },
    body: JSON.stringify({
      __type: `com.amazonaws.dynamodb.v20120810#${error.name}`,
      message: error.message,
      ...Object.fromEntries(fields),
    }),
  };
}

/** A fault armed for one command's first HTTP attempt. */
interface ArmedAttempt {
  kind: FaultKind;
  struck: Struck;
  done: boolean;
}

/**
 * Counts the DynamoDB commands a client sends (one per `send`, whatever the client's retries) and makes the k-th fail.
 * Two hooks: `wrap` puts the counting and the `surfaced` faults in front of each command (before the client's
 * retries, so its errors reach the caller); `sendAttempt` (a client's AwsJsonOptions.sendAttempt) fails the first
 * HTTP attempt of a command struck by an `sdk` fault, and the client retries it.
 */
export class FaultInjector {
  /** Commands sent since the last arm/reset, by name (`GetItem`, `TransactWriteItems`, …). */
  readonly sent: string[] = [];
  struck: Struck | undefined;
  private planned: { k: number; kind: FaultKind } | undefined;
  /** The `sdk` fault of the command whose attempts are under way, if it was struck. */
  private readonly attempts = new AsyncLocalStorage<ArmedAttempt>();

  arm(k: number, kind: FaultKind): void {
    this.reset();
    this.planned = { k, kind };
  }

  reset(): void {
    this.sent.length = 0;
    this.planned = undefined;
    this.struck = undefined;
  }

  disarm(): void {
    this.planned = undefined;
  }

  /** `client` with every command counted and the armed one failed (`surfaced`) or marked for its first attempt (`sdk`). */
  wrap(client: DynamoDb): DynamoDb {
    return aroundEachCommand(client, async (command, input, next) => {
      const index = this.sent.push(command);
      const planned = this.planned;
      if (!planned || index !== planned.k || (planned.kind.only && planned.kind.only !== command)) return next(input);
      const { kind } = planned;
      const struck: Struck = { k: index, command, applied: false };
      this.struck = struck;
      if (kind.layer === 'sdk') return this.attempts.run({ kind, struck, done: false }, () => next(input));
      if (kind.respond) return kind.respond(input);
      if (kind.when === 'before') throw kind.error(input);
      await next(input);
      struck.applied = true;
      throw kind.error(input);
    });
  }

  /**
   * The attempt hook: the first attempt of a command struck by an `sdk` fault is refused as the service refuses
   * (`before`), or sent and its answer lost (`after`); its other attempts, and every other command's, go through.
   */
  readonly sendAttempt = (own: AttemptSender): AttemptSender => {
    return async (attempt, limits, signal) => {
      const armed = this.attempts.getStore();
      if (!armed || armed.done) return own(attempt, limits, signal);
      armed.done = true;
      const error = armed.kind.error(undefined);
      if (armed.kind.when === 'before') {
        if (error instanceof AwsServiceError) return answerOf(error);
        throw error;
      }
      const answer = await own(attempt, limits, signal);
      // A refusal is not lost: the service applied nothing.
      if (answer.status >= 300) return answer;
      armed.struck.applied = true;
      throw error;
    };
  };
}

/**
 * A DynamoDB client built as lib/aws/clients.ts builds the functions' (its timeouts and retries), separate from it,
 * with `sendAttempt` in front of each HTTP attempt if given.
 */
export function storeLikeClient(sendAttempt?: (own: AttemptSender) => AttemptSender): DynamoDb {
  return newDynamoClient({ sendAttempt });
}
