import { useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import type { PageProps } from '../App.tsx';
import { href, navigate } from '../router.ts';
import { allows } from '../scopes.ts';
import { DECISIONS, decisionBody, PROOF_KINDS, proofContentType, settledProof, type DecisionAction } from '../supervision.ts';
import { SUPERVISION_STATES, type Proof, type Supervision as Flow, type SupervisionDetail } from '../types.ts';
import { postToBucket, sha256Hex, type PresignedPost } from '../upload.ts';
import { DataTable, ErrorMessage, Field, Loading, Pager, Section, StateBadge, time, useLoad, usePager, type PageOf } from '../ui.tsx';

/**
 * Service supervision: the flows in one state (most recently changed first, paged), and one flow with its rounds,
 * proofs and history, where a delivery proof is uploaded from the page (SHA-256 computed here, presigned POST) and
 * followed until its check's verdict, and where a key with supervision:decide records decisions.
 */

const PAGE_SIZE = 25;
const POLL_MS = 500;
const POLL_TRIES = 60;

const flowPath = (orderId: string, orderLineId: string) =>
  `/seller/supervision/${encodeURIComponent(orderId)}/${encodeURIComponent(orderLineId)}`;

export function SupervisionList({ api, route }: PageProps) {
  const state = route.query.state ?? 'AWAITING_DELIVERY';
  const pager = usePager(state);
  const list = useLoad(
    () => api.get<PageOf<Flow>>('/seller/supervision', { state, limit: PAGE_SIZE, cursor: pager.cursor }),
    [api, state, pager.cursor],
  );
  return (
    <>
      <h1>Service supervision</h1>
      <form
        class="filters"
        aria-label="Choose a state"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget as HTMLFormElement);
          navigate(['supervision'], { state: String(form.get('state') ?? '') });
        }}
      >
        <Field label="State">
          <select name="state" value={state}>
            {SUPERVISION_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">Show</button>
      </form>
      <Loading loading={list.loading} />
      <ErrorMessage error={list.error} />
      <DataTable
        caption={`Flows in ${state}, most recently changed first`}
        rows={list.data?.items}
        rowKey={(f) => `${f.orderId}/${f.orderLineId}`}
        empty={`No flow is in ${state}.`}
        columns={[
          {
            title: 'Order line',
            cell: (f) => <a href={href(['supervision', f.orderId, f.orderLineId])}>{`${f.orderId} / ${f.orderLineId}`}</a>,
          },
          { title: 'Instance', cell: (f) => <a href={href(['instances', f.instanceId])}>{f.instanceId}</a> },
          { title: 'Product', cell: (f) => f.productId },
          { title: 'Round', cell: (f) => String(f.round) },
          { title: 'Appeal', cell: (f) => (f.appeal ? 'open' : '') },
          { title: 'Changed', cell: (f) => time(f.updatedAt) },
        ]}
      />
      <Pager pager={pager} nextCursor={list.data?.nextCursor} label="Flows" />
    </>
  );
}

export function SupervisionFlow({ api, me, orderId, orderLineId }: PageProps & { orderId: string; orderLineId: string }) {
  const flow = useLoad(() => api.get<SupervisionDetail>(`${flowPath(orderId, orderLineId)}/proofs`), [api, orderId, orderLineId]);
  const detail = flow.data;
  return (
    <>
      <p>
        <a href={href(['supervision'], detail ? { state: detail.supervision.state } : {})}>← Service supervision</a>
      </p>
      <h1>
        Supervision of {orderId} / {orderLineId}
      </h1>
      <Loading loading={flow.loading && !detail} />
      <ErrorMessage error={flow.error} />
      {detail ? (
        <>
          <p>
            <StateBadge state={detail.supervision.state} /> round {detail.currentRound.round}, instance{' '}
            <a href={href(['instances', detail.supervision.instanceId])}>{detail.supervision.instanceId}</a>
            {detail.supervision.appeal ? ` · appeal open since ${time(detail.supervision.appeal.openedAt)}` : ''}
          </p>
          <p>
            Required this round: {detail.currentRound.requiredKinds.join(', ') || 'none'}; verified:{' '}
            {detail.currentRound.verifiedKinds.join(', ') || 'none'}; missing:{' '}
            <span class={detail.currentRound.missingKinds.length ? 'error-text' : undefined}>
              {detail.currentRound.missingKinds.join(', ') || 'none'}
            </span>
          </p>
          {allows(me.scopes, 'proofs:write') ? (
            <Section title="Upload a delivery proof">
              <UploadProof api={api} orderId={orderId} orderLineId={orderLineId} onSettled={flow.reload} />
            </Section>
          ) : null}
          {allows(me.scopes, 'supervision:decide') ? (
            <Section title="Record a decision">
              <Decide api={api} orderId={orderId} orderLineId={orderLineId} onDone={flow.reload} />
            </Section>
          ) : null}
          <Section title="Proofs">
            <DataTable
              caption="Delivery proofs, by round"
              rows={detail.proofs}
              rowKey={(p) => p.proofId}
              empty="No proof yet."
              columns={[
                { title: 'Round', cell: (p) => String(p.round) },
                { title: 'Kind', cell: (p) => p.kind },
                { title: 'File', cell: (p) => (p.downloadUrl ? <a href={p.downloadUrl}>{p.fileName}</a> : p.fileName) },
                { title: 'State', cell: (p) => <StateBadge state={p.state} /> },
                { title: 'Why', cell: (p) => p.rejection?.message ?? '' },
                { title: 'Requested', cell: (p) => time(p.requestedAt) },
              ]}
            />
          </Section>
          <Section title="History">
            <DataTable
              caption="What happened, oldest first"
              rows={detail.history}
              rowKey={(h) => String(h.version)}
              empty="No history."
              columns={[
                { title: 'When', cell: (h) => time(h.at) },
                { title: 'Who', cell: (h) => (h.by?.name ? `${h.actor} (${h.by.name})` : h.actor) },
                { title: 'What', cell: (h) => h.action },
                { title: 'State', cell: (h) => `${h.from ?? ''} → ${h.to}` },
                { title: 'Round', cell: (h) => String(h.round) },
                { title: 'Reason', cell: (h) => h.reason ?? h.note ?? '' },
              ]}
            />
          </Section>
        </>
      ) : null}
    </>
  );
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the flow until the proof's check is over; undefined if it is still waiting after about 30 seconds. */
async function verdictOf(api: Api, path: string, proofId: string): Promise<Proof | undefined> {
  for (let i = 0; i < POLL_TRIES; i++) {
    const settled = settledProof(await api.get<SupervisionDetail>(`${path}/proofs`), proofId);
    if (settled) return settled;
    await wait(POLL_MS);
  }
  return undefined;
}

function UploadProof(props: { api: Api; orderId: string; orderLineId: string; onSettled: () => void }) {
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const upload = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const file = form.get('proof');
    if (!(file instanceof File) || file.size === 0) return setError(new Error('Choose a file to upload.'));
    setBusy(true);
    setError(undefined);
    try {
      const path = flowPath(props.orderId, props.orderLineId);
      setStatus('Computing the checksum…');
      const sha256 = await sha256Hex(await file.arrayBuffer());
      const serviceStartAt = String(form.get('serviceStartAt') ?? '');
      const answer = await props.api.post<{ proofId: string; upload: PresignedPost }>(`${path}/proofs`, {
        kind: String(form.get('kind')),
        fileName: file.name,
        contentType: proofContentType(file.name, file.type),
        size: file.size,
        sha256,
        ...(serviceStartAt ? { serviceStartAt: new Date(serviceStartAt).toISOString() } : {}),
      });
      setStatus('Uploading…');
      await postToBucket(answer.upload, file, file.name);
      setStatus('Uploaded; waiting for the check…');
      const verdict = await verdictOf(props.api, path, answer.proofId);
      setStatus(
        !verdict
          ? 'Uploaded; the check has not finished yet. Reload the page later.'
          : verdict.state === 'VERIFIED'
            ? `${file.name} is VERIFIED.`
            : `${file.name} is REJECTED: ${verdict.rejection?.message ?? 'the check refused it'}.`,
      );
      props.onSettled();
    } catch (failure) {
      setStatus(undefined);
      setError(failure instanceof Error ? failure : new Error('The upload failed.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={upload} aria-label="Upload a delivery proof">
      <Field label="Kind">
        <select name="kind">
          {PROOF_KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Proof file" hint="PDF, PNG, JPEG, ZIP, DOCX or XLSX">
        <input type="file" name="proof" accept=".pdf,.png,.jpg,.jpeg,.zip,.docx,.xlsx" required />
      </Field>
      <Field label="Actual service start (optional)">
        <input type="datetime-local" name="serviceStartAt" />
      </Field>
      <button type="submit" disabled={busy}>
        Upload the proof
      </button>
      {status ? (
        <p role="status" class="upload-status">
          {status}
        </p>
      ) : null}
      <ErrorMessage error={error} />
    </form>
  );
}

function Decide(props: { api: Api; orderId: string; orderLineId: string; onDone: () => void }) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [result, setResult] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const decide = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const action = String(form.get('action')) as DecisionAction;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await props.api.post<{ unchanged: boolean; reason?: string; supervision: Flow }>(
        `${flowPath(props.orderId, props.orderLineId)}/transitions`,
        decisionBody(action, String(form.get('reason') ?? '')),
      );
      setResult(
        answer.unchanged ? `Nothing changed: ${answer.reason ?? 'already recorded'}.` : `Recorded: now ${answer.supervision.state}.`,
      );
      props.onDone();
    } catch (failure) {
      setResult(undefined);
      setError(failure instanceof Error ? failure : new Error('The decision was not recorded.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={decide} aria-label="Record a decision">
      <Field label="Decision">
        <select name="action">
          {DECISIONS.map((d) => (
            <option key={d.action} value={d.action}>
              {d.label}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Reason" hint="required to reject or for an appeal; kept in the history">
        <input name="reason" maxLength={1000} />
      </Field>
      <button type="submit" disabled={busy}>
        Record
      </button>
      {result ? <p role="status">{result}</p> : null}
      <ErrorMessage error={error} />
    </form>
  );
}
