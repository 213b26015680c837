import { useEffect, useState } from 'preact/hooks';
import type { PageProps } from '../App.tsx';
import { ApiError, type Api } from '../api.ts';
import { href } from '../router.ts';
import { allows } from '../scopes.ts';
import type { StatementHeader } from '../types.ts';
import { postToBucket, sha256Hex, type PresignedPost } from '../upload.ts';
import { DataTable, ErrorMessage, Field, Loading, Section, time, useLoad } from '../ui.tsx';

/**
 * One month's statement: status, totals per currency, problems, every version with its CSV, JSON and diff
 * downloads (short-lived links the API signs), the run under way (followed until it ends), Run again and Close
 * (statements:write), and the reconciliation: upload the marketplace's bill export, read the report.
 */

interface FileLink {
  url: string;
  expiresAt: string;
}

interface Version {
  version: number;
  lineCount: number;
  problems: number;
  totals: StatementHeader['totals'];
  diff?: { against: number; added: number; removed: number; changed: number };
  createdAt: string;
  files: { csv: FileLink; json: FileLink; diff?: FileLink };
}

interface Statement {
  header: StatementHeader & { closedAt?: string };
  versions: Version[];
  activeRun?: { runId: string; status: string; segments: number; segmentsDone: number; startedAt: string };
}

interface Reconciliation {
  version: number;
  billRows: number;
  billProblems: { row: number; message: string }[];
  compare: 'net' | 'gross';
  totals: {
    matched: number;
    amountDiffers: number;
    onlyOurs: number;
    onlyTheirs: number;
    currencies: Record<string, { ours: string; theirs: string; difference: string }>;
  };
  rows: { status: string; key: string; currency: string; ours?: string; theirs?: string; billRows?: number[] }[];
  rowsTotal: number;
  reportUrl: string;
}

/** How often a run under way, or a bill export being read, is looked at again. */
const POLL_MS = 1_000;

const path = (period: string, tail = '') => `/seller/statements/${encodeURIComponent(period)}${tail}`;

export function StatementDetail({ api, me, period }: PageProps & { period: string }) {
  const statement = useLoad(() => api.get<Statement>(path(period)), [api, period]);
  const running = statement.data?.activeRun !== undefined;
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(statement.reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [running, statement.data]);
  const canWrite = allows(me.scopes, 'statements:write');
  const s = statement.data;
  return (
    <>
      <p>
        <a href={href(['statements'])}>← Statements</a>
      </p>
      <h1>Statement {period}</h1>
      <Loading loading={statement.loading && !s} />
      <ErrorMessage error={statement.error} />
      {s ? (
        <div data-ready={running ? undefined : 'true'} class="statement">
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <span class={`badge statement-${s.header.status.toLowerCase()}`}>{s.header.status}</span>
              {s.header.closedAt ? ` since ${time(s.header.closedAt)}` : ''}
            </dd>
            <dt>Latest version</dt>
            <dd>{s.header.latestVersion}</dd>
            <dt>Lines</dt>
            <dd>{s.header.lineCount}</dd>
            <dt>Problems</dt>
            <dd class={s.header.problems > 0 ? 'error-text' : undefined}>
              {s.header.problems === 0
                ? 'none'
                : `${s.header.problems} line${s.header.problems === 1 ? '' : 's'} withheld for a configuration problem (no fee share, no price, …): see the JSON file's problems`}
            </dd>
            {s.activeRun ? (
              <>
                <dt>Run under way</dt>
                <dd>
                  <span aria-live="polite">
                    {s.activeRun.status}: {s.activeRun.segmentsDone} of {s.activeRun.segments} segments done
                  </span>
                </dd>
              </>
            ) : null}
          </dl>
          {canWrite ? (
            <Actions api={api} period={period} closed={s.header.status === 'CLOSED'} running={running} onDone={statement.reload} />
          ) : null}
          <Section title="Totals per currency">
            <DataTable
              caption="Sums of the rounded lines of the latest version"
              rows={Object.entries(s.header.totals)}
              rowKey={([currency]) => currency}
              empty="No line."
              columns={[
                { title: 'Currency', cell: ([currency]) => currency },
                { title: 'Lines', cell: ([, t]) => String(t.lines) },
                { title: 'Gross', cell: ([, t]) => t.gross },
                { title: 'Net', cell: ([, t]) => t.net },
              ]}
            />
          </Section>
          <Section title="Versions">
            <DataTable
              caption="Every version, newest first; links are valid a few minutes"
              rows={s.versions}
              rowKey={(v) => String(v.version)}
              empty="No version yet."
              columns={[
                { title: 'Version', cell: (v) => String(v.version) },
                { title: 'Made', cell: (v) => time(v.createdAt) },
                { title: 'Lines', cell: (v) => String(v.lineCount) },
                { title: 'Problems', cell: (v) => String(v.problems) },
                {
                  title: 'Changes',
                  cell: (v) => (v.diff ? `vs ${v.diff.against}: +${v.diff.added} −${v.diff.removed} ~${v.diff.changed}` : 'first'),
                },
                {
                  title: 'Download',
                  cell: (v) => (
                    <span class="links">
                      <a href={v.files.csv.url} download aria-label={`CSV of version ${v.version}`}>
                        CSV
                      </a>{' '}
                      <a href={v.files.json.url} download aria-label={`JSON of version ${v.version}`}>
                        JSON
                      </a>
                      {v.files.diff ? (
                        <>
                          {' '}
                          <a href={v.files.diff.url} download aria-label={`Diff of version ${v.version}`}>
                            diff
                          </a>
                        </>
                      ) : null}
                    </span>
                  ),
                },
              ]}
            />
          </Section>
          <ReconciliationSection api={api} period={period} canUpload={canWrite && s.versions.length > 0} />
        </div>
      ) : null}
    </>
  );
}

function Actions(props: { api: Api; period: string; closed: boolean; running: boolean; onDone: () => void }) {
  const { api, period, closed, running, onDone } = props;
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const act = async (tail: '/run' | '/close', done: string) => {
    setConfirming(false);
    try {
      await api.post(path(period, tail));
      setOutcome({ ok: true, text: done });
      onDone();
    } catch (error) {
      setOutcome({ ok: false, text: error instanceof ApiError ? error.message : 'The request failed.' });
    }
  };
  if (closed) return <p class="muted">This month is closed: later changes go into the next open month.</p>;
  return (
    <div class="actions">
      <button type="button" disabled={running} onClick={() => void act('/run', 'Run started: the page follows it.')}>
        Run again
      </button>{' '}
      {confirming ? (
        <span class="confirm">
          Close {period} for good?{' '}
          <button type="button" class="danger" onClick={() => void act('/close', `${period} is closed.`)}>
            Confirm: close {period}
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" disabled={running} onClick={() => setConfirming(true)}>
          Close the month
        </button>
      )}
      {outcome ? (
        <p role="status" class={outcome.ok ? 'ok' : 'error'}>
          {outcome.text}
        </p>
      ) : null}
    </div>
  );
}

function ReconciliationSection({ api, period, canUpload }: { api: Api; period: string; canUpload: boolean }) {
  const [round, setRound] = useState(0);
  const report = useLoad(async () => {
    try {
      return await api.get<Reconciliation>(path(period, '/reconciliation'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }, [api, period, round]);
  // After an upload the export is read when it lands in the bucket: look again until the report is there.
  const [waiting, setWaiting] = useState(false);
  useEffect(() => {
    if (!waiting || report.loading) return undefined;
    if (report.data) {
      setWaiting(false);
      return undefined;
    }
    const timer = setTimeout(() => setRound((r) => r + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [waiting, report.loading, report.data]);
  const notYet = report.error instanceof ApiError && report.error.status === 409;
  return (
    <Section title="Reconciliation with the marketplace's bill">
      {canUpload ? (
        <BillUpload
          api={api}
          period={period}
          onUploaded={() => {
            setWaiting(true);
            setRound((r) => r + 1);
          }}
        />
      ) : null}
      {waiting ? (
        <p class="muted" aria-live="polite">
          Reading the bill export…
        </p>
      ) : null}
      {notYet ? null : <ErrorMessage error={report.error} />}
      {report.data ? (
        <Report report={report.data} />
      ) : report.loading || waiting ? null : (
        <p class="muted">No bill export uploaded for {period}.</p>
      )}
    </Section>
  );
}

function BillUpload({ api, period, onUploaded }: { api: Api; period: string; onUploaded: () => void }) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const upload = async (event: Event) => {
    event.preventDefault();
    const file = (event.currentTarget as HTMLFormElement).querySelector<HTMLInputElement>('input[type=file]')?.files?.[0];
    if (!file) return setError(new Error('Choose the CSV export first.'));
    setBusy(true);
    setError(undefined);
    try {
      const sha256 = await sha256Hex(await file.arrayBuffer());
      const answer = await api.post<{ upload: PresignedPost }>(path(period, '/reconciliation'), { size: file.size, sha256 });
      await postToBucket(answer.upload, file, file.name);
      onUploaded();
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error('The upload failed.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={upload} aria-label="Upload the bill export">
      <Field label="Bill export (CSV)" hint="the marketplace's bill of the month, at most 20 MB">
        <input type="file" name="bill" accept=".csv,text/csv" required />
      </Field>
      <button type="submit" disabled={busy}>
        Upload and reconcile
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}

function Report({ report }: { report: Reconciliation }) {
  const t = report.totals;
  return (
    <div class="report">
      <p>
        Version {report.version} against {report.billRows} bill row{report.billRows === 1 ? '' : 's'} (comparing {report.compare}):{' '}
        <strong>{t.matched}</strong> matched, <strong class={t.amountDiffers ? 'error-text' : undefined}>{t.amountDiffers}</strong> amount
        differs, <strong class={t.onlyOurs ? 'error-text' : undefined}>{t.onlyOurs}</strong> only in ours,{' '}
        <strong class={t.onlyTheirs ? 'error-text' : undefined}>{t.onlyTheirs}</strong> only in theirs.{' '}
        <a href={report.reportUrl} download>
          Download the whole report
        </a>
      </p>
      <DataTable
        caption="Sums per currency"
        rows={Object.entries(t.currencies)}
        rowKey={([c]) => c}
        empty="No amount."
        columns={[
          { title: 'Currency', cell: ([c]) => c },
          { title: 'Ours', cell: ([, v]) => v.ours },
          { title: 'Theirs', cell: ([, v]) => v.theirs },
          { title: 'Difference', cell: ([, v]) => v.difference },
        ]}
      />
      {report.billProblems.length > 0 ? (
        <DataTable
          caption="Bill rows that could not be read"
          rows={report.billProblems}
          rowKey={(p) => String(p.row)}
          empty=""
          columns={[
            { title: 'Row', cell: (p) => String(p.row) },
            { title: 'Problem', cell: (p) => p.message },
          ]}
        />
      ) : null}
      <DataTable
        caption={`Rows that need a look first (${report.rows.length} of ${report.rowsTotal})`}
        rows={report.rows}
        rowKey={(r) => `${r.status}~${r.key}~${r.currency}`}
        empty="Every row matched."
        columns={[
          { title: 'Status', cell: (r) => r.status },
          { title: 'Line', cell: (r) => <code class="break">{r.key}</code> },
          { title: 'Currency', cell: (r) => r.currency },
          { title: 'Ours', cell: (r) => r.ours ?? '—' },
          { title: 'Theirs', cell: (r) => r.theirs ?? '—' },
        ]}
      />
    </div>
  );
}
