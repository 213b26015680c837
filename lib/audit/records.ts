/**
 * The audit table's record of one inbound marketplace call, or of one outbound usage push (`usagePush`: the
 * request body's hash and size, how many records, the marketplace's answer). Never a secret, signature or
 * personal data.
 */
export interface AuditRecord {
  at: string;
  correlationId: string;
  channel: 'produce' | 'produceV1' | 'usagePush';
  resultCode: string;
  latencyMs: number;
  bodySha256: string;
  bodyBytes: number;
  activity?: string;
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
