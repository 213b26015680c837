import { SNSClient } from '@aws-sdk/client-sns';
import { clientLimits, CLIENT_TIMEOUTS, dynamoClient } from '#lib/aws/clients.ts';
import type { Config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { guardedTransport } from '#lib/provisioning/webhookTransport.ts';
import { secretLoader } from '#lib/secrets.ts';
import { notificationStore } from '#lib/store/notificationStore.ts';
import { snsChannel, webhookChannel } from './channels.ts';
import { notifier, type NotificationChannel, type Notify } from './notifier.ts';

let sns: SNSClient | undefined;

/** The channels the configuration names: the SNS topic, the seller's webhook; none is also fine (the inbox keeps all). */
function channels(cfg: Config): NotificationChannel[] {
  const out: NotificationChannel[] = [];
  if (cfg.NOTIFY_TOPIC_ARN) {
    sns ??= new SNSClient(clientLimits(CLIENT_TIMEOUTS.sns));
    out.push(snsChannel(sns, cfg.NOTIFY_TOPIC_ARN));
  }
  if (cfg.NOTIFY_WEBHOOK_URL) {
    out.push(
      webhookChannel({
        url: cfg.NOTIFY_WEBHOOK_URL,
        secret: secretLoader('NOTIFY_WEBHOOK_SECRET', { parameter: cfg.NOTIFY_WEBHOOK_SECRET_PARAMETER, value: cfg.NOTIFY_WEBHOOK_SECRET }),
        transport: guardedTransport({ allowPrivateHosts: cfg.WEBHOOK_ALLOW_PRIVATE_HOSTS }),
        timeoutMs: cfg.WEBHOOK_TIMEOUT_MS,
        now: Date.now,
      }),
    );
  }
  return out;
}

/** Notifications as the configuration says, recorded in the main table. */
export function notifyFor(cfg: Config, log: Log): Notify {
  return notifier({ store: notificationStore(dynamoClient(), cfg.MAIN_TABLE), channels: channels(cfg), now: Date.now, log });
}
