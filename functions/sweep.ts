import * as z from 'zod';
import { config } from '#lib/config.ts';
import { sweepDeps } from '#lib/instances/sweepDeps.ts';
import { safetySweep, type SafetySweepSummary } from '#lib/instances/safetySweep.ts';
import { log } from '#lib/log.ts';
import { sweepOutbox } from '#lib/outbox/relay.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * Two schedules (serverless.yml): every 5 minutes `{"job":"outbox"}` re-sends outbox events not handled within a
 * minute; every hour `{"job":"safety"}` re-queues stuck provisioning and flags instances the marketplace did not
 * freeze after their expiry.
 */
const inputSchema = z.object({ job: z.enum(['outbox', 'safety']) });

type OutboxSummary = { found: number; resent: number; failed: number };

const deps = lazy(() => sweepDeps(config(), log));

export async function handler(input: unknown): Promise<OutboxSummary | SafetySweepSummary> {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) throw new Error('sweep input must be {"job":"outbox"} or {"job":"safety"}');
  if (parsed.data.job === 'outbox') return sweepOutbox(deps(), { graceSeconds: 60, limit: 500 });
  return safetySweep(deps(), deps().safety);
}
