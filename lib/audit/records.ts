import type { KeptBody } from './redact.ts';

/**
 * The audit table's record of one message: an inbound marketplace call (`produce`, `produceV1`), an outbound usage
 * push (`usagePush`), another call to the marketplace's Open API (`openApi`: Query Order), or a delivery of a
 * lifecycle event to the seller's product (`webhook`). It keeps the request and the answer redacted
 * (lib/audit/redact.ts: never a secret, a signature or personal data), the request's hash and size, the verdict and
 * the ids it is about. Fields taken from a marketplace call are those of an authenticated call, except
 * `claimedActivity` and a refused call's `request`.
 */
export interface AuditRecord {
  at: string;
  correlationId: string;
  /** `kit`: a joint-operation Kit call (its interface name is the activity). */
  channel: 'produce' | 'produceV1' | 'usagePush' | 'openApi' | 'webhook' | 'kit';
  /** The marketplace's result code; for a webhook, the HTTP status, or the failure (`NETWORK_ERROR`, `TIMEOUT`…). */
  resultCode: string;
  latencyMs: number;
  bodySha256: string;
  bodyBytes: number;
  /** The activity of an authenticated call; openApi: the operation (`queryOrder`); webhook: the event type. */
  activity?: string;
  /**
   * A refused call's activity as the request claimed it, not authenticated: at most 32 characters of
   * `[A-Za-z0-9_.-]`, any other character replaced by `_`.
   */
  claimedActivity?: string;
  orderId?: string;
  orderLineId?: string;
  instanceId?: string;
  licenseId?: string;
  /** kit: the tenant the call is about. */
  tenantId?: string;
  keyId?: string;
  signatureForm?: string;
  test?: boolean;
  reason?: string;
  /** usagePush: the number of usage records in the request. */
  records?: number;
  /** openApi, usagePush, webhook: the HTTP status of the answer, when one arrived. */
  httpStatus?: number;
  /** What was sent, redacted: produce `{query, body}`, produceV1 `{query}`, usagePush `{records}`, openApi `{query}`, webhook the event. */
  request?: KeptBody;
  /** What was answered, redacted: the answer we gave the marketplace, or the answer we received. */
  answer?: KeptBody;
}

/**
 * Who did a seller action: a seller API key (its id and name, never its secret), an operator (an AWS principal
 * ARN, or `local:<user>@<host>` against the local stack), or a caller refused before authentication (with the
 * keyId of the key it presented, if it presented one in the key format), or a buyer's user at the single sign-on.
 */
export type SellerActor =
  | { kind: 'key'; keyId: string; name: string }
  | { kind: 'operator'; principal: string }
  | { kind: 'anonymous'; keyId?: string }
  /** A buyer's user signing in to the product through OneAccess (lib/sso): the tenant and the login name. */
  | { kind: 'user'; tenantId: string; userName: string };

/** How a seller action ended: done (`ok`), refused (4xx: nothing changed), or failed (5xx). */
export type SellerActionOutcome = 'ok' | 'refused' | 'failed';

/**
 * The audit table's record of one seller action: a seller API call that changes something (every non-GET route),
 * or an operator's command. Who (`actor`), what (`action`, a stable name such as `statements.run`), to what
 * (`target`: the ids the action names, e.g. `{ period: '2026-11' }`), with what result, when, and the request's
 * correlation id. Never a body, a secret or personal data.
 */
export interface SellerActionRecord {
  at: string;
  correlationId: string;
  channel: 'sellerApi' | 'operator' | 'sso';
  actor: SellerActor;
  /** What the listing's `actor` filter matches: the keyId, the operator's principal, or `anonymous`. */
  actorId: string;
  action: string;
  target: Record<string, string>;
  result: { outcome: SellerActionOutcome; status?: number; errorCode?: string };
  latencyMs?: number;
}
