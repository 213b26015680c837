/**
 * Bad input against the two public surfaces (ARCHITECTURE.md law 9): generators of requests that must be refused,
 * for the production interface (the real functions/produce.ts handler: V2 POST and legacy V1 GET, as HTTP API
 * events) and the seller API (the real functions/seller.ts handler), the answer each must get, and the checks that
 * the refusals changed nothing. Used by scripts/resilience/runBadInput.ts (`npm run resilience`)
 * and by test/integration/badInput.test.ts.
 *
 * The generators are fast-check arbitraries of recipes; a recipe is turned into a request when it is sent (V2
 * signatures and V1 timeStamps are made then, so they are inside the signature window). Every request carries the
 * answer it must get:
 *   - production interface: HTTP 200, JSON, a valid Body-Sign header, and a resultCode from the recipe's list
 *     (000002 for a validly signed call with a bad parameter; 000001 or 000002 for a signature that was broken after
 *     signing; never 000000, 000004 or 000005);
 *   - seller API: a 4xx `{"error": {"code", "message"}}` whose code matches the status, from the recipe's list; a
 *     usage request whose envelope is right but whose every record is bad is answered 200 with every record
 *     `rejected` (the route's documented per-record answer).
 */
import fc from 'fast-check';
import type { Recipe } from './cases.ts';
import {
  produceBadSignature,
  produceDeepJson,
  produceInvalidFields,
  produceMutated,
  produceOversized,
  produceRandomBytes,
  produceUnicode,
} from './produceGenerators.ts';
import { sellerBadAuth, sellerBadCursor, sellerBadPathParams, sellerBadPaths, sellerBadQuery } from './sellerGenerators.ts';
import { sellerSupervisionStatements } from './supervisionStatements.ts';
import { sellerBadJson, sellerGarbageRecords, sellerHugeArrays, sellerWrongTypes } from './usageGenerators.ts';
import { v1BadQuery, v1Mutated, v1SignedInvalid } from './v1Generators.ts';

export const GENERATORS: { recipe: fc.Arbitrary<Recipe>; weight: number }[] = [
  { recipe: produceInvalidFields, weight: 12 },
  { recipe: produceUnicode, weight: 5 },
  { recipe: produceDeepJson, weight: 3 },
  { recipe: produceRandomBytes, weight: 5 },
  { recipe: produceOversized, weight: 2 },
  { recipe: produceBadSignature, weight: 6 },
  { recipe: produceMutated, weight: 8 },
  { recipe: v1BadQuery, weight: 4 },
  { recipe: v1SignedInvalid, weight: 4 },
  { recipe: v1Mutated, weight: 4 },
  { recipe: sellerBadAuth, weight: 6 },
  { recipe: sellerBadPaths, weight: 4 },
  { recipe: sellerBadPathParams, weight: 3 },
  { recipe: sellerBadQuery, weight: 7 },
  { recipe: sellerBadCursor, weight: 5 },
  { recipe: sellerBadJson, weight: 4 },
  { recipe: sellerWrongTypes, weight: 4 },
  { recipe: sellerHugeArrays, weight: 2 },
  { recipe: sellerGarbageRecords, weight: 5 },
  { recipe: sellerSupervisionStatements, weight: 14 },
];

export const recipes: fc.Arbitrary<Recipe> = fc.oneof(...GENERATORS.map(({ recipe, weight }) => ({ arbitrary: recipe, weight })));

/** Recipes in chunks (each from its own seed, so a run of N is the first N of any longer run with the same seed). */
export function* recipeStream(seed: number, runs: number, chunk = 200): Generator<Recipe> {
  for (let done = 0, n = 0; done < runs; n++) {
    const size = Math.min(chunk, runs - done);
    for (const recipe of fc.sample(recipes, { seed: (seed + n * 7919) | 0, numRuns: size })) yield recipe;
    done += size;
  }
}
