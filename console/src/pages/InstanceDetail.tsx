import { useState } from 'preact/hooks';
import type { PageProps } from '../App.tsx';
import { ApiError } from '../api.ts';
import { href } from '../router.ts';
import { allows } from '../scopes.ts';
import type { InstanceDetail as Detail, Message } from '../types.ts';
import { DataTable, ErrorMessage, Loading, Section, StateBadge, time, useLoad, type PageOf } from '../ui.tsx';

/**
 * One instance: what it is, its provisioning (attempts, last error, next retry) with a Retry button where a retry
 * is allowed (scope messages:replay), its history, and its marketplace messages of the last 30 days.
 */

const MESSAGE_DAYS = 30;

export function InstanceDetail({ api, me, instanceId }: PageProps & { instanceId: string }) {
  const detail = useLoad(() => api.get<Detail>(`/seller/instances/${encodeURIComponent(instanceId)}`), [api, instanceId]);
  const canMessages = allows(me.scopes, 'messages:read');
  const messages = useLoad(
    async () =>
      canMessages
        ? api.get<PageOf<Message>>('/seller/messages', {
            instanceId,
            from: new Date(Date.now() - MESSAGE_DAYS * 86_400_000).toISOString(),
            limit: 50,
          })
        : undefined,
    [api, instanceId],
  );
  return (
    <>
      <p>
        <a href={href(['instances'])}>← Instances</a>
      </p>
      <h1>
        Instance <code>{instanceId}</code>
      </h1>
      <Loading loading={detail.loading} />
      <ErrorMessage error={detail.error} />
      {detail.data ? (
        <>
          <Summary detail={detail.data} />
          <Provisioning detail={detail.data} canRetry={allows(me.scopes, 'messages:replay')} api={api} onRetried={detail.reload} />
          <Section title="History">
            <DataTable
              caption="Every state change, oldest first"
              rows={detail.data.history}
              rowKey={(h) => String(h.version)}
              empty="No history."
              columns={[
                { title: 'When', cell: (h) => time(h.at) },
                { title: 'Who', cell: (h) => h.actor },
                { title: 'What', cell: (h) => `${h.activity} (${h.event})` },
                { title: 'State', cell: (h) => `${h.from ?? '—'} → ${h.to}` },
                { title: 'Why', cell: (h) => h.reason ?? '' },
              ]}
            />
          </Section>
        </>
      ) : null}
      {canMessages ? (
        <Section title="Marketplace messages">
          <ErrorMessage error={messages.error} />
          <DataTable
            caption={`Messages about this instance, last ${MESSAGE_DAYS} days, newest first`}
            rows={messages.data?.items}
            rowKey={(m) => m.messageId}
            empty={`No message about this instance in the last ${MESSAGE_DAYS} days.`}
            columns={[
              { title: 'When', cell: (m) => time(m.at) },
              { title: 'Activity', cell: (m) => m.activity ?? m.claimedActivity ?? '' },
              { title: 'Channel', cell: (m) => m.channel },
              { title: 'Result', cell: (m) => m.resultCode },
              { title: 'Reason', cell: (m) => m.reason ?? '' },
            ]}
          />
        </Section>
      ) : null}
    </>
  );
}

function Summary({ detail }: { detail: Detail }) {
  const i = detail.instance;
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>
        <StateBadge state={i.state} /> {i.test ? '(test traffic)' : ''}
      </dd>
      <dt>Order</dt>
      <dd>
        {i.orderId} / {i.orderLineId}
      </dd>
      <dt>Product</dt>
      <dd>{i.productId ?? '—'}</dd>
      <dt>Expires</dt>
      <dd>{i.expireTime ?? '—'}</dd>
      <dt>Front end</dt>
      <dd>{i.appInfo?.frontEndUrl ?? '—'}</dd>
      <dt>Created</dt>
      <dd>{time(i.createdAt)}</dd>
      <dt>Updated</dt>
      <dd>
        {time(i.updatedAt)} (version {i.version})
      </dd>
    </dl>
  );
}

function Provisioning(props: { detail: Detail; canRetry: boolean; api: PageProps['api']; onRetried: () => void }) {
  const { detail, canRetry, api, onRetried } = props;
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const { instance, provisioning } = detail;
  const retryable = instance.state === 'PROVISIONING_FAILED' || instance.provisioning?.stuckSince !== undefined;
  const retry = async () => {
    setBusy(true);
    try {
      await api.post(`/seller/instances/${encodeURIComponent(instance.instanceId)}/provisioning/retry`);
      setOutcome({ ok: true, text: 'Retry sent: the instance is provisioning again.' });
      onRetried();
    } catch (error) {
      setOutcome({ ok: false, text: error instanceof ApiError ? error.message : 'The retry failed.' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Provisioning">
      <dl class="facts">
        <dt>Attempts</dt>
        <dd>{provisioning ? `${provisioning.attempts} (${provisioning.status})` : 'none yet'}</dd>
        <dt>Last error</dt>
        <dd>{provisioning?.lastError ?? instance.provisioning?.failure?.reason ?? '—'}</dd>
        {instance.provisioning?.stuckSince ? (
          <>
            <dt>Stuck since</dt>
            <dd>{time(instance.provisioning.stuckSince)}</dd>
          </>
        ) : null}
        {provisioning?.nextRetryAt ? (
          <>
            <dt>Next retry</dt>
            <dd>{time(provisioning.nextRetryAt)}</dd>
          </>
        ) : null}
      </dl>
      {retryable && canRetry ? (
        <button type="button" onClick={retry} disabled={busy}>
          Retry provisioning
        </button>
      ) : null}
      {outcome ? (
        <p role="status" class={outcome.ok ? 'ok' : 'error'}>
          {outcome.text}
        </p>
      ) : null}
    </Section>
  );
}
