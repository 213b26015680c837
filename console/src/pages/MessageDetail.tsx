import type { PageProps } from '../App.tsx';
import { shownBody, type KeptBody } from '../bodies.ts';
import { href } from '../router.ts';
import type { Message } from '../types.ts';
import { ErrorMessage, Loading, Section, time, useLoad } from '../ui.tsx';

/**
 * One message of the log: its verdict and ids, and its request and answer as the log kept them (redacted: secrets
 * and personal fields replaced by markers), shown as text, with a note when a body was cut.
 */

interface MessageDetail extends Message {
  latencyMs: number;
  bodyBytes: number;
  bodySha256: string;
  request?: KeptBody;
  answer?: KeptBody;
}

export function MessageDetail({ api, messageId }: PageProps & { messageId: string }) {
  const detail = useLoad(
    async () => (await api.get<{ message: MessageDetail }>(`/seller/messages/${encodeURIComponent(messageId)}`)).message,
    [api, messageId],
  );
  const m = detail.data;
  return (
    <>
      <p>
        <a href={href(['messages'])}>← Message log</a>
      </p>
      <h1>Message</h1>
      <Loading loading={detail.loading} />
      <ErrorMessage error={detail.error} />
      {m ? (
        <>
          <dl class="facts">
            <dt>When</dt>
            <dd>{time(m.at)}</dd>
            <dt>Channel</dt>
            <dd>{m.channel}</dd>
            <dt>Activity</dt>
            <dd>{m.activity ?? (m.claimedActivity ? `${m.claimedActivity} (claimed, not authenticated)` : '—')}</dd>
            <dt>Result</dt>
            <dd>
              <code>{m.resultCode}</code> {m.reason ?? ''}
            </dd>
            <dt>Order</dt>
            <dd>{m.orderId ?? '—'}</dd>
            <dt>Instance</dt>
            <dd>{m.instanceId ? <a href={href(['instances', m.instanceId])}>{m.instanceId}</a> : '—'}</dd>
            <dt>Latency</dt>
            <dd>{m.latencyMs} ms</dd>
            <dt>Request size</dt>
            <dd>
              {m.bodyBytes} bytes, SHA-256 <code class="break">{m.bodySha256}</code>
            </dd>
          </dl>
          <Body title="Request" kept={m.request} />
          <Body title="Answer" kept={m.answer} />
        </>
      ) : null}
    </>
  );
}

function Body({ title, kept }: { title: string; kept: KeptBody | undefined }) {
  const shown = shownBody(kept);
  return (
    <Section title={title}>
      {shown ? (
        <>
          {shown.truncated ? <p class="notice">Truncated: the log keeps the first 8192 characters of the redacted text.</p> : null}
          <pre class="body" tabIndex={0} aria-label={`${title} body`}>
            {shown.text}
          </pre>
        </>
      ) : (
        <p class="muted">Not kept for this message.</p>
      )}
    </Section>
  );
}
