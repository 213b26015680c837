/** The faulting client: counts the DynamoDB commands a client sends and makes the k-th fail. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { newDynamoClient } from '#lib/aws/clients.ts';
import type { FaultKind } from './faultKinds.ts';

/** What an armed fault struck. */
export interface Struck {
  k: number;
  command: string;
  /** The server applied the command before the answer was lost. */
  applied: boolean;
}

/**
 * Counts the DynamoDB commands a client sends (one per `send`, whatever the SDK's retries) and makes the k-th fail.
 * Installed as two middlewares: `faults` (initialize step: before the SDK's retries, so its errors reach the
 * caller) and `faultsInsideRetries` (finalizeRequest step, after signing: one HTTP attempt fails, the SDK retries).
 */
export class FaultInjector {
  /** Commands sent since the last arm/reset, by name (`GetItem`, `TransactWriteItems`, …). */
  readonly sent: string[] = [];
  struck: Struck | undefined;
  private planned: { k: number; kind: FaultKind } | undefined;
  private readonly inside = new WeakMap<object, { kind: FaultKind; struck: Struck }>();

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

  install(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? '?').replace(/Command$/, '');
        const index = this.sent.push(command);
        const planned = this.planned;
        if (!planned || index !== planned.k || (planned.kind.only && planned.kind.only !== command)) return next(args);
        const struck: Struck = { k: index, command, applied: false };
        this.struck = struck;
        if (planned.kind.layer === 'sdk') {
          this.inside.set(context, { kind: planned.kind, struck });
          return next(args);
        }
        if (planned.kind.respond)
          return { output: planned.kind.respond(args.input) as unknown as Awaited<ReturnType<typeof next>>['output'], response: {} };
        if (planned.kind.when === 'before') throw planned.kind.error(args.input);
        await next(args);
        struck.applied = true;
        throw planned.kind.error(args.input);
      },
      { step: 'initialize', name: 'faults' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const planned = this.inside.get(context);
        if (!planned) return next(args);
        // The first attempt only: the SDK's retry goes through.
        this.inside.delete(context);
        if (planned.kind.when === 'before') throw planned.kind.error(undefined);
        await next(args);
        planned.struck.applied = true;
        throw planned.kind.error(undefined);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'faultsInsideRetries' },
    );
  }
}

/** A DynamoDB client built as lib/aws/clients.ts builds the functions' (its timeouts and retries), separate from it. */
export function storeLikeClient(): DynamoDBClient {
  return newDynamoClient();
}
