/**
 * `koogallery messages` and `koogallery dlq`: the marketplace message log (every call and its verdict), and the
 * provisioning queue's dead-lettered lifecycle events, moved back once their cause is fixed.
 */
import { sqsReceivingClient } from '#lib/aws/clients.ts';
import { redrive } from '#lib/outbox/redrive.ts';
import { getMessage, listMessages } from '#lib/seller-api/routes/instances.ts';
import type { Command } from './command.ts';
import { positiveInt, text } from './command.ts';
import { callRoute, operatorAction, Refused } from './context.ts';
import { fields, show, table, withProgress } from './output.ts';

const DAY = 86_400_000;

/** A kept request or answer as readable lines: its redacted JSON, pretty, or its cut text marked as such. */
function bodyLines(label: string, kept: { truncated: boolean; body?: unknown; text?: string } | undefined): string[] {
  if (!kept) return [];
  if (kept.truncated) return ['', `${label} (truncated):`, kept.text ?? ''];
  return ['', `${label}:`, ...JSON.stringify(kept.body, null, 2).split('\n')];
}

const messageOptions = {
  from: { type: 'string' },
  to: { type: 'string' },
} as const;

export const messageCommands: Command[] = [
  {
    area: 'messages',
    name: 'list',
    synopsis:
      'messages list [--channel marketplace|usagePush|openApi|webhook] [--instance <instanceId>] [--order <orderId>] ' +
      '[--activity <activity>] [--result <code>] [--from <iso>] [--to <iso>] [--limit <n>] [--cursor <c>]',
    summary: 'the message log, newest first, filtered (default: the last 24 hours; at most 31 days at a time)',
    options: {
      ...messageOptions,
      channel: { type: 'string' },
      instance: { type: 'string' },
      order: { type: 'string' },
      activity: { type: 'string' },
      result: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    args: [0, 0],
    async run(ctx, { values }) {
      const limit = positiveInt(values, 'limit');
      const page = await callRoute(ctx, listMessages, {
        query: {
          from: text(values, 'from'),
          to: text(values, 'to'),
          channel: text(values, 'channel'),
          instanceId: text(values, 'instance'),
          orderId: text(values, 'order'),
          activity: text(values, 'activity'),
          resultCode: text(values, 'result'),
          limit: limit === undefined ? undefined : String(limit),
          cursor: text(values, 'cursor'),
        },
      });
      show(ctx.answer, page, () => [
        ...(page.items.length === 0
          ? ['no messages in this range']
          : table(
              ['AT', 'CORRELATION ID', 'CHANNEL', 'ACTIVITY', 'RESULT', 'INSTANCE', 'ORDER', 'REASON'],
              page.items.map((m) => [
                m.at,
                m.correlationId,
                m.channel,
                m.activity ?? m.claimedActivity,
                m.resultCode,
                m.instanceId,
                m.orderId,
                m.reason,
              ]),
            )),
        ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : []),
      ]);
      return 0;
    },
  },
  {
    area: 'messages',
    name: 'show',
    synopsis: 'messages show <correlationId> [--from <iso>] [--to <iso>]',
    summary: 'one message of the log with its request and answer (redacted), found in a time range (default: the last 7 days)',
    options: messageOptions,
    args: [1, 1],
    async run(ctx, { args, values }) {
      const correlationId = args[0]!;
      const to = text(values, 'to') ?? new Date(ctx.now()).toISOString();
      const from = text(values, 'from') ?? new Date(Date.parse(to) - 7 * DAY).toISOString();
      const found = await withProgress(ctx.io, `looking for ${correlationId} from ${from} to ${to}`, async () => {
        let cursor: string | undefined;
        do {
          const page = await callRoute(ctx, listMessages, { query: { from, to, limit: '200', cursor } });
          const match = page.items.find((m) => m.correlationId === correlationId);
          if (match) return match;
          cursor = page.nextCursor;
        } while (cursor);
        return undefined;
      });
      if (!found) throw new Refused(`no message ${correlationId} from ${from} to ${to}: widen the range with --from and --to`);
      const { message } = await callRoute(ctx, getMessage, { params: { messageId: found.messageId } });
      const { request, answer, ...record } = message;
      show(ctx.answer, message, () => [
        ...fields(Object.entries(record).map(([key, value]) => [key, typeof value === 'object' ? JSON.stringify(value) : value])),
        ...bodyLines('request', request),
        ...bodyLines('answer', answer),
      ]);
      return 0;
    },
  },
  {
    area: 'dlq',
    name: 'list',
    synopsis: 'dlq list [--max <n>]',
    summary: "the provisioning queue's dead-lettered lifecycle events (they stay there)",
    options: { max: { type: 'string' } },
    args: [0, 0],
    async run(ctx, { values }) {
      const max = positiveInt(values, 'max');
      const summary = await withProgress(ctx.io, 'reading the dead-letter queue', () =>
        redrive(sqsReceivingClient(), ctx.config().PROVISIONING_QUEUE_URL, { dryRun: true, ...(max ? { max } : {}) }),
      );
      show(ctx.answer, summary, () => [
        ...summary.listed.map((id) => `dead-lettered  ${id}`),
        `${summary.found} message(s) in ${summary.deadLetterQueueUrl}`,
      ]);
      return 0;
    },
  },
  {
    area: 'dlq',
    name: 'redrive',
    synopsis: 'dlq redrive [--max <n>]',
    summary: 'move the dead-lettered lifecycle events back to the provisioning queue, once their cause is fixed',
    options: { max: { type: 'string' } },
    args: [0, 0],
    async run(ctx, { values }) {
      const max = positiveInt(values, 'max');
      const queueUrl = ctx.config().PROVISIONING_QUEUE_URL;
      const summary = await operatorAction(ctx, 'dlq.redrive', queueUrl, () =>
        withProgress(ctx.io, 'moving dead-lettered events back', () => redrive(sqsReceivingClient(), queueUrl, max ? { max } : {})),
      );
      show(ctx.answer, summary, () => [
        ...summary.listed.map((id) => `moved back  ${id}`),
        `${summary.moved} message(s) moved from ${summary.deadLetterQueueUrl} back to ${queueUrl}`,
      ]);
      return 0;
    },
  },
];
