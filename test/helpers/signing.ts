import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';

export const TEST_KEY = 'testAccessKey-0123456789';

/** The query parameters of a request signed with the test key (or `options.key`). */
export function signedQuery(
  body: JsonObject,
  options: { key?: string; nowMs?: number; nonce?: string; payload?: string } = {},
): { signature: string; timestamp: string; nonce: string } {
  return signRequest(options.key ?? TEST_KEY, body, options);
}
