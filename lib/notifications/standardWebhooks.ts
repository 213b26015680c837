/**
 * Signatures of the Standard Webhooks specification (https://www.standardwebhooks.com), so a receiver can verify
 * our notifications with a ready library: `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`), keyed by the secret's bytes (`whsec_<base64>`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'whsec_';

/** The key bytes of a `whsec_…` secret; refuses anything else with a message that says what is expected. */
export function secretBytes(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('the notification webhook secret must look like whsec_<base64>');
  const bytes = Buffer.from(secret.slice(PREFIX.length), 'base64');
  if (bytes.length < 24) throw new Error('the notification webhook secret must hold at least 24 bytes (whsec_<base64>)');
  return bytes;
}

/** A new secret in the specification's form. */
export const newSecret = (): string => `${PREFIX}${randomBytes(32).toString('base64')}`;

/** The three headers for `body`, sent as message `id` at `timestampSeconds`. */
export function signedHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}

/** Whether `headers` sign `body` with `secret` (any of the space-separated v1 signatures), within `toleranceSeconds`. */
export function verify(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const signatures = headers['webhook-signature'];
  if (!id || !Number.isInteger(timestamp) || !signatures || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signedHeaders(secret, id, timestamp, body)['webhook-signature']!.slice(3), 'base64');
  return signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
