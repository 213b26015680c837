/**
 * The Kit events as the seller's webhook receives them (docs/webhook.md, "Joint-operation events"): a change of a
 * tenant (the buyer's enterprise), an application (its OAuth client, never its secret), a user authorised for an
 * application, or a department. Each carries the record as it now stands and its version, so that the product can
 * apply the newest version of each record and drop older or repeated ones.
 */
import * as z from 'zod';
import { KIT_EVENT_TYPES, type KitEvent, type KitEventType } from '#lib/kit/model.ts';

export { KIT_EVENT_TYPES };

const id64 = z.string().min(1).max(64);
const text = (max: number) => z.string().max(max);

const tenantSchema = z.object({
  tenantId: id64,
  tenantCode: text(64),
  name: text(255),
  domainName: text(255),
  status: z.enum(['ACTIVE', 'DELETED']),
  instanceIds: z.array(id64).max(1000),
  test: z.boolean(),
});

const applicationSchema = z.object({
  tenantId: id64,
  appId: id64,
  clientId: text(64),
  instanceId: text(64),
  status: z.enum(['ACTIVE', 'DELETED']),
  test: z.boolean(),
});

/** The user fields the Kit stores; mobile and e-mail are personal data the Kit does not keep. */
const userSchema = z.object({
  tenantId: id64,
  appId: id64,
  userName: id64,
  name: text(64),
  orgCode: text(64),
  role: z.enum(['admin', 'user']),
  enabled: z.boolean(),
  status: z.enum(['AUTHORISED', 'REVOKED', 'DELETED']),
  position: text(64).optional(),
  employeeCode: text(64).optional(),
  employeeType: z.number().int().optional(),
  workPlace: text(256).optional(),
  entryDate: text(20).optional(),
  extension: z.record(z.string(), z.unknown()).optional(),
  test: z.boolean(),
});

const orgSchema = z.object({
  tenantId: id64,
  orgCode: id64,
  orgName: text(128),
  parentCode: text(64),
  status: z.enum(['ACTIVE', 'ARCHIVED', 'DELETED']),
  test: z.boolean(),
});

const envelope = {
  /** `kit:<record>:<version>`: one id per change of a record, the key a receiver dedupes on. */
  id: z
    .string()
    .max(200)
    .regex(/^kit:[0-9a-f]{32}:[1-9]\d*$/, 'must be kit:<record>:<version>'),
  occurredAt: z.iso.datetime({ offset: true }),
  test: z.boolean(),
  tenantId: id64,
  /** The record's version after this change: apply an event only if it is newer than the version held. */
  version: z.number().int().positive(),
};

const typesOf = <P extends string>(prefix: P) =>
  KIT_EVENT_TYPES.filter((t): t is Extract<KitEventType, `${P}.${string}`> => t.startsWith(`${prefix}.`));
const enumOf = <P extends string>(prefix: P) => z.enum(typesOf(prefix) as [Extract<KitEventType, `${P}.${string}`>]);

/** The JSON body of a Kit event delivery. Unknown fields are dropped. */
export const kitWebhookEventSchema = z.discriminatedUnion('kind', [
  z.object({ ...envelope, kind: z.literal('tenant'), type: enumOf('tenant'), tenant: tenantSchema }),
  z.object({ ...envelope, kind: z.literal('application'), type: enumOf('application'), application: applicationSchema }),
  z.object({ ...envelope, kind: z.literal('user'), type: enumOf('user'), user: userSchema }),
  z.object({ ...envelope, kind: z.literal('org'), type: enumOf('org'), org: orgSchema }),
]);

export type KitWebhookEvent = z.infer<typeof kitWebhookEventSchema>;

/** Whether a delivery's type is a Kit event's. */
export const isKitWebhookType = (type: unknown): boolean =>
  typeof type === 'string' && (KIT_EVENT_TYPES as readonly string[]).includes(type);

/**
 * The body the webhook receives for a Kit event. The record is passed as stored; the webhook client checks the whole
 * body against the contract (`kitWebhookEventSchema`) before it sends it.
 */
export function kitWebhookEventFor(event: KitEvent): KitWebhookEvent {
  const [kind, record] = Object.entries(event.data)[0] ?? ['', {}];
  return {
    id: event.eventId,
    type: event.type,
    kind,
    occurredAt: event.occurredAt,
    test: event.test,
    tenantId: event.tenantId,
    version: event.version,
    [kind]: record,
  } as KitWebhookEvent;
}
