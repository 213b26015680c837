import * as z from 'zod';
import { NOTIFICATION_TYPES, type NotificationRecord } from '#lib/notifications/model.ts';
import { SellerApiError } from '../errors.ts';
import { defineRoute } from '../defineRoute.ts';

/** GET /seller/notifications, GET /seller/notifications/{notificationId}: the inbox of what the seller's people were told. */

export interface NotificationViews {
  list(options: { limit: number; cursor?: string | undefined }): Promise<{ items: NotificationRecord[]; nextCursor?: string }>;
  get(id: string): Promise<NotificationRecord | undefined>;
}

export interface NotificationRouteDeps {
  notifications: NotificationViews;
}

const NotificationViewSchema = z.object({
  id: z.string(),
  type: z.enum(NOTIFICATION_TYPES),
  at: z.string(),
  subject: z.string(),
  summary: z.string(),
  target: z.record(z.string(), z.string()),
  link: z.string().optional().describe('The seller API path that shows what it is about'),
  status: z
    .enum(['sending', 'sent', 'failed'])
    .describe('sent: every channel (topic, webhook) took it; failed: tried again at its next notice'),
  attempts: z.number().int(),
  lastError: z.string().optional(),
  sentAt: z.string().optional(),
});

const view = (record: NotificationRecord): z.infer<typeof NotificationViewSchema> => {
  const { id, type, at, subject, summary, target, link, status, attempts, lastError, sentAt } = record;
  return {
    id,
    type,
    at,
    subject,
    summary,
    target: target as Record<string, string>,
    status,
    attempts,
    ...(link ? { link } : {}),
    ...(lastError ? { lastError } : {}),
    ...(sentAt ? { sentAt } : {}),
  };
};

export const listNotifications = defineRoute({
  method: 'GET',
  path: '/seller/notifications',
  summary: 'What the seller’s people were told, newest first',
  scope: 'messages:read',
  query: z.strictObject({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().min(1).max(2048).optional(),
  }),
  response: z.object({ items: z.array(NotificationViewSchema), nextCursor: z.string().optional() }),
  errors: { 400: 'Bad limit or cursor' },
  async handle({ query }, deps: NotificationRouteDeps) {
    const page = await deps.notifications.list({ limit: query.limit, cursor: query.cursor });
    return { body: { items: page.items.map(view), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});

export const getNotification = defineRoute({
  method: 'GET',
  path: '/seller/notifications/{notificationId}',
  summary: 'One notification, with how it went out',
  scope: 'messages:read',
  params: z.strictObject({ notificationId: z.string().min(1).max(256) }),
  response: NotificationViewSchema,
  errors: { 404: 'No such notification' },
  async handle({ params }, deps: NotificationRouteDeps) {
    const found = await deps.notifications.get(params.notificationId);
    if (!found) throw new SellerApiError('not_found', `no notification ${params.notificationId}`);
    return { body: view(found) };
  },
});
