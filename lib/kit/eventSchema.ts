/**
 * A Kit event as it travels on the provisioning queue and rests in the Kit outbox (lib/kit/events.ts builds it):
 * checked when read back, so that a message the consumer cannot use is told apart from one it can.
 */
import * as z from 'zod/mini';
import '#lib/shared/zodMessages.ts';
import { KIT_EVENT_TYPES, type KitEvent } from './model.ts';

const record = z.record(z.string(), z.unknown());

export const kitEventSchema = z.object({
  eventId: z.string().check(z.regex(/^kit:[0-9a-f]{32}:[1-9]\d*$/, 'must be kit:<record>:<version>')),
  type: z.enum(KIT_EVENT_TYPES),
  tenantId: z.string().check(z.minLength(1), z.maxLength(64)),
  version: z.number().check(z.int(), z.positive()),
  occurredAt: z.string().check(z.minLength(1)),
  test: z.boolean(),
  data: z.union([z.object({ tenant: record }), z.object({ application: record }), z.object({ user: record }), z.object({ org: record })]),
});

/** The schema's output is the event the flow wrote: its payload is checked against the webhook contract on delivery. */
export const asKitEvent = (parsed: z.infer<typeof kitEventSchema>): KitEvent => parsed as unknown as KitEvent;
