/**
 * Moves the provisioning queue's dead-lettered lifecycle events back to the queue, once their cause is fixed.
 *
 *   npm run redrive                 # move them all (at most 1000)
 *   npm run redrive -- --dry-run    # only list them (event ids)
 *   npm run redrive -- --max 10
 *
 * Reads PROVISIONING_QUEUE_URL and the standard AWS_* variables (e.g. AWS_ENDPOINT_URL_SQS locally); the DLQ is the
 * queue's RedrivePolicy target. Exit codes: 0 done, 1 failed, 2 bad arguments or environment.
 */
import * as z from 'zod';
import { redrive } from '#lib/outbox/redrive.ts';
import { sqsReceivingClient } from '#lib/aws/clients.ts';
import { cliEnvironment, consoleOutput, parseCommandLine, runIfMain, type CliOutput } from './local/cli.ts';

export const USAGE = `Usage:
  redrive [--dry-run] [--max <n>]`;

export async function runRedriveCli(argv: readonly string[], queueUrl: string, io: CliOutput = consoleOutput): Promise<number> {
  // parseCommandLine wants a command: "move" is implied.
  const line = parseCommandLine(['move', ...argv], { 'dry-run': { type: 'boolean' }, max: { type: 'string' } }, USAGE, io);
  if (!line.ok) return line.exitCode;
  const max = line.values.max === undefined ? undefined : Number(line.values.max);
  if (line.target !== undefined || (max !== undefined && (!Number.isInteger(max) || max <= 0))) {
    return line.usageError(
      line.target !== undefined ? `unexpected argument ${JSON.stringify(line.target)}` : '--max must be a positive integer',
    );
  }
  const dryRun = line.values['dry-run'] ?? false;
  const summary = await redrive(sqsReceivingClient(), queueUrl, { ...(max !== undefined ? { max } : {}), dryRun });
  for (const id of summary.listed) io.out(`${dryRun ? 'dead-lettered' : 'moved back'}  ${id}`);
  io.out(
    dryRun
      ? `${summary.found} message(s) in ${summary.deadLetterQueueUrl}`
      : `${summary.moved} message(s) moved from ${summary.deadLetterQueueUrl} back to ${queueUrl}`,
  );
  return 0;
}

const envSchema = z.object({ PROVISIONING_QUEUE_URL: z.url({ error: 'must be set (the provisioning queue URL)' }) });

runIfMain(import.meta.url, async () => {
  const env = cliEnvironment(envSchema);
  if (!env) return 2;
  return runRedriveCli(process.argv.slice(2), env.PROVISIONING_QUEUE_URL);
});
