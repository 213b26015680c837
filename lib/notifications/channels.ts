/**
 * The channels a notification goes out on: the stack's SNS topic (its e-mail subscription, if any, gets the
 * subject and the summary) and the seller's own webhook, signed the Standard Webhooks way.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { WebhookTransport } from '#lib/provisioning/webhookTransport.ts';
import { subjectLine, type Notification } from './model.ts';
import type { NotificationChannel } from './notifier.ts';
import { signedHeaders } from './standardWebhooks.ts';

/** The text an e-mail subscriber reads. */
export function emailText(notification: Notification): string {
  const lines = [notification.summary, ''];
  for (const [name, value] of Object.entries(notification.target)) lines.push(`${name}: ${value}`);
  if (notification.link) lines.push(`seller API: GET ${notification.link}`);
  lines.push(`notification ${notification.id} (${notification.type}) at ${notification.at}`);
  return lines.join('\n');
}

/**
 * Publishes to the SNS topic: e-mail subscribers get the subject and the text, other protocols (SQS, HTTPS, Lambda)
 * the notification as JSON (SNS's per-protocol message structure); `type` is a message attribute to filter on.
 */
export function snsChannel(client: SNSClient, topicArn: string): NotificationChannel {
  return {
    name: 'sns',
    async send(notification) {
      await client.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: subjectLine(notification.subject),
          MessageStructure: 'json',
          Message: JSON.stringify({ default: JSON.stringify(notification), email: emailText(notification) }),
          MessageAttributes: { type: { DataType: 'String', StringValue: notification.type } },
        }),
      );
    },
  };
}

/** POSTs the notification as JSON to the seller's webhook; any answer but 2xx within the time limit is a failure. */
export function webhookChannel(options: {
  url: string;
  secret: () => Promise<string>;
  transport: WebhookTransport;
  timeoutMs: number;
  now: () => number;
}): NotificationChannel {
  return {
    name: 'webhook',
    async send(notification) {
      const body = JSON.stringify(notification);
      // The message id is the notification's: a receiver that keeps ids drops a repeat.
      const headers = signedHeaders(await options.secret(), notification.id, Math.floor(options.now() / 1000), body);
      const response = await options.transport(new URL(options.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'koogallery-isv-server', ...headers },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status > 299) {
        throw new Error(`the notification webhook answered HTTP ${response.status}`);
      }
    },
  };
}
