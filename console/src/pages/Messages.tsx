import type { PageProps } from '../App.tsx';
import { href, navigate } from '../router.ts';
import { MESSAGE_CHANNELS, type Message } from '../types.ts';
import { DataTable, ErrorMessage, Field, Loading, Pager, time, useLoad, usePager, type PageOf } from '../ui.tsx';
import { isoFromLocal, localFromIso } from './Audit.tsx';

/**
 * The message log (scope messages:read): every marketplace call, usage push, Open API call and webhook delivery
 * with its verdict, newest first. Filters by instance, order, activity, channel, result and time are kept in the URL;
 * the default window is the last 24 hours. A row links to the message with its redacted request and answer.
 */

const PAGE_SIZE = 50;
const FILTERS = ['from', 'to', 'instanceId', 'orderId', 'activity', 'channel', 'resultCode'] as const;

export const messageLink = (m: Message) => href(['messages', m.messageId]);

export function Messages({ api, route }: PageProps) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, route.query[name] ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const filterKey = JSON.stringify(filters);
  const pager = usePager(filterKey);
  const list = useLoad(
    () => api.get<PageOf<Message>>('/seller/messages', { ...filters, limit: PAGE_SIZE, cursor: pager.cursor }),
    [api, filterKey, pager.cursor],
  );
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    navigate(['messages'], {
      from: isoFromLocal(value('from') ?? ''),
      to: isoFromLocal(value('to') ?? ''),
      instanceId: value('instanceId'),
      orderId: value('orderId'),
      activity: value('activity'),
      channel: value('channel'),
      resultCode: value('resultCode'),
    });
  };
  return (
    <>
      <h1>Message log</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter the message log">
        <Field label="From">
          <input type="datetime-local" name="from" value={localFromIso(filters.from)} />
        </Field>
        <Field label="To">
          <input type="datetime-local" name="to" value={localFromIso(filters.to)} />
        </Field>
        <Field label="Instance id">
          <input name="instanceId" value={filters.instanceId} maxLength={100} />
        </Field>
        <Field label="Order id">
          <input name="orderId" value={filters.orderId} maxLength={64} />
        </Field>
        <Field label="Activity" hint="e.g. newInstance, queryOrder">
          <input name="activity" value={filters.activity} maxLength={64} />
        </Field>
        <Field label="Channel">
          <select name="channel" value={filters.channel}>
            <option value="">Any channel</option>
            {MESSAGE_CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Result code" hint="e.g. 000000, 000005, 503">
          <input name="resultCode" value={filters.resultCode} maxLength={16} />
        </Field>
        <button type="submit">Apply filters</button>
      </form>
      <Loading loading={list.loading} />
      <ErrorMessage error={list.error} />
      <DataTable
        caption="Messages, newest first"
        rows={list.data?.items}
        rowKey={(m) => m.messageId}
        empty="No message matches these filters (the default window is the last 24 hours)."
        columns={[
          { title: 'When', cell: (m) => <a href={messageLink(m)}>{time(m.at)}</a> },
          { title: 'Channel', cell: (m) => m.channel },
          { title: 'Activity', cell: (m) => m.activity ?? m.claimedActivity ?? '' },
          { title: 'Order', cell: (m) => m.orderId ?? '' },
          {
            title: 'Instance',
            cell: (m) => (m.instanceId ? <a href={href(['instances', m.instanceId])}>{m.instanceId}</a> : ''),
          },
          { title: 'Result', cell: (m) => <code>{m.resultCode}</code> },
          { title: 'Reason', cell: (m) => m.reason ?? '' },
        ]}
      />
      <Pager pager={pager} nextCursor={list.data?.nextCursor} label="Message log" />
    </>
  );
}
