/** The generator of bad input on the supervision and statement routes, from the tries of its sibling modules. */
import fc from 'fast-check';
import { hexDigest, notJson } from './arbitraries.ts';
import { type Body, type BuildContext, sellerRecipe } from './cases.ts';
import { bearer, sellerEvent } from './events.ts';
import { noFlowTries, proofRequestTries, validProof } from './proofTries.ts';
import { NEVER_RUN_MONTH } from './sellerRoutes.ts';
import { anyLine, type SellerTry, supervisionPath, type TryBuild } from './sellerTries.ts';
import { periodTry, statementListTries, statementTries } from './statementTries.ts';
import { idTries, transitionTries } from './transitionTries.ts';

/** Bodies that are not JSON (400) on the supervision routes, or past the size limit (413) there and on the bill upload. */
const supervisionBodyTries: fc.Arbitrary<TryBuild> = fc.oneof(
  fc
    .tuple(notJson, fc.constantFrom<'proofs' | 'transitions'>('proofs', 'transitions'), fc.boolean(), fc.boolean(), fc.nat())
    .map(([text, tail, base64, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
      const line = anyLine(ctx, elsewhere, pick);
      return {
        method: 'POST',
        path: supervisionPath(line, tail),
        body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text,
        ...(base64 ? { base64: true } : {}),
        statuses: [400],
        ids: [line.orderId, line.orderLineId],
      };
    }),
  fc
    .tuple(
      fc.constantFrom('proofs', 'transitions', 'reconciliation'),
      validProof,
      fc.integer({ min: 1, max: 300_000 }),
      fc.constantFrom('x', '中', '😀'),
      fc.boolean(),
      fc.nat(),
    )
    .map(([where, proof, extra, pad, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
      const line = anyLine(ctx, elsewhere, pick);
      const base: Body =
        where === 'proofs'
          ? proof(ctx.fixture)
          : where === 'transitions'
            ? { action: 'closeAppeal', reason: 'x' }
            : { size: 1, sha256: hexDigest('x') };
      const body = JSON.stringify({
        ...base,
        pad: pad.repeat(Math.ceil((ctx.fixture.sellerMaxBodyBytes + extra) / Buffer.byteLength(pad))),
      });
      return where === 'reconciliation'
        ? periodTry('POST reconciliation', NEVER_RUN_MONTH, [413], [NEVER_RUN_MONTH], body)
        : { method: 'POST', path: supervisionPath(line, where), body, statuses: [413], ids: [line.orderId, line.orderLineId] };
    }),
);

/**
 * Bad input on the supervision and statement routes, with a key of every scope. Nothing of it may change state: no
 * valid proof request or decision is sent where a flow would take it, no valid run, close or bill upload is sent for a
 * month that would take it (a run of a started month would start; only months not started are run).
 */
export const sellerSupervisionStatements = sellerRecipe(
  'seller: bad supervision/statement input',
  fc
    .oneof(
      { arbitrary: proofRequestTries, weight: 5 },
      { arbitrary: transitionTries, weight: 6 },
      { arbitrary: idTries, weight: 3 },
      { arbitrary: noFlowTries, weight: 1 },
      { arbitrary: supervisionBodyTries, weight: 2 },
      { arbitrary: statementTries, weight: 6 },
      { arbitrary: statementListTries, weight: 2 },
    )
    .map((build) => (ctx: BuildContext) => {
      const t = build(ctx);
      return {
        event: sellerEvent({
          method: t.method,
          path: t.path,
          authorization: bearer(ctx.fixture.sellerKeys.full),
          ...(t.query ? { query: t.query } : {}),
          body: t.body,
          ...(t.base64 ? { base64: true } : {}),
        }),
        expect: { statuses: t.statuses },
        ids: t.ids,
      };
    }),
);
