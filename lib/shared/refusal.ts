import type { $ZodError } from 'zod/v4/core';

/**
 * Why a flow refuses a request: the input is malformed (`invalid_request`) or breaks a rule (`unprocessable`),
 * what it names does not exist (`not_found`), or the current state does not allow it (`conflict`).
 */
export type RefusalCode = 'invalid_request' | 'not_found' | 'conflict' | 'unprocessable';

/**
 * A refused request, thrown by the flow that refuses it. The message is safe to show the caller; the seller API's
 * router answers it as `{"error": {code, message}}` with the code's status (lib/seller-api/router.ts).
 */
export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** A zod error as a refusal's message: up to 10 issues, each with its path under `where` (`body`, `query`, `path`). */
export function issuesMessage(error: $ZodError, where: string): string {
  const list = error.issues.slice(0, 10).map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`);
  return list.join('; ') + (error.issues.length > 10 ? ` (and ${error.issues.length - 10} more)` : '');
}
