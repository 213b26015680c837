/**
 * Resilience 2, faults (ARCHITECTURE.md laws 1–3): a DynamoDB client whose k-th command fails, for every k along
 * each flow, and then what the caller does after a failure: it sends the same call again.
 *
 *   node --import tsx scripts/resilience/runFaults.ts [--flows newInstance,releaseInstance,…] [--show 5]
 *
 * The flows (scripts/resilience/faults/) run through the real code with a DynamoDB client of their own (built like lib/aws/clients.ts's, with a fault
 * hook around each command and one around each HTTP attempt), against a DynamoDB Local of the script's own (in memory) with the tables of serverless.yml:
 *   - production interface (lib/instances/produceCall.ts, V2, signed like the marketplace): newInstance; and on a new
 *     instance refreshInstance (RENEWAL), updateInstanceStatus FREEZE, UNFREEZE (of a frozen instance),
 *     upgradeInstance, releaseInstance; refreshLicenseCode of a registered License code;
 *   - usage ingest (POST /seller/usage through lib/seller-api/router.ts and lib/usage/ingest.ts): 8 reports with
 *     clientRefs for 2 metered instances × 2 hourly windows.
 *
 * Each flow is first run fault-free on fresh ids, counting the DynamoDB commands its call sends (n). Then, for every
 * k = 1..n and every fault kind that applies to the k-th command, on fresh ids and after the same setup, the k-th
 * command fails, and the call is sent again (the marketplace's retry: a fresh nonce and signature; the seller's
 * resend: the same reports and clientRefs). Fault kinds:
 *   - reaching the application (as when a fault outlasts the client's own retries): InternalServerError,
 *     ProvisionedThroughputExceededException, a reset connection (the server never saw the command); a transaction
 *     cancelled for ThrottlingError or TransactionConflict (TransactWriteItems only; nothing applied); a BatchGetItem
 *     that returns every key unprocessed (as under throttling); a lost answer (the server applied the command, the
 *     client timed out);
 *   - inside the client's own retries (maxAttempts 3, as lib/aws/clients.ts): one attempt fails with a 500, or is
 *     applied and its answer lost (the client resends it; a transaction carries the same ClientRequestToken).
 * Checked for every fault:
 *   - answered correctly: the faulted call's answer is 000000 only if its write committed (law 1); it is the
 *     fault-free answer when the fault is absorbed on the way (the client's retry, the store's re-read of unprocessed
 *     keys, the handler's re-planning after a conflict) and 000005 otherwise; the retry answers exactly as the fault-free run did. Usage: a report answered `accepted` is
 *     in the ledger; on the resend every report is `accepted`, or `duplicate` exactly when the faulted request did
 *     record it;
 *   - never half-written: right after the faulted call the state is either untouched or the fault-free run's final
 *     state (production interface: and the call's nonce is claimed exactly when its change is there; usage: every
 *     window transaction's clientRef claims, window sum, report count and the running total agree);
 *   - final state equal: after the retry, the state equals the fault-free run's, ids and times normalised
 *     (instance item, history, applied markers, order-line claim, outbox events, License code; usage windows,
 *     totals, clientRef claims);
 *   - crashes: a handler that throws instead of answering.
 * Also reported: message-log records (law 6) whose result code differs from the answer the call got.
 * test/integration/faults.test.ts runs newInstance and releaseInstance with every k and every kind on the test stack.
 *
 * Exit codes: 0 every check held, 1 a check failed or the run broke, 2 bad arguments, 130/143 interrupted.
 */
import type { StoreTables } from '#lib/store/dynamo.ts';
import { isEntryPoint } from '../local/cli.ts';
import { cleanups, integerOption, readOptions, runStandalone, startEmulatorStack, usageExit } from '../local/standalone.ts';
import { machineLine } from '../local/format.ts';
import { closeFaultContext, faultContext } from './faults/faultContext.ts';
import { FAULT_KINDS } from './faults/faultKinds.ts';
import { FLOW_NAMES, runFlow } from './faults/flows.ts';
import { countsOf, failed, type CaseOutcome, type FlowReport } from './faults/outcomes.ts';

const USAGE = 'usage: node --import tsx scripts/resilience/runFaults.ts [--flows <name,…>] [--show 5]';

interface Options {
  flows: string[];
  show: number;
}

function parseOptions(argv: string[]): Options | string {
  const values = readOptions(argv, { flows: { type: 'string' }, show: { type: 'string', default: '5' } });
  if (typeof values === 'string') return values;
  if (values.help) return '';
  const show = integerOption(values.show, 'show', 0, 1000);
  if (typeof show === 'string') return show;
  const flows =
    typeof values.flows === 'string'
      ? values.flows
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean)
      : [...FLOW_NAMES];
  const unknown = flows.filter((f) => !(FLOW_NAMES as readonly string[]).includes(f));
  if (unknown.length > 0 || flows.length === 0) return `--flows takes a comma-separated list of: ${FLOW_NAMES.join(', ')}`;
  return { flows, show };
}

async function startStack(): Promise<{ tables: StoreTables; dynamoPid: number | undefined }> {
  const { env, dynamoPid } = await startEmulatorStack('faults');
  return { tables: { main: env.MAIN_TABLE!, audit: env.AUDIT_TABLE! }, dynamoPid };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

function printReport(reports: FlowReport[], elapsedMs: number): void {
  console.log('');
  console.log(
    `  ${'flow'.padEnd(34)} ${'n'.padStart(2)}  ${'tried'.padStart(5)} ${'answered ok'.padStart(11)} ${'state equal'.padStart(11)} ${'half-written'.padStart(12)} ${'crashes'.padStart(7)}  log≠answer`,
  );
  const all: CaseOutcome[] = [];
  for (const r of reports) {
    const c = countsOf(r.cases);
    all.push(...r.cases);
    console.log(
      `  ${r.title.padEnd(34)} ${pad(r.commands.length, 2)}  ${pad(c.tried, 5)} ${pad(c.answeredCorrectly, 11)} ${pad(c.stateEqual, 11)} ${pad(c.halfWritten, 12)} ${pad(c.crashes, 7)}  ${pad(c.logMismatches, 10)}`,
    );
  }
  const t = countsOf(all);
  console.log(
    `  ${'= all'.padEnd(34)} ${''.padStart(2)}  ${pad(t.tried, 5)} ${pad(t.answeredCorrectly, 11)} ${pad(t.stateEqual, 11)} ${pad(t.halfWritten, 12)} ${pad(t.crashes, 7)}  ${pad(t.logMismatches, 10)}`,
  );
  console.log('');
  console.log('commands of each fault-free call (k = 1..n):');
  for (const r of reports) console.log(`  ${r.title.padEnd(34)} ${r.commands.map((c, i) => `${i + 1} ${c}`).join(', ')}`);
  console.log('');
  console.log('the faulted call, by fault kind and command: its answers, and how many left their whole change in the table:');
  const groups = new Map<string, CaseOutcome[]>();
  for (const c of all) {
    const key = `${c.kind} on ${c.command}${c.flow === 'usage' ? ' (usage)' : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, cases] of groups) {
    const answers = new Map<string, number>();
    for (const c of cases) answers.set(c.faultedAnswer, (answers.get(c.faultedAnswer) ?? 0) + 1);
    const shown = [...answers].map(([a, n]) => `${n}× ${a}`).join('; ');
    const swept = cases.reduce((n, c) => n + c.leftToSweep, 0);
    console.log(
      `  ${key.padEnd(66)} ${pad(cases.length, 3)} tried: ${shown}; whole change in the table: ${cases.filter((c) => c.committed).length}` +
        (swept > 0 ? `; events left to the outbox sweep: ${swept}` : ''),
    );
  }
  console.log('');
  console.log(`elapsed: ${(elapsedMs / 1000).toFixed(1)} s`);
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') return usageExit(options, USAGE);
  const started = performance.now();
  console.log(`faults: flows ${options.flows.join(', ')}; ${FAULT_KINDS.length} fault kinds at every k`);
  console.log(machineLine());
  const stack = await startStack();
  console.log(`DynamoDB Local in memory (pid ${stack.dynamoPid}), tables ${stack.tables.main}, ${stack.tables.audit}`);
  const ctx = faultContext(stack.tables);
  cleanups.push(async () => closeFaultContext(ctx));

  const reports: FlowReport[] = [];
  for (const name of options.flows) {
    const report = await runFlow(ctx, name);
    const c = countsOf(report.cases);
    console.log(`  … ${report.title}: ${c.tried} faults, ${c.failed} failed`);
    reports.push(report);
  }
  printReport(reports, performance.now() - started);

  const cases = reports.flatMap((r) => r.cases);
  const mismatched = cases.filter((c) => c.logMismatches.length > 0);
  if (mismatched.length > 0) {
    console.log(
      `message log: ${mismatched.length} fault(s) left a record whose result code differs from the answer given (reported, not counted as a failure), e.g.:`,
    );
    for (const c of mismatched.slice(0, options.show))
      console.log(`  ${c.flow}, k=${c.k} ${c.command}, ${c.kind}: ${c.logMismatches.join('; ')}`);
  }
  const failures = cases.filter(failed);
  if (failures.length === 0) {
    console.log(`PASSED: ${cases.length} faults, every answer right, every final state equal to the fault-free run, nothing half-written`);
    return 0;
  }
  console.error(`\nFAILED: ${failures.length} of ${cases.length} faults; the first ${Math.min(options.show, failures.length)}:`);
  for (const c of failures.slice(0, options.show)) {
    console.error(`[${c.flow}] k=${c.k} (${c.command}), ${c.kind}: faulted call answered ${c.faultedAnswer}`);
    for (const p of c.problems) console.error(`  ${p}`);
  }
  return 1;
}

if (isEntryPoint(import.meta.url)) await runStandalone('the faults run', main);
