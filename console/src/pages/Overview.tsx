import type { Api } from '../api.ts';
import type { PageProps } from '../App.tsx';
import { href } from '../router.ts';
import { pushCounts } from '../pushCounts.ts';
import { allows } from '../scopes.ts';
import {
  INSTANCE_STATES,
  type Instance,
  type InstanceState,
  type Message,
  type Notification,
  type StatementHeader,
  type Supervision,
  type SupervisionState,
} from '../types.ts';
import { DataTable, ErrorMessage, Loading, Section, StateBadge, time, useLoad, type PageOf } from '../ui.tsx';

/**
 * The overview: instances by state, failed and stuck provisioning, the dead-letter queue, the latest statement and
 * the latest notifications, each card shown only when the key's scopes allow its calls. About eight small calls.
 */

/** Counted up to this many per state; more shows as "100+". */
const COUNT_LIMIT = 100;
const DAY = 86_400_000;

interface StateCount {
  state: InstanceState;
  count: number;
  more: boolean;
  items: Instance[];
}

async function instancesByState(api: Api): Promise<StateCount[]> {
  return Promise.all(
    INSTANCE_STATES.map(async (state) => {
      const page = await api.get<PageOf<Instance>>('/seller/instances', { state, limit: COUNT_LIMIT });
      return { state, count: page.items.length, more: page.nextCursor !== undefined, items: page.items };
    }),
  );
}

/** The states in which a supervision flow waits for the seller's delivery proofs. */
export const WAITING_FOR_SELLER: readonly SupervisionState[] = ['AWAITING_DELIVERY', 'REJECTED'];

async function supervisionWaiting(api: Api): Promise<{ state: SupervisionState; count: number; more: boolean }[]> {
  return Promise.all(
    WAITING_FOR_SELLER.map(async (state) => {
      const page = await api.get<PageOf<Supervision>>('/seller/supervision', { state, limit: COUNT_LIMIT });
      return { state, count: page.items.length, more: page.nextCursor !== undefined };
    }),
  );
}

const PUSH_LIMIT = 200;

/** The console route of a seller API path a notification links to, when the console has that page. */
export function consoleLinkOf(apiPath: string | undefined): string | undefined {
  const instance = apiPath && /^\/seller\/instances\/([^/?#]+)/.exec(apiPath);
  return instance ? href(['instances', decodeURIComponent(instance[1]!)]) : undefined;
}

/** Counts by state, each a card linking to that page filtered by the state ("25+" when there are more). */
function StateCards({ page, counts }: { page: string; counts: { state: string; count: number; more: boolean }[] | undefined }) {
  return (
    <ul class="cards">
      {counts?.map((s) => (
        <li key={s.state}>
          <a href={href([page], { state: s.state })}>
            <strong class="count">
              {s.count}
              {s.more ? '+' : ''}
            </strong>{' '}
            <StateBadge state={s.state} />
          </a>
        </li>
      ))}
    </ul>
  );
}

const instanceLink = (i: Instance) => <a href={href(['instances', i.instanceId])}>{i.instanceId}</a>;

export function Overview({ api, me }: PageProps) {
  const canInstances = allows(me.scopes, 'instances:read');
  const canMessages = allows(me.scopes, 'messages:read');
  const canStatements = allows(me.scopes, 'statements:read');
  const states = useLoad(async () => (canInstances ? instancesByState(api) : undefined), [api]);
  const supervision = useLoad(async () => (canInstances ? supervisionWaiting(api) : undefined), [api]);
  const dlq = useLoad(async () => (canMessages ? api.get<{ queue: string; depth: number }>('/seller/dlq') : undefined), [api]);
  const notifications = useLoad(
    async () => (canMessages ? api.get<PageOf<Notification>>('/seller/notifications', { limit: 5 }) : undefined),
    [api],
  );
  const statement = useLoad(
    async () => (canStatements ? (await api.get<PageOf<StatementHeader>>('/seller/statements', { limit: 1 })).items[0] : undefined),
    [api],
  );
  const pushes = useLoad(
    async () =>
      canMessages
        ? pushCounts(
            await api.get<PageOf<Message>>('/seller/messages', {
              channel: 'usagePush',
              from: new Date(Date.now() - DAY).toISOString(),
              limit: PUSH_LIMIT,
            }),
          )
        : undefined,
    [api],
  );
  const ready = [states, supervision, dlq, notifications, statement, pushes].every((l) => !l.loading);
  const failed = states.data?.find((s) => s.state === 'PROVISIONING_FAILED')?.items ?? [];
  const stuck = states.data?.find((s) => s.state === 'PROVISIONING')?.items.filter((i) => i.provisioning?.stuckSince) ?? [];

  return (
    <div class="overview" data-ready={ready ? 'true' : undefined}>
      <h1>Overview</h1>
      {canInstances ? (
        <Section title="Instances by state">
          <Loading loading={states.loading} />
          <ErrorMessage error={states.error} />
          <StateCards page="instances" counts={states.data} />
        </Section>
      ) : null}
      {canInstances && states.data ? (
        <Section title="Provisioning that needs you">
          <DataTable
            caption="Failed or stuck provisioning"
            rows={[...failed, ...stuck].slice(0, 10)}
            rowKey={(i) => i.instanceId}
            empty="No failed or stuck provisioning."
            columns={[
              { title: 'Instance', cell: instanceLink },
              { title: 'State', cell: (i) => (i.provisioning?.stuckSince ? 'stuck' : <StateBadge state={i.state} />) },
              { title: 'Why', cell: (i) => i.provisioning?.failure?.reason ?? `stuck since ${time(i.provisioning?.stuckSince)}` },
            ]}
          />
        </Section>
      ) : null}
      {canInstances ? (
        <Section title="Supervision flows waiting for the seller">
          <ErrorMessage error={supervision.error} />
          <StateCards page="supervision" counts={supervision.data} />
        </Section>
      ) : null}
      {canMessages ? (
        <Section title="Dead-letter queue">
          <ErrorMessage error={dlq.error} />
          {dlq.data ? (
            <p>
              <strong class="count">{dlq.data.depth}</strong> lifecycle event{dlq.data.depth === 1 ? '' : 's'} in{' '}
              <code>{dlq.data.queue}</code>.{' '}
              {dlq.data.depth > 0 ? (
                <span>
                  Fix the cause, then redrive them: <code>npx koogallery dlq redrive</code>.
                </span>
              ) : null}
            </p>
          ) : null}
        </Section>
      ) : null}
      {canMessages ? (
        <Section title="Usage pushed in the last 24 hours">
          <ErrorMessage error={pushes.error} />
          {pushes.data ? (
            <p>
              <a href={href(['messages'], { channel: 'usagePush' })}>
                <strong class="count">{pushes.data.acceptedRecords}</strong> usage record{pushes.data.acceptedRecords === 1 ? '' : 's'}{' '}
                accepted
              </a>{' '}
              in {pushes.data.pushes - pushes.data.refusedPushes} push{pushes.data.pushes - pushes.data.refusedPushes === 1 ? '' : 'es'},{' '}
              <a href={href(['messages'], { channel: 'usagePush' })} class={pushes.data.refusedPushes > 0 ? 'error-text' : undefined}>
                {pushes.data.refusedPushes} push{pushes.data.refusedPushes === 1 ? '' : 'es'} refused or failed (
                {pushes.data.refusedRecords} record{pushes.data.refusedRecords === 1 ? '' : 's'})
              </a>
              {pushes.data.more ? ` (the latest ${PUSH_LIMIT} pushes)` : ''}.
            </p>
          ) : null}
        </Section>
      ) : null}
      {canStatements ? (
        <Section title="Latest statement">
          <ErrorMessage error={statement.error} />
          {statement.data ? (
            <p>
              <a href={href(['statements', statement.data.period])}>
                <strong>{statement.data.period}</strong>
              </a>{' '}
              {statement.data.status}, version {statement.data.latestVersion}, {statement.data.lineCount} lines,{' '}
              <span class={statement.data.problems > 0 ? 'error-text' : undefined}>
                {statement.data.problems} problem{statement.data.problems === 1 ? '' : 's'}
              </span>
              {Object.entries(statement.data.totals).map(([currency, t]) => ` · ${currency} net ${t.net}`)}
            </p>
          ) : statement.loading ? null : (
            <p class="muted">No statement yet.</p>
          )}
        </Section>
      ) : null}
      {canMessages ? (
        <Section title="Recent notifications">
          <ErrorMessage error={notifications.error} />
          <DataTable
            caption="The latest notifications"
            rows={notifications.data?.items}
            rowKey={(n) => n.id}
            empty="Nothing was notified yet."
            columns={[
              { title: 'When', cell: (n) => time(n.at) },
              {
                title: 'What',
                cell: (n) => {
                  const link = consoleLinkOf(n.link);
                  return link ? <a href={link}>{n.subject}</a> : n.subject;
                },
              },
              { title: 'Sent', cell: (n) => n.status },
            ]}
          />
        </Section>
      ) : null}
    </div>
  );
}
