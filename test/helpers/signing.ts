import { randomBytes } from 'node:crypto';
import { canonicalPayload, type JsonObject } from '../../lib/koogallery/canonicalJson.ts';
import { signatureV2 } from '../../lib/koogallery/signature.ts';

export const TEST_KEY = 'testAccessKey-0123456789';

/** Signs a body the way the marketplace does (spec §7.2) and returns the query parameters. */
export function signedQuery(
  body: JsonObject,
  options: { key?: string; nowMs?: number; nonce?: string; payload?: string } = {},
): { signature: string; timestamp: string; nonce: string } {
  const key = options.key ?? TEST_KEY;
  const timestamp = String(options.nowMs ?? Date.now());
  const nonce = options.nonce ?? randomBytes(32).toString('hex').toUpperCase();
  const signature = signatureV2(key, nonce, timestamp, options.payload ?? canonicalPayload(body)).toUpperCase();
  return { signature, timestamp, nonce };
}
