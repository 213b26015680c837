import * as z from 'zod';
import { config } from '../lib/config.ts';
import { safetySweep, type SafetySweepSummary } from '../lib/instances/safetySweep.ts';
import { log } from '../lib/log.ts';
import { sqsPublisher } from '../lib/outbox/publisher.ts';
import { sweepOutbox } from '../lib/outbox/relay.ts';
import { sqsClient } from '../lib/aws/clients.ts';
import { dynamoClient } from '../lib/aws/clients.ts';
import { instanceStore } from '../lib/store/instanceStore.ts';
import { outboxStore } from '../lib/store/outboxStore.ts';

/**
 * Two schedules (serverless.yml): every 5 minutes `{"job":"outbox"}` re-sends outbox events not handled within a
 * minute; every hour `{"job":"safety"}` re-queues stuck provisioning and flags instances the marketplace did not
 * freeze after their expiry.
 */
const inputSchema = z.object({ job: z.enum(['outbox', 'safety']) });

type OutboxSummary = { found: number; resent: number; failed: number };

export async function handler(input: unknown): Promise<OutboxSummary | SafetySweepSummary> {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) throw new Error('sweep input must be {"job":"outbox"} or {"job":"safety"}');
  const cfg = config();
  const deps = {
    outbox: outboxStore(dynamoClient(), cfg.MAIN_TABLE),
    publisher: sqsPublisher(sqsClient(), cfg.PROVISIONING_QUEUE_URL),
    log,
    now: Date.now,
  };
  if (parsed.data.job === 'outbox') return sweepOutbox(deps, { graceSeconds: 60, limit: 500 });
  return safetySweep(
    { ...deps, store: instanceStore(dynamoClient(), { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }) },
    {
      stuckAfterMinutes: cfg.STUCK_PROVISIONING_MINUTES,
      maxRequeues: cfg.STUCK_PROVISIONING_REQUEUES,
      graceHours: cfg.EXPIRY_GRACE_HOURS,
      limit: 500,
    },
  );
}
