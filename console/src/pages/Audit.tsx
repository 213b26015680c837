import type { PageProps } from '../App.tsx';
import { navigate } from '../router.ts';
import type { SellerAction } from '../types.ts';
import { DataTable, ErrorMessage, Field, Loading, Pager, time, useLoad, usePager, type PageOf } from '../ui.tsx';

/**
 * The audit log of seller actions (scope audit:read): who did what, to what, with what result. Filters by time,
 * actor, action, target and result are kept in the URL; the default window is the last 24 hours.
 */

const PAGE_SIZE = 50;
const FILTERS = ['from', 'to', 'actor', 'action', 'target', 'result'] as const;

/** A `datetime-local` value (the browser's zone) as the ISO time the API takes, or undefined. */
export function isoFromLocal(value: string): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** An ISO time as a `datetime-local` value in the browser's zone. */
export function localFromIso(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

const actorOf = (a: SellerAction) =>
  a.actor.kind === 'key'
    ? `${a.actor.name ?? ''} (${a.actor.keyId ?? ''})`
    : a.actor.kind === 'operator'
      ? (a.actor.principal ?? 'operator')
      : 'anonymous';

export function Audit({ api, route }: PageProps) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, route.query[name] ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const filterKey = JSON.stringify(filters);
  const pager = usePager(filterKey);
  const list = useLoad(
    () => api.get<PageOf<SellerAction>>('/seller/audit', { ...filters, limit: PAGE_SIZE, cursor: pager.cursor }),
    [api, filterKey, pager.cursor],
  );
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    navigate(['audit'], {
      from: isoFromLocal(value('from') ?? ''),
      to: isoFromLocal(value('to') ?? ''),
      actor: value('actor'),
      action: value('action'),
      target: value('target'),
      result: value('result'),
    });
  };
  return (
    <>
      <h1>Audit log</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter the audit log">
        <Field label="From">
          <input type="datetime-local" name="from" value={localFromIso(filters.from)} />
        </Field>
        <Field label="To">
          <input type="datetime-local" name="to" value={localFromIso(filters.to)} />
        </Field>
        <Field label="Actor" hint="keyId, operator principal or anonymous">
          <input name="actor" value={filters.actor} />
        </Field>
        <Field label="Action" hint="e.g. provisioning.retry">
          <input name="action" value={filters.action} />
        </Field>
        <Field label="Target" hint="name:value, e.g. instanceId:abc">
          <input name="target" value={filters.target} />
        </Field>
        <Field label="Result">
          <select name="result" value={filters.result}>
            <option value="">Any result</option>
            <option value="ok">ok</option>
            <option value="refused">refused</option>
            <option value="failed">failed</option>
          </select>
        </Field>
        <button type="submit">Apply filters</button>
      </form>
      <Loading loading={list.loading} />
      <ErrorMessage error={list.error} />
      <DataTable
        caption="Seller actions, newest first"
        rows={list.data?.items}
        rowKey={(a) => `${a.at}~${a.correlationId}`}
        empty="No action matches these filters (the default window is the last 24 hours)."
        columns={[
          { title: 'When', cell: (a) => time(a.at) },
          { title: 'Who', cell: actorOf },
          { title: 'Action', cell: (a) => <code>{a.action}</code> },
          {
            title: 'Target',
            cell: (a) =>
              Object.entries(a.target)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', '),
          },
          { title: 'Result', cell: (a) => [a.result.outcome, a.result.status, a.result.errorCode].filter(Boolean).join(' ') },
          { title: 'Channel', cell: (a) => a.channel },
        ]}
      />
      <Pager pager={pager} nextCursor={list.data?.nextCursor} label="Audit log" />
    </>
  );
}
