/**
 * The one place that knows the main table's key layout (docs/data-model.md).
 * Ids from the marketplace are URI-encoded inside composite keys so a `#` in an id cannot collide.
 */
import { createHash } from 'node:crypto';

const enc = encodeURIComponent;

export type Key = { pk: string; sk: string };

export const keys = {
  instance: (instanceId: string): Key => ({ pk: `INSTANCE#${enc(instanceId)}`, sk: '#INSTANCE' }),
  history: (instanceId: string, version: number): Key => ({
    pk: `INSTANCE#${enc(instanceId)}`,
    sk: `HISTORY#${String(version).padStart(8, '0')}`,
  }),
  /** The latest call to the seller's product for the instance's tenant. */
  provisioningAttempt: (instanceId: string): Key => ({ pk: `INSTANCE#${enc(instanceId)}`, sk: 'PROVISIONING' }),
  applied: (instanceId: string, idempotencyKey: string): Key => ({
    pk: `INSTANCE#${enc(instanceId)}`,
    sk: `APPLIED#${idempotencyKey}`,
  }),
  orderLine: (orderId: string, orderLineId: string): Key => ({
    pk: `ORDERLINE#${enc(orderId)}#${enc(orderLineId)}`,
    sk: '#ORDERLINE',
  }),
  /** Query Order's terms for an order line, beside its claim. */
  order: (orderId: string, orderLineId: string): Key => ({
    pk: `ORDERLINE#${enc(orderId)}#${enc(orderLineId)}`,
    sk: 'ORDER',
  }),
  /** An order line's billing facts (lib/settlement/model.ts), beside its claim and terms. */
  billing: (orderId: string, orderLineId: string): Key => ({
    pk: `ORDERLINE#${enc(orderId)}#${enc(orderLineId)}`,
    sk: 'BILLING',
  }),
  /** An order line's service supervision (spec §8.3), its history and its delivery proofs. */
  supervisionPartition: (orderId: string, orderLineId: string): string => `SUPERVISION#${enc(orderId)}#${enc(orderLineId)}`,
  supervision: (orderId: string, orderLineId: string): Key => ({ pk: keys.supervisionPartition(orderId, orderLineId), sk: '#SUPERVISION' }),
  supervisionHistory: (orderId: string, orderLineId: string, version: number): Key => ({
    pk: keys.supervisionPartition(orderId, orderLineId),
    sk: `HISTORY#${String(version).padStart(8, '0')}`,
  }),
  proof: (orderId: string, orderLineId: string, proofId: string): Key => ({
    pk: keys.supervisionPartition(orderId, orderLineId),
    sk: `PROOF#${proofId}`,
  }),
  /** A month's statement: its header, its versions, its runs and their finished segments. */
  statementPartition: (period: string): string => `STATEMENT#${period}`,
  statement: (period: string): Key => ({ pk: keys.statementPartition(period), sk: '#HEADER' }),
  statementVersion: (period: string, version: number): Key => ({
    pk: keys.statementPartition(period),
    sk: `VERSION#${String(version).padStart(4, '0')}`,
  }),
  settlementRun: (period: string, runId: string): Key => ({ pk: keys.statementPartition(period), sk: `RUN#${runId}` }),
  settlementSegment: (period: string, runId: string, segment: number): Key => ({
    pk: keys.statementPartition(period),
    sk: `RUN#${runId}#SEGMENT#${String(segment).padStart(3, '0')}`,
  }),
  /** The reconciliation of a month's statement against the marketplace's bill export. */
  reconciliation: (period: string): Key => ({ pk: keys.statementPartition(period), sk: '#RECONCILIATION' }),
  license: (code: string): Key => ({ pk: `LICENSE#${enc(code)}`, sk: '#LICENSE' }),
  licenseHistory: (code: string, version: number): Key => ({
    pk: `LICENSE#${enc(code)}`,
    sk: `HISTORY#${String(version).padStart(8, '0')}`,
  }),
  licenseApplied: (code: string, idempotencyKey: string): Key => ({ pk: `LICENSE#${enc(code)}`, sk: `APPLIED#${idempotencyKey}` }),
  /** A seller API key, by the SHA-256 of its secret (the secret itself is never stored). */
  apiKey: (hash: string): Key => ({ pk: `APIKEY#${hash}`, sk: '#APIKEY' }),
  /** An instance's usage window (beginTime as an ISO instant), its running total, and late-usage corrections. */
  usagePartition: (instanceId: string): string => `USAGE#${enc(instanceId)}`,
  usageWindow: (instanceId: string, beginIso: string): Key => ({ pk: keys.usagePartition(instanceId), sk: `WINDOW#${beginIso}` }),
  usageTotal: (instanceId: string): Key => ({ pk: keys.usagePartition(instanceId), sk: '#TOTAL' }),
  usageCorrection: (instanceId: string, at: string, id: string): Key => ({ pk: keys.usagePartition(instanceId), sk: `LATE#${at}#${id}` }),
  /** A usage report's clientRef, claimed once per instance: the idempotency key of a report. */
  usageRef: (instanceId: string, clientRef: string): Key => ({ pk: `USAGEREF#${enc(instanceId)}#${enc(clientRef)}`, sk: '#USAGEREF' }),
  /**
   * A claimed nonce, by its SHA-256: a V1 call's nonce is its authToken (a signature), which is never stored; the
   * hash is as unique, so a replay still meets the claim.
   */
  nonce: (keyId: string, nonce: string): Key => ({
    pk: `NONCE#${keyId}#${createHash('sha256').update(nonce).digest('hex')}`,
    sk: '#NONCE',
  }),
  /** A login in progress (lib/sso), by the SHA-256 of its `state`; removed when the callback consumes it. */
  ssoState: (stateHash: string): Key => ({ pk: `SSOSTATE#${stateHash}`, sk: '#SSOSTATE' }),
  /** A signed-in user's session (lib/sso), by the SHA-256 of its id (the browser's cookie holds the id). */
  ssoSession: (sessionHash: string): Key => ({ pk: `SSOSESSION#${sessionHash}`, sk: '#SSOSESSION' }),
  /**
   * A joint-operation tenant and what the Kit calls keep under it (docs/data-model.md): its record (`TENANT`),
   * applications (`APP#`), users per application (`USER#<appId>#<userName>`), departments (`ORG#`), the last full org
   * sync (`ORGSNAPSHOT`) and each record's history (`HISTORY#<record sk>#<version>`). Ids are kept as received in
   * the sort keys so the single sign-on flow can build them; a `#` cannot appear in the parts that follow them.
   */
  tenantPartition: (tenantId: string): string => `TENANT#${tenantId}`,
  tenant: (tenantId: string): Key => ({ pk: keys.tenantPartition(tenantId), sk: 'TENANT' }),
  kitApp: (tenantId: string, appId: string): Key => ({ pk: keys.tenantPartition(tenantId), sk: `APP#${appId}` }),
  kitUser: (tenantId: string, appId: string, userName: string): Key => ({
    pk: keys.tenantPartition(tenantId),
    sk: `USER#${appId}#${userName}`,
  }),
  kitOrg: (tenantId: string, orgCode: string): Key => ({ pk: keys.tenantPartition(tenantId), sk: `ORG#${orgCode}` }),
  orgSnapshot: (tenantId: string): Key => ({ pk: keys.tenantPartition(tenantId), sk: 'ORGSNAPSHOT' }),
  kitHistory: (record: Key, version: number): Key => ({ pk: record.pk, sk: `HISTORY#${record.sk}#${String(version).padStart(8, '0')}` }),
  /** A notification told to the seller's people (lib/notifications), by its id. */
  notification: (id: string): Key => ({ pk: `NOTIFICATION#${enc(id)}`, sk: '#NOTIFICATION' }),
  outboxPartition: 'OUTBOX',
  /**
   * Kit events for the seller's product, written with the change they describe; kept apart from the lifecycle outbox
   * (whose sweep and queue consumer read lifecycle events only) until their delivery is wired.
   */
  kitOutboxPartition: 'KITOUTBOX',
  kitOutbox: (occurredAt: string, eventId: string): Key => ({ pk: 'KITOUTBOX', sk: `${occurredAt}#${eventId}` }),
  outbox: (occurredAt: string, eventId: string): Key => ({ pk: 'OUTBOX', sk: `${occurredAt}#${eventId}` }),
  /** Audit table: one partition per UTC day, sorted by time then correlation id. */
  auditMessage: (at: string, correlationId: string): Key => ({ pk: `MSG#${at.slice(0, 10)}`, sk: `${at}#${correlationId}` }),
  /** Audit table: seller actions, one partition per UTC day (`ACTION#<day>`), sorted by time then correlation id. */
  sellerAction: (at: string, correlationId: string): Key => ({ pk: `ACTION#${at.slice(0, 10)}`, sk: `${at}#${correlationId}` }),
};
