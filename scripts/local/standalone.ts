/**
 * What the standalone benchmark and resilience scripts share: the things to stop when they end (emulators, clients),
 * run in reverse order whatever happens, and SIGINT/SIGTERM stopping them (exit 130/143); reading their options.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createResources, startDynamoDbLocal, startFauxqs } from './emulators.ts';
import { awsEnv, resourceEnv } from './env.ts';
import { freePort, stopAllGroups } from './processes.ts';
import { errorMessage } from '#lib/shared/errors.ts';

export type Cleanup = () => Promise<void>;

/** Stopped in reverse order at the end of the run, on an error and on SIGINT/SIGTERM. */
export const cleanups: Cleanup[] = [];

async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const stop = cleanups.pop()!;
    await stop().catch((error: unknown) => console.error(`cleanup: ${errorMessage(error)}`));
  }
}

/**
 * Runs `main` with the script's arguments and sets the exit code. Interrupted, it stops everything in `cleanups` and
 * every process group it started (also a DynamoDB Local still starting up); a run's errors after an interrupt are not
 * reported (the emulators are going away under it).
 */
export async function runStandalone(name: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  let interrupted = false;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: stopping what ${name} started`);
      void cleanup()
        .then(() => stopAllGroups())
        .finally(() => process.exit(code));
    });
  }
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    if (!interrupted) console.error(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

/**
 * DynamoDB Local (in memory, a free port) and fauxqs for one run, with the tables and queues of `stage`; both are
 * added to `cleanups`. Points this process's AWS SDK at them (never at a developer's AWS profile) and returns the
 * settings the functions read (MAIN_TABLE, AUDIT_TABLE, PROVISIONING_QUEUE_URL, STAGE).
 */
export async function startEmulatorStack(stage: string): Promise<{ env: Record<string, string>; dynamoPid: number | undefined }> {
  const dynamo = await startDynamoDbLocal({ port: await freePort() });
  cleanups.push(() => dynamo.stop());
  const fauxqs = await startFauxqs({ port: 0 });
  cleanups.push(() => fauxqs.stop());
  const resources = await createResources({ stage, dynamoEndpoint: dynamo.endpoint, sqsEndpoint: fauxqs.endpoint });
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_ENDPOINT_URL']) delete process.env[name];
  Object.assign(process.env, awsEnv({ dynamo: dynamo.endpoint, sqs: fauxqs.endpoint }));
  return { env: resourceEnv(resources), dynamoPid: dynamo.process.pid };
}

/** The script's options (with `--help`/`-h` added), or the message of what is wrong with the command line. */
export function readOptions(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): Record<string, string | boolean | undefined> | string {
  try {
    return parseArgs({ args: argv, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    return errorMessage(error);
  }
}

/**
 * What a script does when its options are not to run with: `problem` says what is wrong (it and the usage go to
 * stderr, exit code 2), or is '' for --help (the usage on stdout, exit code 0).
 */
export function usageExit(problem: string, usage: string): number {
  if (problem) console.error(`error: ${problem}`);
  (problem ? console.error : console.log)(usage);
  return problem ? 2 : 0;
}

/** An integer option within [min, max], or the message saying what it must be. */
export function integerOption(raw: unknown, name: string, min: number, max: number): number | string {
  const n = Number(raw);
  return Number.isInteger(n) && n >= min && n <= max ? n : `--${name} must be an integer from ${min} to ${max}`;
}
