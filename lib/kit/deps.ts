/** The Kit flow's collaborators from the configuration (functions/kit.ts). */
import type { KeyObject } from 'node:crypto';
import { dynamoClient, sqsClient } from '#lib/aws/clients.ts';
import type { Config } from '#lib/config.ts';
import { keyLoader } from '#lib/koogallery/accessKeys.ts';
import { KIT_WINDOW } from '#lib/koogallery/kitSignature.ts';
import type { Log } from '#lib/log.ts';
import { readSsm, secretLoader, type ParameterReader } from '#lib/secrets.ts';
import { sqsPublisher } from '#lib/outbox/publisher.ts';
import { kitStore } from '#lib/store/kitStore.ts';
import { readPrivateKey } from './clientSecret.ts';
import type { KitDeps } from './kitCall.ts';
import type { KitEvent } from './model.ts';

/** The Kit access keys: current, and previous during a rotation (SSM on AWS, the environment locally). */
export function kitAccessKeys(cfg: Config, read: ParameterReader, log: Log) {
  return keyLoader(
    {
      setting: 'Kit access key (KOOGALLERY_KIT_ACCESS_KEY)',
      parameter: cfg.KOOGALLERY_KIT_ACCESS_KEY_PARAMETER,
      previousParameter: cfg.KOOGALLERY_KIT_ACCESS_KEY_PREVIOUS_PARAMETER,
      value: cfg.KOOGALLERY_KIT_ACCESS_KEY,
      previousValue: cfg.KOOGALLERY_KIT_ACCESS_KEY_PREVIOUS,
    },
    read,
    Date.now,
    (message, fields) => log.warn(message, fields),
  );
}

/** The seller's RSA private key, parsed once per value read (SSM values are re-read every five minutes). */
export function kitPrivateKey(cfg: Config, read: ParameterReader): () => Promise<KeyObject> {
  const load = secretLoader('KIT_RSA_PRIVATE_KEY', { parameter: cfg.KIT_RSA_PRIVATE_KEY_PARAMETER, value: cfg.KIT_RSA_PRIVATE_KEY }, read);
  let parsed: { pem: string; key: KeyObject } | undefined;
  return async () => {
    const pem = await load();
    if (parsed?.pem !== pem) parsed = { pem, key: readPrivateKey(pem) };
    return parsed.key;
  };
}

export function kitDeps(cfg: Config, log: Log, read: ParameterReader = readSsm): KitDeps {
  return {
    kitKeys: kitAccessKeys(cfg, read, log),
    privateKey: kitPrivateKey(cfg, read),
    store: kitStore(dynamoClient(), { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }),
    publisher: sqsPublisher<KitEvent>(sqsClient(), cfg.PROVISIONING_QUEUE_URL),
    settings: {
      maxBodyBytes: cfg.KIT_MAX_BODY_BYTES,
      window: { windowMs: cfg.SIGNATURE_WINDOW_SECONDS * 1000, skewMs: KIT_WINDOW.skewMs },
      // A nonce is remembered at least as long as a timestamp is accepted (2 min or more).
      nonceTtlSeconds: Math.max(cfg.NONCE_TTL_SECONDS, 120, cfg.SIGNATURE_WINDOW_SECONDS * 2 + 10),
      testTtlDays: cfg.TEST_INSTANCE_TTL_DAYS,
      policy: { unknownInstance: cfg.KIT_UNKNOWN_INSTANCE, unlistedOrgs: cfg.KIT_UNLISTED_ORGS },
    },
    now: Date.now,
    log,
  };
}
