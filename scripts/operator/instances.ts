/**
 * `koogallery instances` and `koogallery provisioning`: the instances the marketplace created, their history, and
 * the provisioning of each (its failure, and a retry once the cause is fixed).
 */
import { dynamoClient, sqsClient } from '#lib/aws/clients.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { retryFailedProvisioning } from '#lib/provisioning/retry.ts';
import { getInstance, listInstances } from '#lib/seller-api/routes/instances.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import type { Command } from './command.ts';
import { positiveInt, testFilter, text } from './command.ts';
import { callRoute, operatorAction, Refused, type OperatorContext } from './context.ts';
import { fields, show, table } from './output.ts';

type Found = Awaited<ReturnType<typeof findInstance>>;

const findInstance = (ctx: OperatorContext, instanceId: string) => callRoute(ctx, getInstance, { params: { instanceId } });

/** The actor, and who asked for a seller's change: `seller (key k-1 billing)`, `seller (local:ops@host)`. */
function actorText(h: Found['history'][number]): string {
  if (!h.by) return h.actor;
  if (h.by.kind === 'key') return `${h.actor} (key ${h.by.keyId} ${h.by.name})`;
  return h.by.kind === 'operator' ? `${h.actor} (${h.by.principal})` : h.actor;
}

function historyLines(history: Found['history']): string[] {
  return table(
    ['V', 'AT', 'ACTOR', 'EVENT', 'FROM', 'TO', 'REASON'],
    history.map((h) => [h.version, h.at, actorText(h), h.event, h.from, h.to, h.reason]),
  );
}

function instanceLines({ instance: i, history }: Found): string[] {
  return [
    ...fields([
      ['instance', i.instanceId],
      ['state', i.state],
      ['order', `${i.orderId} / ${i.orderLineId}`],
      ['product', i.productId],
      ['test', i.test ? 'yes (debug traffic)' : undefined],
      ['expires', i.expireTime],
      ['front end', i.appInfo?.frontEndUrl],
      ['failure', i.provisioning?.failure ? `${i.provisioning.failure.reason} (at ${i.provisioning.failure.at})` : undefined],
      ['stuck since', i.provisioning?.stuckSince],
      ['overdue since', i.overdueSince],
      ['created', i.createdAt],
      ['updated', `${i.updatedAt} (version ${i.version})`],
    ]),
    '',
    'history',
    ...historyLines(history).map((line) => `  ${line}`),
  ];
}

/** The history entries of provisioning: the request (created, retried) and each outcome. */
const PROVISIONING_EVENTS = new Set([
  'instance.created',
  'instance.provisioned',
  'instance.provisioningFailed',
  'instance.provisioningRetried',
]);
/** The entries that asked for provisioning (the first request and each retry). */
const REQUESTS = new Set(['instance.created', 'instance.provisioningRetried']);

export const instanceCommands: Command[] = [
  {
    area: 'instances',
    name: 'list',
    synopsis: 'instances list [--state <STATE>] [--product <productId>] [--test|--real] [--limit <n>] [--cursor <c>]',
    summary: 'instances, newest first',
    options: {
      state: { type: 'string' },
      product: { type: 'string' },
      test: { type: 'boolean' },
      real: { type: 'boolean' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    args: [0, 0],
    async run(ctx, { values }) {
      const limit = positiveInt(values, 'limit');
      const page = await callRoute(ctx, listInstances, {
        query: {
          state: text(values, 'state'),
          productId: text(values, 'product'),
          test: testFilter(values),
          limit: limit === undefined ? undefined : String(limit),
          cursor: text(values, 'cursor'),
        },
      });
      show(ctx.answer, page, () => [
        ...(page.items.length === 0
          ? ['no instances']
          : table(
              ['INSTANCE', 'STATE', 'PRODUCT', 'ORDER', 'LINE', 'TEST', 'CREATED'],
              page.items.map((i) => [i.instanceId, i.state, i.productId, i.orderId, i.orderLineId, i.test ? 'test' : '', i.createdAt]),
            )),
        ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : []),
      ]);
      return 0;
    },
  },
  {
    area: 'instances',
    name: 'show',
    synopsis: 'instances show <instanceId>',
    summary: 'one instance (state, order, provisioning failure) and its history; the initial password is never shown',
    args: [1, 1],
    async run(ctx, { args }) {
      const found = await findInstance(ctx, args[0]!);
      show(ctx.answer, found, () => instanceLines(found));
      return 0;
    },
  },
  {
    area: 'provisioning',
    name: 'attempts',
    synopsis: 'provisioning attempts <instanceId>',
    summary: "an instance's provisioning: its state, the last failure, and every provisioning step of its history",
    args: [1, 1],
    async run(ctx, { args }) {
      const { instance, history } = await findInstance(ctx, args[0]!);
      const steps = history.filter((h) => PROVISIONING_EVENTS.has(h.event));
      const attempts = steps.filter((h) => REQUESTS.has(h.event)).length;
      const view = { instanceId: instance.instanceId, state: instance.state, attempts, provisioning: instance.provisioning ?? {}, steps };
      show(ctx.answer, view, () => [
        ...fields([
          ['instance', instance.instanceId],
          ['state', instance.state],
          ['attempts', String(attempts)],
          [
            'last failure',
            instance.provisioning?.failure ? `${instance.provisioning.failure.reason} (at ${instance.provisioning.failure.at})` : 'none',
          ],
          ['stuck since', instance.provisioning?.stuckSince],
        ]),
        '',
        ...historyLines(steps),
        ...(instance.state === 'PROVISIONING_FAILED'
          ? ['', `once the cause is fixed: koogallery provisioning retry ${instance.instanceId}`]
          : []),
      ]);
      return 0;
    },
  },
  {
    area: 'provisioning',
    name: 'retry',
    synopsis: 'provisioning retry <instanceId>',
    summary: 'provision a PROVISIONING_FAILED instance again, once its cause is fixed',
    args: [1, 1],
    async run(ctx, { args }) {
      const instanceId = args[0]!;
      const cfg = ctx.config();
      const result = await operatorAction(ctx, 'provisioning.retry', instanceId, async () => {
        const outcome = await retryFailedProvisioning(
          instanceId,
          {
            store: instanceStore(dynamoClient(), { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }),
            publisher: sqsPublisher(sqsClient(), cfg.PROVISIONING_QUEUE_URL),
            now: ctx.now,
            log: ctx.log,
            testTtlDays: cfg.TEST_INSTANCE_TTL_DAYS,
          },
          { kind: 'operator', principal: await ctx.principal() },
        );
        if (!outcome.ok) throw new Refused(`not retried: ${outcome.reason}`);
        return outcome;
      });
      show(ctx.answer, { instanceId, eventId: result.eventId }, () => [
        `provisioning of ${instanceId} queued again (event ${result.eventId})`,
      ]);
      return 0;
    },
  },
];
