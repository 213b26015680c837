import { sendBatch } from '#lib/aws/sqsBatch.ts';
import { type Message } from '@aws-sdk/client-sqs';
import type { Sqs } from '#lib/aws/clients.ts';
import * as z from 'zod';

/**
 * Moves lifecycle events that reached the provisioning queue's dead-letter queue (after 5 failed receives) back to
 * the queue, once their cause is fixed (`npm run redrive`). The DLQ is found through the queue's own RedrivePolicy.
 * A message is deleted from the DLQ only after it was sent back; a crash in between sends it twice, which the
 * consumer absorbs (each transition has one event id).
 */

export interface RedriveSummary {
  deadLetterQueueUrl: string;
  found: number;
  moved: number;
  /** Dry run: the bodies' event ids (or the first characters of a body that is not an event). */
  listed: string[];
}

const RedrivePolicySchema = z.object({ deadLetterTargetArn: z.string().min(1) });

/** The DLQ's URL, from the queue's RedrivePolicy. */
export async function deadLetterQueueOf(sqs: Sqs, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send('GetQueueAttributes', { QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] });
  const raw = Attributes?.RedrivePolicy;
  if (!raw) throw new Error(`${queueUrl} has no dead-letter queue (no RedrivePolicy)`);
  const { deadLetterTargetArn } = RedrivePolicySchema.parse(JSON.parse(raw));
  // arn:aws:sqs:<region>:<account>:<name>
  const parts = deadLetterTargetArn.split(':');
  const { QueueUrl } = await sqs.send('GetQueueUrl', { QueueName: parts[5]!, QueueOwnerAWSAccountId: parts[4] });
  if (!QueueUrl) throw new Error(`no URL for the dead-letter queue ${deadLetterTargetArn}`);
  return QueueUrl;
}

function label(message: Message): string {
  try {
    const body = JSON.parse(message.Body ?? '') as { eventId?: unknown };
    if (typeof body.eventId === 'string') return body.eventId;
  } catch {
    // not JSON: show its start
  }
  return (message.Body ?? '').slice(0, 60);
}

export async function redrive(
  sqs: Sqs,
  queueUrl: string,
  options: { max?: number; dryRun?: boolean; waitSeconds?: number } = {},
): Promise<RedriveSummary> {
  const max = options.max ?? 1_000;
  const deadLetterQueueUrl = await deadLetterQueueOf(sqs, queueUrl);
  const summary: RedriveSummary = { deadLetterQueueUrl, found: 0, moved: 0, listed: [] };
  const seen = new Set<string>();
  while (summary.found < max) {
    const { Messages = [] } = await sqs.send('ReceiveMessage', {
      QueueUrl: deadLetterQueueUrl,
      MaxNumberOfMessages: Math.min(10, max - summary.found),
      WaitTimeSeconds: options.waitSeconds ?? 1,
      // A dry run only looks: the messages come back to the DLQ at once.
      ...(options.dryRun ? { VisibilityTimeout: 0 } : { VisibilityTimeout: 30 }),
      MessageAttributeNames: ['All'],
    });
    if (Messages.length === 0) break;
    if (options.dryRun) {
      // Looked-at messages reappear at once (visibility 0): list each once, stop when only known ones come back.
      const fresh = Messages.filter((m) => !seen.has(m.MessageId ?? ''));
      if (fresh.length === 0) break;
      for (const m of fresh) seen.add(m.MessageId ?? '');
      summary.found += fresh.length;
      summary.listed.push(...fresh.map(label));
      continue;
    }
    summary.found += Messages.length;
    const sent = await sendBatch(
      sqs,
      queueUrl,
      Messages.map((m) => ({ body: m.Body ?? '', ...(m.MessageAttributes ? { attributes: m.MessageAttributes } : {}) })),
    );
    const failed = new Set(sent.failed);
    const ok = new Set(Messages.flatMap((_, i) => (failed.has(i) ? [] : [String(i)])));
    const toDelete = Messages.flatMap((m, i) =>
      ok.has(String(i)) && m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : [],
    );
    if (toDelete.length > 0) await sqs.send('DeleteMessageBatch', { QueueUrl: deadLetterQueueUrl, Entries: toDelete });
    summary.moved += toDelete.length;
    summary.listed.push(...Messages.filter((_, i) => ok.has(String(i))).map(label));
    if (ok.size < Messages.length) throw new Error(`${Messages.length - ok.size} message(s) could not be sent back; they stay in the DLQ`);
  }
  return summary;
}

/** A dead-letter queue's name and its approximate number of messages (visible and in flight). */
export function deadLetterDepth(sqs: Sqs, queueUrl: string): { queue: string; depth: () => Promise<number> } {
  return {
    queue: queueUrl.slice(queueUrl.lastIndexOf('/') + 1),
    async depth() {
      const { Attributes } = await sqs.send('GetQueueAttributes', {
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      });
      return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    },
  };
}
