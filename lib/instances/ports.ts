/**
 * What the instance flows (the produce call, the provisioning worker, the safety sweep) need of storage.
 * lib/store/instanceStore.ts implements it on DynamoDB; test/fakes has an in-memory one.
 */
import type { AuditRecord } from '#lib/audit/records.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { Expiry } from '#lib/shared/testData.ts';
import type { Commit, PlannedWrite } from '#lib/shared/transaction.ts';
import type { HistoryEntry, Instance, OrderTerms, ProvisioningAttempt } from './model.ts';

export interface DueInstance {
  instanceId: string;
  version: number;
  dueAt: string;
}

export interface InstanceStore {
  getInstance(instanceId: string): Promise<Instance | undefined>;
  /** The instance and whether an order-carrying command was already applied to it, in one round trip. */
  getInstanceAndApplied(
    instanceId: string,
    idempotencyKey: string | undefined,
  ): Promise<{ instance: Instance | undefined; alreadyApplied: boolean }>;
  /** Up to 100 instances by id (BatchGetItem's limit, and queryInstance's). Unknown ids are absent. */
  getInstances(instanceIds: readonly string[]): Promise<Map<string, Instance>>;
  getOrderLineInstanceId(orderId: string, orderLineId: string): Promise<string | undefined>;
  /** The whole history, oldest first. */
  getHistory(instanceId: string): Promise<HistoryEntry[]>;
  /** Claims a nonce; the write fails (label `nonce`) if it was claimed before. */
  claimNonce(keyId: string, nonce: string, expiresAt: number): PlannedWrite;
  /** The order-line claim, the instance, its first history entry and the outbox event, all or nothing. */
  createInstance(instance: Instance, entry: HistoryEntry, event: LifecycleEvent, nowSeconds: number, expiresAt: Expiry): PlannedWrite[];
  /**
   * The changed instance (only if nobody changed it since we read version `previousVersion`), its history entry,
   * the applied-marker of an order-carrying command, and the outbox event if it has one.
   */
  applyChange(
    previousVersion: number,
    next: Instance,
    entry: HistoryEntry,
    idempotencyKey: string | undefined,
    event: LifecycleEvent | undefined,
    nowSeconds: number,
    expiresAt: Expiry,
  ): PlannedWrite[];
  /** The order line's terms as Query Order gave them; a later fetch replaces them. */
  orderRecord(order: OrderTerms, instanceId: string, fetchedAt: string, expiresAt: Expiry): PlannedWrite;
  /** Annotations without a transition, conditioned on the version read; false when the instance moved on. */
  annotate(instanceId: string, version: number, fields: Partial<Pick<Instance, 'overdueSince' | 'provisioning'>>): Promise<boolean>;
  /** Real ACTIVE instances whose expiry is before `before`, oldest first. */
  dueForExpiry(before: string, limit: number): Promise<DueInstance[]>;
  /** The latest call to the seller's product for a tenant (consistent read), if one was ever made. */
  getProvisioningAttempt(instanceId: string): Promise<ProvisioningAttempt | undefined>;
  /** Records a call to the product (replacing the previous record). */
  provisioningAttempt(attempt: ProvisioningAttempt, expiresAt: Expiry): PlannedWrite;
  /** Writes nothing; fails the transaction (label `instance`) if the instance is no longer at `version`. */
  instanceAt(instanceId: string, version: number): PlannedWrite;
  /** The message-log record of a marketplace call (law 6): created, never replaced. */
  audit(record: AuditRecord): PlannedWrite;
  commit: Commit;
}
