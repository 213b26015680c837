/** The seller-side instance: one per order line (spec §3.1), moving PROVISIONING → ACTIVE ⇄ FROZEN → RELEASED. */

export const INSTANCE_STATES = ['PROVISIONING', 'ACTIVE', 'FROZEN', 'RELEASED'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** What the buyer sees in the marketplace console (spec §3.2 AppInfo). */
export interface AppInfo {
  frontEndUrl: string;
  adminUrl?: string;
  userName?: string;
  password?: string;
  memo?: string;
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
  createdAt: string;
  updatedAt: string;
  /** Incremented on every change; guards concurrent writers and numbers the history. */
  version: number;
}

/** The lifecycle events the provisioning queue carries to the seller's product. */
export type LifecycleEventType =
  | 'instance.created'
  | 'instance.renewed'
  | 'instance.frozen'
  | 'instance.unfrozen'
  | 'instance.released'
  | 'instance.upgraded';

/** One entry in an instance's history: who/what/when, previous and new state. */
export interface HistoryEntry {
  instanceId: string;
  /** Who asked for the change: the marketplace for every production-interface call. */
  actor: 'marketplace';
  version: number;
  at: string;
  activity: string;
  event: LifecycleEventType;
  orderId?: string;
  orderLineId?: string;
  scene?: string;
  from?: InstanceState;
  to: InstanceState;
  /** Field changes other than state, e.g. a new expireTime. */
  changes?: { expireTime?: string; productId?: string };
}
