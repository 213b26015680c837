import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { prepareFixture } from '../../scripts/resilience/badInput/fixture.ts';
import { GENERATORS, recipeStream } from '../../scripts/resilience/badInput/generators.ts';
import { describeOutcome, Tally } from '../../scripts/resilience/badInput/report.ts';
import { captureServerLog, runRecipe } from '../../scripts/resilience/badInput/runner.ts';
import { sellerRouteDrift } from '../../scripts/resilience/badInput/sellerRoutes.ts';
import { auditProblems, auditRecordsOf, mainTableChanges, noncePk, scanTable, type Item } from '../../scripts/resilience/badInput/state.ts';
import { nonceOf } from '../../scripts/resilience/badInput/v1Generators.ts';
import { env } from '../helpers/produce.ts';
import { TEST_KEY } from '../helpers/signing.ts';

/**
 * Law 9 on the shared test stack: the generators of `npm run resilience` (scripts/resilience/badInput/), a few
 * hundred requests from a fixed seed, against the real produce and seller handlers. Every answer must be the right
 * refusal, and nothing this run's requests could have touched may change: its own seeded instances, supervision flow
 * and keys, any item naming an id or month its requests named, and any nonce they sent other than those of validly
 * signed calls with refused parameters. Other test files write to the same tables meanwhile; their items are left
 * alone.
 */

const RUNS = 300;
const SEED = 20_261_121;

let restoreLog: () => void;
beforeAll(() => {
  restoreLog = captureServerLog();
});
afterAll(() => restoreLog());

/** Every string in an item, keys included, nested values too. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

describe('bad input', () => {
  it('knows every seller API route that needs a key, with its scope', () => {
    expect(sellerRouteDrift()).toEqual([]);
  });

  it(`answers ${RUNS} generated bad requests correctly and changes nothing they could touch`, async () => {
    const prefix = `bi-${randomBytes(4).toString('hex')}`;
    const fixture = await prepareFixture({ prefix, accessKey: TEST_KEY, productId: `${prefix}-product` });
    const client = dynamoClient();
    const mainBefore = await scanTable(client, env('MAIN_TABLE'));

    const tally = new Tally();
    const answered = new Map<string, string>();
    const allowedNonces = new Set<string>();
    const sentNonces = new Set<string>();
    const ids = new Set<string>();
    const started = Date.now();
    let index = 0;
    for (const recipe of recipeStream(SEED, RUNS)) {
      const outcome = await runRecipe(recipe, fixture, `${prefix}-${index++}`);
      tally.add(outcome);
      for (const id of outcome.case.ids) if (id.length >= 6 || id.includes(prefix)) ids.add(id);
      const nonce = nonceOf(outcome.case);
      if (nonce !== undefined) sentNonces.add(noncePk(TEST_KEY, nonce));
      if (outcome.case.target === 'produce') {
        if (outcome.resultCode) answered.set(outcome.correlationId, outcome.resultCode);
        if (outcome.case.claims) allowedNonces.add(noncePk(TEST_KEY, outcome.case.claims));
      }
    }

    // Soft: a wrong answer and the state change it made are reported together.
    expect.soft(tally.failures.map(describeOutcome)).toEqual([]);
    expect.soft(tally.total()).toMatchObject({ tried: RUNS, correct: RUNS, crashes: 0 });
    expect.soft(tally.byGenerator.size).toBe(GENERATORS.length);

    const mainAfter = await scanTable(client, env('MAIN_TABLE'));
    const ours = (item: Item) => sentNonces.has(String(item.pk)) || stringsOf(item).some((s) => s.includes(prefix) || ids.has(s));
    const { changes } = mainTableChanges(mainBefore, mainAfter, allowedNonces, ours);
    expect.soft(changes.map((c) => `${c.kind} ${c.pk} ${c.sk}`)).toEqual([]);

    // One message-log record per production-interface call, with its answer (the seeding calls are not counted).
    const records = (await auditRecordsOf(client, env('AUDIT_TABLE'), `${prefix}-`, started, Date.now())).filter((r) =>
      /^bi-[0-9a-f]{8}-\d+$/.test(String(r.correlationId)),
    );
    expect(auditProblems(records, answered)).toEqual([]);
    expect(records).toHaveLength(tally.byTarget.get('produce')?.tried ?? 0);
  }, 180_000);
});
