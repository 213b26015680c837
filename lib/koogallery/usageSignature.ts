/**
 * The business signature of the usage push (按需使用量推送, spec §7.7, §8.2): headers `signature`, `ts` (epoch ms)
 * and `nonce` on `POST …/isv/usage-data`, beside the APIG AK/SK signature.
 *
 *   signature = base64( HMAC-SHA256( accessKey, "ts={ts}&nonce={nonce}&body={body}" ) )
 *
 * `accessKey` is the seller's basic-interface access key (the one that signs KooGallery's calls to the seller).
 * The marketplace asks for the body "sorted naturally" without saying how deep; usageBody sorts keys at every level
 * (arrays keep their order) and the client sends exactly the bytes it signed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sortDeep, type JsonObject } from './canonicalJson.ts';
import type { UsagePushRecord } from './openApi/contract.ts';

/** The push body `{"usage_records":[…]}`: compact JSON, keys sorted at every level, absent fields omitted. */
export function usageBody(records: readonly UsagePushRecord[]): string {
  return JSON.stringify(sortDeep({ usage_records: records } as unknown as JsonObject));
}

function signedText(ts: string, nonce: string, body: string | Uint8Array): Buffer {
  const head = Buffer.from(`ts=${ts}&nonce=${nonce}&body=`, 'utf8');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/** The `signature` header value. `body` is the exact request body (a string is taken as its UTF-8 bytes). */
export function usageSignature(accessKey: string, ts: string, nonce: string, body: string | Uint8Array): string {
  return createHmac('sha256', Buffer.from(accessKey, 'utf8'))
    .update(signedText(ts, nonce, body))
    .digest('base64');
}

/** Whether `signature` is the usage signature of this request; constant-time comparison. */
export function verifyUsageSignature(accessKey: string, ts: string, nonce: string, body: string | Uint8Array, signature: string): boolean {
  const expected = Buffer.from(usageSignature(accessKey, ts, nonce, body), 'utf8');
  const received = Buffer.from(signature, 'utf8');
  return expected.length === received.length && timingSafeEqual(expected, received);
}
