import { useState } from 'preact/hooks';
import type { PageProps } from '../App.tsx';
import { ApiError, type Api } from '../api.ts';
import { href, navigate } from '../router.ts';
import { allows } from '../scopes.ts';
import { CHART, chartBars, usageBuckets, type Bucket, type Per } from '../usageChart.ts';
import { DataTable, ErrorMessage, Field, Loading, Section, time, useLoad } from '../ui.tsx';
import { isoFromLocal, localFromIso } from './Audit.tsx';

/**
 * An instance's usage ledger (scope usage:read): a chart of pushed, pending and refused usage per hour or day
 * (inline SVG, no chart library), the windows the marketplace refused with its reason and a "Re-send after a fix"
 * button (scope messages:replay, audited as usage.resend), and every window with its push state.
 */

interface Rejection {
  code: string;
  message: string;
}

export interface LedgerWindow {
  beginTime: string;
  endTime: string;
  state: 'OPEN' | 'PUSHING' | 'ACCEPTED' | 'REJECTED';
  value: string;
  attempts: number;
  meteringSn?: string;
  lastError?: string;
  acceptedAt?: string;
  rejection?: Rejection;
  previousRejection?: Rejection;
}

interface Ledger {
  instanceId: string;
  total: string;
  windows: LedgerWindow[];
}

export function Usage({ api, me, route }: PageProps) {
  const instanceId = route.query.instanceId ?? '';
  const from = route.query.from ?? '';
  const to = route.query.to ?? '';
  const per: Per = route.query.per === 'day' ? 'day' : 'hour';
  const ledger = useLoad(
    async () => (instanceId ? api.get<Ledger>('/seller/usage', { instanceId, from, to, limit: 1000 }) : undefined),
    [api, instanceId, from, to],
  );
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    navigate(['usage'], {
      instanceId: value('instanceId'),
      from: isoFromLocal(value('from') ?? ''),
      to: isoFromLocal(value('to') ?? ''),
      per: value('per'),
    });
  };
  const refused = ledger.data?.windows.filter((w) => w.state === 'REJECTED') ?? [];
  return (
    <>
      <h1>Usage</h1>
      <form class="filters" onSubmit={apply} aria-label="Choose the usage ledger">
        <Field label="Instance id">
          <input name="instanceId" value={instanceId} maxLength={64} required />
        </Field>
        <Field label="From" hint="default: 7 days ago">
          <input type="datetime-local" name="from" value={localFromIso(from)} />
        </Field>
        <Field label="To">
          <input type="datetime-local" name="to" value={localFromIso(to)} />
        </Field>
        <Field label="Chart per">
          <select name="per" value={per}>
            <option value="hour">hour</option>
            <option value="day">day (UTC)</option>
          </select>
        </Field>
        <button type="submit">Show usage</button>
      </form>
      {instanceId ? null : <p class="muted">Name an instance to see its usage ledger.</p>}
      <Loading loading={ledger.loading && instanceId !== ''} />
      <ErrorMessage error={ledger.error} />
      {ledger.data ? (
        <div data-ready="true" class="usage">
          <p>
            Instance <a href={href(['instances', ledger.data.instanceId])}>{ledger.data.instanceId}</a>:{' '}
            <strong>{ledger.data.total}</strong> reported in all, {ledger.data.windows.length} window
            {ledger.data.windows.length === 1 ? '' : 's'} in this range.
          </p>
          <Section title={`Usage per ${per}`}>
            <UsageChart buckets={usageBuckets(ledger.data.windows, per)} per={per} />
          </Section>
          <Section title="Refused windows">
            <RefusedWindows
              api={api}
              instanceId={ledger.data.instanceId}
              windows={refused}
              canResend={allows(me.scopes, 'messages:replay')}
              onResent={ledger.reload}
            />
          </Section>
          <Section title="Windows">
            <DataTable
              caption="Hourly windows, oldest first"
              rows={ledger.data.windows}
              rowKey={(w) => w.beginTime}
              empty="No usage in this range."
              columns={[
                { title: 'Window', cell: (w) => `${time(w.beginTime)} – ${time(w.endTime)}` },
                { title: 'Value', cell: (w) => w.value },
                { title: 'State', cell: (w) => <span class={`badge usage-${w.state.toLowerCase()}`}>{w.state}</span> },
                { title: 'Attempts', cell: (w) => String(w.attempts) },
                { title: 'Record', cell: (w) => (w.meteringSn ? <code class="break">{w.meteringSn}</code> : '') },
                { title: 'Last error', cell: (w) => w.lastError ?? w.rejection?.message ?? '' },
              ]}
            />
          </Section>
        </div>
      ) : null}
    </>
  );
}

const KINDS = [
  { kind: 'pushed', title: 'pushed' },
  { kind: 'pending', title: 'pending' },
  { kind: 'refused', title: 'refused' },
] as const;

/** Stacked bars drawn as SVG elements with attributes only (the page's CSP allows no inline styles); colours in CSS. */
function UsageChart({ buckets, per }: { buckets: Bucket[]; per: Per }) {
  const { bars, max } = chartBars(buckets);
  if (bars.length === 0) return <p class="muted">Nothing to chart in this range.</p>;
  const first = buckets[0]!.label;
  const last = buckets[buckets.length - 1]!.label;
  const summary = `Usage per ${per} from ${first} to ${last}, tallest ${max}`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${CHART.width} ${CHART.height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <title>{summary}</title>
        {bars.map((b) => (
          <rect key={`${b.x}-${b.kind}`} class={`bar-${b.kind}`} x={b.x} y={b.y} width={b.width} height={b.height} />
        ))}
      </svg>
      <figcaption>
        <span class="axis">
          {first} … {last} (UTC), tallest bar {max}
        </span>
        <span class="legend">
          {KINDS.map((k) => (
            <span key={k.kind}>
              <svg viewBox="0 0 10 10" width="12" height="12" aria-hidden="true">
                <rect class={`bar-${k.kind}`} width="10" height="10" />
              </svg>{' '}
              {k.title}
            </span>
          ))}
        </span>
      </figcaption>
      <details>
        <summary>The chart's numbers</summary>
        <DataTable
          caption={`Usage per ${per}`}
          rows={buckets}
          rowKey={(b) => b.label}
          empty=""
          columns={[
            { title: per === 'hour' ? 'Hour' : 'Day', cell: (b) => b.label },
            { title: 'Pushed', cell: (b) => String(b.pushed) },
            { title: 'Pending', cell: (b) => String(b.pending) },
            { title: 'Refused', cell: (b) => String(b.refused) },
          ]}
        />
      </details>
    </figure>
  );
}

function RefusedWindows(props: { api: Api; instanceId: string; windows: LedgerWindow[]; canResend: boolean; onResent: () => void }) {
  const { api, instanceId, windows, canResend, onResent } = props;
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const resend = async (w: LedgerWindow) => {
    setBusy(w.beginTime);
    try {
      const answer = await api.post<{ revision: number }>('/seller/usage/windows/resend', { instanceId, beginTime: w.beginTime });
      setOutcome({
        ok: true,
        text: `Window ${time(w.beginTime)} is due again: the next hourly push sends it as revision ${answer.revision}.`,
      });
      onResent();
    } catch (error) {
      setOutcome({ ok: false, text: error instanceof ApiError ? error.message : 'The re-send failed.' });
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <>
      {outcome ? (
        <p role="status" class={outcome.ok ? 'ok' : 'error'}>
          {outcome.text}
        </p>
      ) : null}
      <DataTable
        caption="Windows the marketplace refused"
        rows={windows}
        rowKey={(w) => w.beginTime}
        empty="No refused window in this range."
        columns={[
          { title: 'Window', cell: (w) => `${time(w.beginTime)} – ${time(w.endTime)}` },
          { title: 'Value', cell: (w) => w.value },
          { title: 'Reason', cell: (w) => (w.rejection ? `${w.rejection.code}: ${w.rejection.message}` : '') },
          {
            title: 'Action',
            cell: (w) =>
              canResend ? (
                <button
                  type="button"
                  onClick={() => void resend(w)}
                  disabled={busy !== undefined}
                  aria-label={`Re-send after a fix: ${time(w.beginTime)}`}
                >
                  Re-send after a fix
                </button>
              ) : (
                <span class="muted">needs messages:replay</span>
              ),
          },
        ]}
      />
    </>
  );
}
