import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFaultContext, faultContext, type FaultContext } from '../../scripts/resilience/faults/faultContext.ts';
import { aroundEachCommand } from '../../scripts/resilience/faults/faultInjector.ts';
import { faultKind, FAULT_KINDS } from '../../scripts/resilience/faults/faultKinds.ts';
import { runFlow } from '../../scripts/resilience/faults/flows.ts';
import { countsOf, failed, type CaseOutcome } from '../../scripts/resilience/faults/outcomes.ts';
import { env } from '../helpers/produce.ts';

/**
 * Faults along a flow (scripts/resilience/faults/, `npm run resilience:faults` runs every flow): the k-th DynamoDB
 * command of a marketplace call fails, for every k and every fault kind, and the marketplace's retry must leave the
 * state the fault-free call leaves, with no answer of 000000 before the write is durable and nothing half-written.
 */

let ctx: FaultContext;
beforeAll(() => {
  ctx = faultContext({ main: env('MAIN_TABLE'), audit: env('AUDIT_TABLE') });
});
afterAll(() => closeFaultContext(ctx));

const shown = (c: CaseOutcome) => `k=${c.k} ${c.command}, ${c.kind}: ${c.problems.join(' | ')}`;

describe('a DynamoDB fault at every step of a marketplace call, then the marketplace retries', () => {
  for (const flow of ['newInstance', 'release'] as const) {
    it(`${flow}: every k, every fault kind: answered correctly, final state equal, nothing half-written`, async () => {
      // Act
      const report = await runFlow(ctx, flow);

      // Assess
      expect(report.commands).toEqual([flow === 'newInstance' ? 'GetItem' : 'BatchGetItem', 'TransactWriteItems']);
      expect(report.cases.filter(failed).map(shown)).toEqual([]);
      // The read and the transaction each meet every kind that applies to them.
      const tried = report.commands.reduce((n, command) => n + FAULT_KINDS.filter((k) => !k.only || k.only === command).length, 0);
      expect(tried).toBeGreaterThanOrEqual(14);
      expect(countsOf(report.cases)).toMatchObject({
        tried,
        answeredCorrectly: tried,
        stateEqual: tried,
        halfWritten: 0,
        crashes: 0,
        failed: 0,
      });
      // The transaction applied but its answer lost: the handler finds its nonce claimed and answers 000000; the
      // message log agrees.
      const lost = report.cases.find((c) => c.command === 'TransactWriteItems' && c.kind === 'lost answer (applied, then timeout)');
      expect(lost).toMatchObject({ faultedAnswer: '000000', committed: true, stateEqual: true, logMismatches: [] });
      // Before anything was sent: 000005 and nothing written.
      const refused = report.cases.find((c) => c.command === 'TransactWriteItems' && c.kind === 'InternalServerError');
      expect(refused).toMatchObject({ faultedAnswer: '000005', committed: false, stateEqual: true });
    }, 120_000);
  }

  it('notices a transaction that is written only in part', async () => {
    // Prepare: a store whose transaction, once the fault has struck, keeps only its first two items.
    const broken: FaultContext = faultContext(
      { main: env('MAIN_TABLE'), audit: env('AUDIT_TABLE') },
      {
        beneath: (client) =>
          aroundEachCommand(client, (operation, input, next) => {
            const items = (input as { TransactItems?: unknown[] }).TransactItems;
            if (broken.injector.struck && operation === 'TransactWriteItems' && items)
              return next({ ...input, TransactItems: items.slice(0, 2) });
            return next(input);
          }),
      },
    );

    try {
      // Act
      const report = await runFlow(broken, 'newInstance', [
        faultKind('lost answer (applied, then timeout)'),
        faultKind('client-retried 500'),
      ]);

      // Assess
      const onCommit = report.cases.filter((c) => c.command === 'TransactWriteItems');
      expect(onCommit).toHaveLength(2);
      for (const c of onCommit) expect(c).toMatchObject({ halfWritten: true, stateEqual: false });
      expect(onCommit.find((c) => c.kind === 'client-retried 500')?.problems).toContain(
        'law 1: answered 000000 but the change is not in the table',
      );
    } finally {
      closeFaultContext(broken);
    }
  }, 60_000);
});
