/**
 * Resilience 4, hanging sockets (ARCHITECTURE.md law 11): the produce function with DynamoDB, SQS or both reached at
 * a TCP endpoint on 127.0.0.1 that accepts connections and never answers (scripts/resilience/hanging/).
 *
 *   node --import tsx scripts/resilience/runHanging.ts [--repeat 3]
 *
 * Against the script's own DynamoDB Local (in memory) and fauxqs, each scenario sends signed newInstance calls through
 * the real handler (middy and its early timeout, the production wiring of lib/instances/deps.ts, the clients of
 * lib/aws/clients.ts at the chosen endpoints) with a Lambda context whose remaining time runs down from 6 s.
 * Printed per call: the answer's code, its latency, what the message log recorded (code and latency), whether the
 * instance is durable, and whether its event is left in the outbox for the sweep. Checked: every answer is signed
 * and given within 4.8 s; 000000 exactly when the instance is durable (SQS hanging), 000005 when DynamoDB hangs;
 * a message-log record, where one could be written, says the code that was answered.
 *
 * Exit codes: 0 every check held, 1 a check failed or the run broke, 2 bad arguments, 130/143 interrupted.
 */
import { newDynamoClient } from '#lib/aws/clients.ts';
import { log } from '#lib/log.ts';
import { isEntryPoint } from '../local/cli.ts';
import { machineLine } from '../local/format.ts';
import { cleanups, integerOption, readOptions, runStandalone, startEmulatorStack, usageExit } from '../local/standalone.ts';
import { startHangingServer } from './hanging/hangingServer.ts';
import { HANGING_SCENARIOS, runHangingScenario, type HangingOutcome } from './hanging/scenarios.ts';

const USAGE = 'usage: node --import tsx scripts/resilience/runHanging.ts [--repeat 3]';

const ms = (value: number) => `${Math.round(value)} ms`;

function row(o: HangingOutcome): string {
  const logged = o.logged ? `${o.logged.resultCode}, ${ms(o.logged.latencyMs)}` : '(none)';
  const cells = [
    o.scenario.title.padEnd(48),
    `${o.resultCode}${o.signed ? ' signed' : ''}`.padEnd(14),
    ms(o.latencyMs).padStart(8),
    logged.padEnd(18),
    (o.durable ? 'yes' : 'no').padEnd(7),
    o.outboxLeft ? 'yes' : 'no',
  ];
  return `  ${cells.join('  ')}`;
}

async function main(argv: string[]): Promise<number> {
  const values = readOptions(argv, { repeat: { type: 'string', default: '3' } });
  if (typeof values === 'string') return usageExit(values, USAGE);
  if (values.help) return usageExit('', USAGE);
  const repeat = integerOption(values.repeat, 'repeat', 1, 50);
  if (typeof repeat === 'string') return usageExit(repeat, USAGE);

  console.log(`hanging sockets: ${HANGING_SCENARIOS.length} scenarios × ${repeat} calls`);
  console.log(machineLine());
  const { env } = await startEmulatorStack('hanging');
  const hanging = await startHangingServer();
  cleanups.push(() => hanging.close());
  const inspect = newDynamoClient();
  cleanups.push(async () => inspect.destroy());
  // The function's own log lines would drown the table.
  Object.assign(log, { info: () => {}, warn: () => {}, error: () => {} });
  const stack = {
    dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
    sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS ?? '',
    env: { ...process.env, ...env },
    hanging,
    inspect,
  };

  const outcomes: HangingOutcome[] = [];
  console.log('');
  console.log(
    `  ${'scenario'.padEnd(48)}  ${'answer'.padEnd(14)}  ${'latency'.padStart(8)}  ${'message log'.padEnd(18)}  durable  outbox left`,
  );
  for (const scenario of HANGING_SCENARIOS) {
    for (let n = 0; n < repeat; n++) {
      const outcome = await runHangingScenario(stack, scenario);
      outcomes.push(outcome);
      console.log(row(outcome));
    }
  }
  console.log('');
  console.log(`connections accepted by the hanging endpoint: ${hanging.accepted()}`);
  const failed = outcomes.filter((o) => o.problems.length > 0);
  if (failed.length === 0) {
    console.log(`PASSED: ${outcomes.length} calls, each answered within 4.8 s, the message log agreeing with every answer`);
    return 0;
  }
  console.error(`\nFAILED: ${failed.length} of ${outcomes.length} calls:`);
  for (const o of failed) console.error(`  ${o.scenario.title}: ${o.problems.join('; ')}`);
  return 1;
}

if (isEntryPoint(import.meta.url)) await runStandalone('the hanging-socket run', main);
