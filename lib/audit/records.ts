/**
 * The audit table's record of one inbound marketplace call, or of one outbound usage push (`usagePush`: the
 * request body's hash and size, how many records, the marketplace's answer). Never a secret, signature or
 * personal data. Fields taken from the request are those of an authenticated call, except `claimedActivity`.
 */
export interface AuditRecord {
  at: string;
  correlationId: string;
  channel: 'produce' | 'produceV1' | 'usagePush';
  resultCode: string;
  latencyMs: number;
  bodySha256: string;
  bodyBytes: number;
  /** The activity of an authenticated call. */
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
  keyId?: string;
  signatureForm?: string;
  test?: boolean;
  reason?: string;
  /** usagePush: the number of usage records in the request. */
  records?: number;
}
