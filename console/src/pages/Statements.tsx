import { useState } from 'preact/hooks';
import type { PageProps } from '../App.tsx';
import { ApiError } from '../api.ts';
import { href, navigate } from '../router.ts';
import { allows } from '../scopes.ts';
import type { StatementHeader } from '../types.ts';
import { DataTable, ErrorMessage, Field, Loading, Pager, time, useLoad, usePager, type PageOf } from '../ui.tsx';

/**
 * Monthly statements (scope statements:read), newest month first: status, latest version, lines, problems and
 * totals per currency, each month a link to its page; with statements:write, a form that starts a month's run.
 */

const PAGE_SIZE = 24;

export const totalsText = (totals: StatementHeader['totals']): string =>
  Object.entries(totals)
    .map(([currency, t]) => `${currency} net ${t.net} (gross ${t.gross})`)
    .join(' · ') || '—';

export function Statements({ api, me }: PageProps) {
  const pager = usePager('');
  const list = useLoad(
    () => api.get<PageOf<StatementHeader>>('/seller/statements', { limit: PAGE_SIZE, cursor: pager.cursor }),
    [api, pager.cursor],
  );
  return (
    <>
      <h1>Statements</h1>
      {allows(me.scopes, 'statements:write') ? <RunForm api={api} /> : null}
      <Loading loading={list.loading} />
      <ErrorMessage error={list.error} />
      <DataTable
        caption="Monthly statements, newest month first"
        rows={list.data?.items}
        rowKey={(s) => s.period}
        empty="No statement yet: run a month."
        columns={[
          { title: 'Month', cell: (s) => <a href={href(['statements', s.period])}>{s.period}</a> },
          { title: 'Status', cell: (s) => <span class={`badge statement-${s.status.toLowerCase()}`}>{s.status}</span> },
          { title: 'Version', cell: (s) => String(s.latestVersion) },
          { title: 'Lines', cell: (s) => String(s.lineCount) },
          { title: 'Problems', cell: (s) => <span class={s.problems > 0 ? 'error-text' : undefined}>{s.problems}</span> },
          { title: 'Totals', cell: (s) => totalsText(s.totals) },
          { title: 'Updated', cell: (s) => time(s.updatedAt) },
        ]}
      />
      <Pager pager={pager} nextCursor={list.data?.nextCursor} label="Statements" />
    </>
  );
}

/** The previous month as YYYY-MM (UTC): the month a run is most often for. */
export function previousMonth(now: Date): string {
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return date.toISOString().slice(0, 7);
}

function RunForm({ api }: { api: PageProps['api'] }) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const run = async (event: Event) => {
    event.preventDefault();
    const period = String(new FormData(event.currentTarget as HTMLFormElement).get('period') ?? '').trim();
    setBusy(true);
    setError(undefined);
    try {
      await api.post(`/seller/statements/${encodeURIComponent(period)}/run`);
      navigate(['statements', period]);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : new Error('The run could not be started.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={run} aria-label="Run a month's statement">
      <Field label="Month to run" hint="YYYY-MM">
        <input name="period" type="month" required defaultValue={previousMonth(new Date())} />
      </Field>
      <button type="submit" disabled={busy}>
        Run the month
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
