import * as z from 'zod';
import type { SellerActor } from '#lib/audit/records.ts';
import { keyActor, requireKey } from '../apiKeys.ts';
import type { RedriveSummary } from '#lib/outbox/redrive.ts';
import type { RetryResult } from '#lib/provisioning/retry.ts';
import { Refusal } from '#lib/shared/refusal.ts';
import { defineRoute } from '../defineRoute.ts';

/**
 * Replaying what failed, once its cause is fixed (scope `messages:replay`): a failed or stuck provisioning, and the
 * lifecycle events dead-lettered by the provisioning queue. A refused replay changes nothing.
 */

export interface ReplayRouteDeps {
  replay: {
    /** PROVISIONING_FAILED (or reported stuck) → PROVISIONING with a new `instance.created` event (lib/provisioning/retry.ts). */
    retryProvisioning(instanceId: string, by: SellerActor): Promise<RetryResult>;
    /** The provisioning dead-letter queue back to its queue, or only listed (lib/outbox/redrive.ts). */
    redriveProvisioning(options: { max: number; dryRun: boolean }): Promise<RedriveSummary>;
  };
}

export const retryProvisioningRoute = defineRoute({
  method: 'POST',
  path: '/seller/instances/{instanceId}/provisioning/retry',
  action: 'provisioning.retry',
  summary: 'Retry the provisioning of a PROVISIONING_FAILED instance, or of one reported stuck, once the cause is fixed',
  scope: 'messages:replay',
  params: z.strictObject({ instanceId: z.string().min(1).max(100) }),
  response: z.object({
    instanceId: z.string(),
    state: z.literal('PROVISIONING'),
    version: z.number().int().describe('The instance version the retry made'),
    eventId: z.string().describe('The new instance.created event sent to the provisioning queue'),
  }),
  successStatus: 202,
  errors: { 404: 'Unknown instance', 409: 'The instance is neither PROVISIONING_FAILED nor reported stuck (nothing was changed)' },
  async handle({ params, key }, deps: ReplayRouteDeps) {
    const result = await deps.replay.retryProvisioning(params.instanceId, keyActor(requireKey(key)));
    if (!result.ok) throw new Refusal(result.code, result.reason);
    return { body: { instanceId: params.instanceId, state: 'PROVISIONING' as const, version: result.version, eventId: result.eventId } };
  },
});

export const REDRIVE_MAX = { min: 1, max: 500, default: 100 } as const;

export const redriveProvisioningRoute = defineRoute({
  method: 'POST',
  path: '/seller/dlq/redrive',
  action: 'dlq.redrive',
  summary: "Move the provisioning queue's dead-lettered events back to the queue, or list them (dryRun)",
  scope: 'messages:replay',
  body: z.strictObject({
    dryRun: z.boolean().default(false).describe('Only list the dead-lettered events; move nothing'),
    max: z
      .number()
      .int()
      .min(REDRIVE_MAX.min)
      .max(REDRIVE_MAX.max)
      .default(REDRIVE_MAX.default)
      .describe('At most this many messages in one call'),
  }),
  response: z.object({
    dryRun: z.boolean(),
    found: z.number().int().describe('Messages read from the dead-letter queue'),
    moved: z.number().int().describe('Messages sent back to the provisioning queue and deleted from the dead-letter queue'),
    events: z.array(z.string()).describe('Their event ids (or the start of a body that is not an event)'),
  }),
  async handle({ body }, deps: ReplayRouteDeps) {
    const summary = await deps.replay.redriveProvisioning({ max: body.max, dryRun: body.dryRun });
    return { body: { dryRun: body.dryRun, found: summary.found, moved: summary.moved, events: summary.listed } };
  },
});

export const replayRoutes = [retryProvisioningRoute, redriveProvisioningRoute] as const;
