/**
 * `koogallery notifications`: what the seller's people were told (a new paid order, a failed provisioning, a refused
 * usage window, supervision waiting or near a deadline, a statement, bill differences, dead letters), each with
 * how it went out on the topic and the webhook, and the seller API path to act on.
 */
import { getNotification, listNotifications } from '#lib/seller-api/routes/notifications.ts';
import type { Command } from './command.ts';
import { positiveInt, text } from './command.ts';
import { callRoute } from './context.ts';
import { fields, show, table } from './output.ts';

const targetText = (target: Record<string, string>): string =>
  Object.entries(target)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');

export const notificationCommands: Command[] = [
  {
    area: 'notifications',
    name: 'list',
    synopsis: 'notifications list [--limit <n>] [--cursor <c>]',
    summary: 'what the seller’s people were told, newest first, with how each went out',
    options: { limit: { type: 'string' }, cursor: { type: 'string' } },
    args: [0, 0],
    async run(ctx, { values }) {
      const limit = positiveInt(values, 'limit');
      const page = await callRoute(ctx, listNotifications, {
        query: { limit: limit === undefined ? undefined : String(limit), cursor: text(values, 'cursor') },
      });
      show(ctx.answer, page, () => [
        ...(page.items.length === 0
          ? ['no notifications yet']
          : table(
              ['AT', 'TYPE', 'STATUS', 'SUBJECT', 'ID'],
              page.items.map((n) => [n.at, n.type, n.status, n.subject, n.id]),
            )),
        ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : []),
      ]);
      return 0;
    },
  },
  {
    area: 'notifications',
    name: 'show',
    synopsis: 'notifications show <id>',
    summary: 'one notification: what happened, what to do, what it is about, how it went out',
    args: [1, 1],
    async run(ctx, { args }) {
      const n = await callRoute(ctx, getNotification, { params: { notificationId: args[0]! } });
      show(ctx.answer, n, () => [
        ...fields([
          ['id', n.id],
          ['type', n.type],
          ['at', n.at],
          ['subject', n.subject],
          ['about', targetText(n.target)],
          ['seller API', n.link ? `GET ${n.link}` : undefined],
          ['status', `${n.status} (${n.attempts} attempt${n.attempts === 1 ? '' : 's'})`],
          ['sent', n.sentAt],
          ['last error', n.lastError],
        ]),
        '',
        ...n.summary.split('\n'),
      ]);
      return 0;
    },
  },
];
