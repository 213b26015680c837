/**
 * Resilience 1, bad input (ARCHITECTURE.md law 9): sends generated and mutated requests that must all be refused to
 * the real production-interface handler (functions/produce.ts: V2 POST and legacy V1 GET, as HTTP API events) and
 * the real seller API handler (functions/seller.ts), in this process, against a DynamoDB Local of its own (in
 * memory, a separate JVM) with the tables of serverless.yml. The generators are in scripts/resilience/badInput/.
 *
 *   node --import tsx scripts/resilience/runBadInput.ts [--runs 10000] [--seed <int>] [--show 5]
 *
 * Every request must get its right answer (production interface: HTTP 200 JSON with a valid Body-Sign and a refusal
 * code; seller API: a 4xx JSON error), and together they must change nothing:
 *   - main table: every item is the same afterwards, except the nonce claims of validly signed calls whose parameters
 *     were refused (the replay guard, law 2; a call refused for its signature, timestamp or size claims none) and a
 *     seller API key's lastUsedAt (the key was used);
 *   - audit table: nothing changed, plus exactly one message-log record per production-interface call, with the
 *     result code it was answered (law 6); the seller API writes none;
 *   - settlement queue: empty (a settlement run that started would have queued its segments).
 * The seller API's supervision flows and statements are main-table items (SUPERVISION#…, STATEMENT#…): compared
 * like every other item.
 *
 * Exit codes: 0 every answer right and no state change, 1 a check failed or the run broke, 2 bad arguments,
 * 130/143 interrupted.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { dynamoClient, sqsClient } from '#lib/aws/clients.ts';
import { prepareFixture } from './badInput/fixture.ts';
import { recipeStream } from './badInput/generators.ts';
import { describeOutcome, Tally, type Counts } from './badInput/report.ts';
import { captureServerLog, runRecipe } from './badInput/runner.ts';
import { sellerRouteDrift } from './badInput/sellerRoutes.ts';
import { auditProblems, mainTableChanges, noncePk, scanTable, type StateChange } from './badInput/state.ts';
import { cleanups, integerOption, readOptions, runStandalone, startEmulatorStack, usageExit } from '../local/standalone.ts';
import { int, machineLine, secs } from '../local/format.ts';

const USAGE = 'usage: node --import tsx scripts/resilience/runBadInput.ts [--runs 10000] [--seed <int>] [--show 5]';
const STAGE = 'resilience';
/** The seeded instances' product, metered here: a usage record for them is refused only for what is wrong with it. */
const METERED_PRODUCT = 'BI-METERED';

interface Options {
  runs: number;
  seed: number;
  show: number;
}

function parseOptions(argv: string[]): Options | string {
  const values = readOptions(argv, {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    show: { type: 'string', default: '5' },
  });
  if (typeof values === 'string') return values;
  if (values.help) return '';
  const int = (name: string, min: number, max: number) => integerOption(values[name], name, min, max);
  const runs = int('runs', 1, 10_000_000);
  const show = int('show', 0, 1_000);
  const seed = values.seed === undefined ? randomInt(0, 2 ** 31 - 1) : int('seed', -(2 ** 31), 2 ** 31 - 1);
  for (const v of [runs, show, seed]) if (typeof v === 'string') return v;
  return { runs: runs as number, seed: seed as number, show: show as number };
}

/** DynamoDB Local (in memory) and fauxqs (the provisioning queue the seeding calls publish to), the stage's resources. */
async function startStack(
  accessKey: string,
): Promise<{ tables: { main: string; audit: string }; settlementQueueUrl: string; dynamoPid: number | undefined }> {
  const { env, dynamoPid } = await startEmulatorStack(STAGE);
  // The functions read their settings from the environment on first use (lib/config.ts), which comes after this.
  Object.assign(process.env, {
    ...env,
    KOOGALLERY_ACCESS_KEY: accessKey,
    ORDER_QUERY: 'false',
    PROVISIONING_MODE: 'template',
    USAGE_PRODUCTS: METERED_PRODUCT,
  });
  cleanups.push(async () => dynamoClient().destroy());
  cleanups.push(async () => sqsClient().destroy());
  // The seller function's start-up needs the files bucket (proofs, statements) and the settlement queue (runs).
  for (const name of ['FILES_BUCKET', 'SETTLEMENT_QUEUE_URL']) if (!env[name]) throw new Error(`the stack gave no ${name}`);
  return { tables: { main: env.MAIN_TABLE!, audit: env.AUDIT_TABLE! }, settlementQueueUrl: env.SETTLEMENT_QUEUE_URL!, dynamoPid };
}

/** Messages in a queue, visible or in flight. */
async function queueDepth(url: string): Promise<number> {
  const out = await sqsClient().send('GetQueueAttributes', {
    QueueUrl: url,
    AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  });
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

const row = (name: string, c: Counts, extra = '') =>
  `  ${name.padEnd(40)} ${int(c.tried).padStart(7)} ${int(c.correct).padStart(9)} ${int(c.wrong).padStart(7)} ${int(c.crashes).padStart(8)}${extra}`;

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') return usageExit(options, USAGE);
  const drift = sellerRouteDrift();
  if (drift.length > 0) {
    console.error(
      `the generators do not know the seller API's routes (scripts/resilience/badInput/sellerRoutes.ts SELLER_ROUTES):\n  ${drift.join('\n  ')}`,
    );
    return 1;
  }
  const started = performance.now();
  console.log(`bad input: ${int(options.runs)} requests, seed ${options.seed} (reproduce with --seed ${options.seed})`);
  console.log(machineLine());

  const accessKey = `resilience-${randomBytes(12).toString('hex')}`;
  const stack = await startStack(accessKey);
  console.log(`DynamoDB Local in memory (pid ${stack.dynamoPid}), tables ${stack.tables.main}, ${stack.tables.audit}`);
  const restoreLog = captureServerLog();
  cleanups.push(async () => restoreLog());

  const prefix = `bi-${randomBytes(4).toString('hex')}`;
  const fixture = await prepareFixture({ prefix, accessKey, productId: METERED_PRODUCT });
  console.log(
    `seeded ${fixture.instances.length} metered ACTIVE instances, a supervision flow awaiting delivery, 3 seller API keys ` +
      `(all scopes, usage:read only, revoked), cursors: instances ${fixture.cursors.instances ? 'yes' : 'no'}, messages ${fixture.cursors.messages ? 'yes' : 'no'}`,
  );

  const client = dynamoClient();
  const [mainBefore, auditBefore] = await Promise.all([scanTable(client, stack.tables.main), scanTable(client, stack.tables.audit)]);
  const queuedBefore = await queueDepth(stack.settlementQueueUrl);

  const tally = new Tally();
  const answered = new Map<string, string>();
  const allowedNonces = new Set<string>();
  const runStarted = performance.now();
  let index = 0;
  for (const recipe of recipeStream(options.seed, options.runs)) {
    const tag = `${prefix}-${index++}`;
    const outcome = await runRecipe(recipe, fixture, tag);
    tally.add(outcome);
    if (outcome.case.target === 'produce') {
      if (outcome.resultCode) answered.set(outcome.correlationId, outcome.resultCode);
      if (outcome.case.claims) allowedNonces.add(noncePk(accessKey, outcome.case.claims));
    }
    if (index % 1000 === 0) {
      const t = tally.total();
      console.log(`  … ${int(index)} sent, ${int(t.wrong)} wrong, ${secs(performance.now() - runStarted)}`);
    }
  }
  const runMs = performance.now() - runStarted;

  const [mainAfter, auditAfter] = await Promise.all([scanTable(client, stack.tables.main), scanTable(client, stack.tables.audit)]);
  const queued = (await queueDepth(stack.settlementQueueUrl)) - queuedBefore;
  const { changes, nonceClaims } = mainTableChanges(mainBefore, mainAfter, allowedNonces);
  const auditChanges: StateChange[] = [];
  for (const [key, item] of auditBefore) {
    const now = auditAfter.get(key);
    if (!now) auditChanges.push({ kind: 'deleted', pk: String(item.pk), sk: String(item.sk), item });
    else if (!isDeepStrictEqual(now, item)) auditChanges.push({ kind: 'changed', pk: String(item.pk), sk: String(item.sk), item: now });
  }
  const newAudit = [...auditAfter].filter(([key]) => !auditBefore.has(key)).map(([, item]) => item);
  const produceCalls = tally.byTarget.get('produce')?.tried ?? 0;
  // A call whose answer was not JSON has no code to compare; its record must still be there (counted below).
  const auditIssues = auditProblems(
    newAudit.filter((r) => answered.has(String(r.correlationId))),
    answered,
  );
  if (newAudit.length !== produceCalls)
    auditIssues.push(`${newAudit.length} new message-log records for ${produceCalls} production-interface calls`);

  // Report
  const total = tally.total();
  console.log('');
  console.log(
    `  ${'generator'.padEnd(40)} ${'tried'.padStart(7)} ${'correct'.padStart(9)} ${'wrong'.padStart(7)} ${'crashes'.padStart(8)}  answers`,
  );
  for (const target of ['produce', 'seller'] as const) {
    for (const [name, c] of [...tally.byGenerator].filter(([, g]) => g.target === target).sort(([a], [b]) => a.localeCompare(b))) {
      const answers = [...(tally.answers.get(name) ?? new Map<string, number>())]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([a, n]) => `${a}×${n}`)
        .join(' ');
      console.log(row(name, c, `  ${answers}`));
    }
    const t = tally.byTarget.get(target);
    if (t) console.log(row(target === 'produce' ? '= production interface (V2 + V1)' : '= seller API', t));
    console.log('');
  }
  console.log(row('= all', total));
  console.log('');
  const sellerChanges = changes.filter((c) => /^(APIKEY|USAGE|USAGEREF|SUPERVISION|STATEMENT)#/.test(c.pk)).length;
  console.log(
    `state changes: ${changes.length + auditChanges.length} (production interface ${changes.length - sellerChanges}, seller API ${sellerChanges}, ` +
      `message log rewritten ${auditChanges.length}); main table ${int(mainBefore.size)} → ${int(mainAfter.size)} items, ` +
      `of which ${int(nonceClaims)} nonce claims of validly signed calls with refused parameters`,
  );
  console.log(
    `message log: ${int(newAudit.length)} records appended for ${int(produceCalls)} production-interface calls, ${auditIssues.length === 0 ? 'one each, with the code answered' : `${auditIssues.length} problem(s)`}`,
  );
  console.log(`settlement queue: ${int(queued)} messages queued (a run would queue its segments)`);
  console.log(
    `rule: nothing in the main table may change except those nonce claims and a seller API key's lastUsedAt; the audit table may only gain one record per call; the settlement queue stays empty`,
  );
  console.log(
    `elapsed: ${secs(runMs)} for ${int(total.tried)} requests (${int(Math.round(total.tried / (runMs / 1000)))}/s), ${secs(performance.now() - started)} in all`,
  );

  const failed = total.wrong > 0 || changes.length > 0 || auditChanges.length > 0 || auditIssues.length > 0 || queued !== 0;
  if (!failed) {
    console.log(`PASSED: every request answered correctly, nothing changed (seed ${options.seed})`);
    return 0;
  }
  console.error(`\nFAILED (seed ${options.seed})`);
  if (tally.failures.length > 0) {
    console.error(`first ${Math.min(options.show, tally.failures.length)} of ${tally.failures.length} wrong answers:`);
    for (const o of tally.failures.slice(0, options.show)) console.error(describeOutcome(o));
  }
  for (const c of [...changes, ...auditChanges].slice(0, options.show)) {
    console.error(`state change: ${c.kind} ${c.pk} ${c.sk}: ${JSON.stringify(c.item).slice(0, 300)}`);
  }
  for (const p of auditIssues.slice(0, options.show)) console.error(`message log: ${p}`);
  if (queued !== 0) console.error(`settlement queue: ${queued} messages queued: a settlement run started`);
  return 1;
}

await runStandalone('the bad-input run', main);
