import { type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Sqs } from '#lib/aws/clients.ts';

/** SQS takes at most 10 messages per SendMessageBatch. */
export const SQS_BATCH_LIMIT = 10;

export interface OutgoingMessage {
  body: string;
  attributes?: Record<string, MessageAttributeValue>;
}

/** `items` cut into SQS batches of at most 10. */
export function sqsBatches<T>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += SQS_BATCH_LIMIT) batches.push(items.slice(i, i + SQS_BATCH_LIMIT));
  return batches;
}

/**
 * Sends one batch (at most 10 messages). Resolves with the positions of the messages SQS did not take, and the
 * first refusal's message; a failed request rejects.
 */
export async function sendBatch(
  client: Sqs,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
): Promise<{ failed: number[]; message?: string }> {
  if (messages.length > SQS_BATCH_LIMIT) throw new RangeError(`an SQS batch holds at most ${SQS_BATCH_LIMIT} messages`);
  const out = await client.send('SendMessageBatch', {
    QueueUrl: queueUrl,
    Entries: messages.map((m, n) => ({
      Id: String(n),
      MessageBody: m.body,
      ...(m.attributes ? { MessageAttributes: m.attributes } : {}),
    })),
  });
  const failed = (out.Failed ?? []).map((f) => Number(f.Id));
  const message = out.Failed?.[0]?.Message;
  return message === undefined ? { failed } : { failed, message };
}
