/**
 * What the seller's people are told: business events worth a person's attention, each once, with the ids (and the
 * seller API path) to act on. Published to the stack's SNS topic (e-mail subscription optional) and to an optional
 * webhook signed the Standard Webhooks way; every one is also kept for the seller API's inbox
 * (`GET /seller/notifications`).
 */
import * as z from 'zod';

export const NOTIFICATION_TYPES = [
  'order.paid',
  'provisioning.failed',
  'provisioning.stuck',
  'usage.refused',
  'supervision.awaitingProofs',
  'supervision.deadline',
  'statement.ready',
  'statement.problems',
  'reconciliation.differences',
  'dlq.notEmpty',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

const id = z.string().min(1).max(256);

export const NotificationSchema = z.strictObject({
  /** Unique per event: the same event noticed twice has the same id and is told once. */
  id,
  type: z.enum(NOTIFICATION_TYPES),
  at: z.string().datetime(),
  /** One line for a person (an e-mail's subject). */
  subject: z.string().min(1).max(100),
  /** A few lines: what happened and what to do. */
  summary: z.string().min(1).max(2_000),
  /** What it is about. */
  target: z.strictObject({
    instanceId: id.optional(),
    orderId: id.optional(),
    orderLineId: id.optional(),
    month: z
      .string()
      .regex(/^\d{4}-\d{2}$/)
      .optional(),
    queue: id.optional(),
  }),
  /** The seller API path that shows it (GET), e.g. /seller/instances/{id}. */
  link: z.string().startsWith('/seller/').max(512).optional(),
});
export type Notification = z.infer<typeof NotificationSchema>;

/** How a notification went out: `sent` once every channel took it; `failed` keeps the first error and is tried again. */
export interface NotificationRecord extends Notification {
  status: 'sending' | 'sent' | 'failed';
  attempts: number;
  lastError?: string;
  sentAt?: string;
}

/** Cuts a subject to SNS's 100 characters. */
export const subjectLine = (text: string): string => (text.length <= 100 ? text : `${text.slice(0, 99)}…`);
