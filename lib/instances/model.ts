import type { SellerActor } from '#lib/audit/records.ts';
import type { OrderLine } from '#lib/koogallery/openApi/contract.ts';

/**
 * The seller-side instance: one per order line (spec §3.1), moving PROVISIONING → ACTIVE ⇄ FROZEN → RELEASED.
 * Provisioning that fails for good leaves it PROVISIONING_FAILED until the seller retries it.
 */

export const INSTANCE_STATES = ['PROVISIONING', 'PROVISIONING_FAILED', 'ACTIVE', 'FROZEN', 'RELEASED'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** What the buyer sees in the marketplace console (spec §3.2 AppInfo). */
export interface AppInfo {
  frontEndUrl: string;
  adminUrl?: string;
  userName?: string;
  password?: string;
  memo?: string;
}

/**
 * What the marketplace's Query Order says about an order line (spec §8.1), as stored: ids and terms, never
 * the buyer's names, phone or email. `amount` is a decimal string (money is never a float).
 */
export type OrderTerms = OrderLine;

/** Where provisioning stands when it is not simply done. */
export interface ProvisioningStatus {
  /** Why the last attempt failed for good (PROVISIONING_FAILED), or why a later step failed (an upgrade's order query). */
  failure?: { reason: string; at: string; eventId: string };
  /** Set by the safety sweep when provisioning was still not done after its re-queues: the seller must look. */
  stuckSince?: string;
}

/**
 * The seller's product was asked for a tenant (an `instance.created` call), kept beside the instance rather than on
 * it so the marketplace's writes never race with it. Once an instance is released, a release reaches the product
 * whenever one of these exists, and only after the call it records was answered or abandoned (law 10).
 */
export interface ProvisioningAttempt {
  instanceId: string;
  /** The `instance.created` event of the latest call. */
  eventId: string;
  /** Calls made to the product for this instance, in all. */
  attempts: number;
  /** `calling` from just before the call until its answer is recorded; a worker that died leaves it so. */
  status: 'calling' | 'answered';
  startedAt: string;
  answeredAt?: string;
  /** Why the latest call failed (a retryable or a permanent failure); absent when it succeeded. */
  lastError?: string;
}

export interface Instance {
  instanceId: string;
  orderId: string;
  orderLineId: string;
  /** businessId of the first newInstance request for this order line. */
  businessId: string;
  state: InstanceState;
  /** Debug traffic (testFlag=1): kept out of usage and settlement, expires. */
  test: boolean;
  /** Raw `yyyyMMddHHmmss` as the marketplace sent it; its time zone is unstated (spec §10.5). */
  expireTime?: string;
  productId?: string;
  appInfo?: AppInfo;
  /** The order line's terms from Query Order; an upgrade replaces them with the upgrade order's. */
  order?: OrderTerms;
  provisioning?: ProvisioningStatus;
  /** Set by the safety sweep when expireTime plus the grace passed without a FREEZE from the marketplace. */
  overdueSince?: string;
  createdAt: string;
  updatedAt: string;
  /** Incremented on every change; guards concurrent writers and numbers the history. */
  version: number;
}

/** The lifecycle events the provisioning queue carries to the seller's product. */
export const LIFECYCLE_EVENT_TYPES = [
  'instance.created',
  'instance.renewed',
  'instance.frozen',
  'instance.unfrozen',
  'instance.released',
  'instance.upgraded',
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

/** History-only events: the outcome of provisioning, recorded but not sent anywhere. */
export type ProvisioningEventType = 'instance.provisioned' | 'instance.provisioningFailed' | 'instance.provisioningRetried';

/**
 * Who changed an instance: the marketplace (production-interface calls), the provisioning worker, or the
 * seller (retrying a failed provisioning).
 */
export type Actor = 'marketplace' | 'provisioner' | 'seller';

/** One entry in an instance's history: who/what/when, previous and new state. */
export interface HistoryEntry {
  instanceId: string;
  actor: Actor;
  version: number;
  at: string;
  activity: string;
  event: LifecycleEventType | ProvisioningEventType;
  orderId?: string;
  orderLineId?: string;
  scene?: string;
  from?: InstanceState;
  to: InstanceState;
  /** Field changes other than state, e.g. a new expireTime. */
  changes?: { expireTime?: string; productId?: string; skuCode?: string; linearValue?: number };
  /** Why provisioning failed (never a secret or personal data). */
  reason?: string;
  /** Who asked, when the seller did: the seller API key, or the operator's principal (operator CLI). */
  by?: SellerActor;
}
