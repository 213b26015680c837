import * as z from 'zod';
import { config } from '#lib/config.ts';
import { sweepDeps } from '#lib/instances/sweepDeps.ts';
import { safetySweep, type SafetySweepSummary } from '#lib/instances/safetySweep.ts';
import { log } from '#lib/log.ts';
import { sweepOutbox } from '#lib/outbox/relay.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * Two schedules (serverless.yml): every 5 minutes `{"job":"outbox"}` re-sends outbox events (lifecycle and Kit, each
 * outbox with its own limit) not handled within a minute; every hour `{"job":"safety"}` re-queues stuck provisioning and flags instances the marketplace did not
 * freeze after their expiry.
 */
const inputSchema = z.object({ job: z.enum(['outbox', 'safety']) });

type Relayed = { found: number; resent: number; failed: number };
/** The lifecycle outbox's counts, and the Kit outbox's apart (each swept with its own limit). */
type OutboxSummary = Relayed & { kit: Relayed };

const deps = lazy(() => sweepDeps(config(), log));

export async function handler(input: unknown): Promise<OutboxSummary | SafetySweepSummary> {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) throw new Error('sweep input must be {"job":"outbox"} or {"job":"safety"}');
  if (parsed.data.job === 'outbox') {
    const d = deps();
    const lifecycle = await sweepOutbox(d, { graceSeconds: 60, limit: 500 });
    const kit = await sweepOutbox({ ...d, outbox: d.kitOutbox, publisher: d.kitPublisher }, { graceSeconds: 60, limit: 500, name: 'kit' });
    return { ...lifecycle, kit };
  }
  return safetySweep(deps(), deps().safety);
}
