/**
 * The seller's provisioning commands (until the seller API has them):
 *
 *   npm run provisioning -- show <instanceId>     the instance (state, failure, order terms) and its history
 *   npm run provisioning -- retry <instanceId>    retry a PROVISIONING_FAILED instance once its cause is fixed
 *
 * It reads the same settings as the functions (MAIN_TABLE, AUDIT_TABLE, PROVISIONING_QUEUE_URL, AWS endpoints);
 * under `npm start` they are in .local/env (printed at start-up).
 */
import { z } from 'zod';
import { log } from '#lib/log.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { sqsClient } from '#lib/aws/clients.ts';
import { retryFailedProvisioning } from '#lib/provisioning/retry.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';

const USAGE = 'usage: npm run provisioning -- show|retry <instanceId>';

const argsSchema = z.tuple([z.enum(['show', 'retry']), z.string().trim().min(1).max(64)]);
const envSchema = z.object({
  MAIN_TABLE: z.string().min(1),
  AUDIT_TABLE: z.string().min(1),
  PROVISIONING_QUEUE_URL: z.string().url(),
  TEST_INSTANCE_TTL_DAYS: z.coerce.number().int().positive().default(7),
});

async function main(argv: string[]): Promise<number> {
  const args = argsSchema.safeParse(argv);
  if (!args.success) {
    console.error(USAGE);
    return 2;
  }
  const env = envSchema.safeParse(process.env);
  if (!env.success) {
    console.error(`missing settings: ${env.error.issues.map((i) => i.path.join('.')).join(', ')}\n${USAGE}`);
    return 2;
  }
  const [command, instanceId] = args.data;
  const store = instanceStore(dynamoClient(), { main: env.data.MAIN_TABLE, audit: env.data.AUDIT_TABLE });
  if (command === 'show') {
    const instance = await store.getInstance(instanceId);
    if (!instance) {
      console.error(`no instance ${instanceId}`);
      return 1;
    }
    // appInfo may hold a password: shown as present, never printed.
    const { appInfo, ...rest } = instance;
    const shown = { ...rest, ...(appInfo ? { appInfo: { ...appInfo, ...(appInfo.password ? { password: '(set)' } : {}) } } : {}) };
    console.log(JSON.stringify({ instance: shown, history: await store.getHistory(instanceId) }, null, 2));
    return 0;
  }
  const result = await retryFailedProvisioning(instanceId, {
    store,
    publisher: sqsPublisher(sqsClient(), env.data.PROVISIONING_QUEUE_URL),
    now: Date.now,
    log,
    testTtlDays: env.data.TEST_INSTANCE_TTL_DAYS,
  });
  if (!result.ok) {
    console.error(`not retried: ${result.reason}`);
    return 1;
  }
  console.log(`provisioning of ${instanceId} queued again (event ${result.eventId})`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
