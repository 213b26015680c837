import type { AuditRecord } from '#lib/audit/records.ts';
import type { HistoryEntry, Instance, InstanceState, ProvisioningAttempt } from '#lib/instances/model.ts';
import type { SellerKey } from './apiKeys.ts';

/**
 * What the seller API needs of storage: its API keys, and the seller's views of instances and of the message log.
 * lib/store/apiKeyStore.ts and lib/store/sellerViews.ts implement them on DynamoDB.
 */

export type Authentication = { ok: true; key: SellerKey } | { ok: false; reason: 'unknown' | 'revoked' };

/** Seller API keys: only a key's hash is kept; the secret is returned once, at creation. */
export interface ApiKeyStore {
  /**
   * A new key; the secret is returned here and nowhere else. Names are unique among keys that are not revoked
   * (ApiKeyError `duplicate`); a malformed name or scope is ApiKeyError `invalid`.
   */
  create(input: { name: string; scopes: readonly string[]; now: number }): Promise<{ secret: string; key: SellerKey }>;
  /** Every key, revoked ones included, newest first. */
  list(): Promise<SellerKey[]>;
  /**
   * Revokes the key with this keyId, or else the key with this name that is not revoked yet. A key revoked
   * already is returned as it is (its first revokedAt stays). Undefined if nothing matches.
   */
  revoke(keyIdOrName: string, now: number): Promise<SellerKey | undefined>;
  /** The key a secret belongs to, if it is known and not revoked; records its use. */
  authenticate(secret: string, now: number): Promise<Authentication>;
}

/** A query the listing cannot run: a limit out of bounds, an unknown state, a bad or too wide time range. */
export class InvalidQueryError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueryError';
  }
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow: pass it back to get the next page. */
  nextCursor?: string;
}

export interface ListInstancesQuery {
  state?: InstanceState;
  productId?: string;
  test?: boolean;
  /** 1 to 100, default 25. */
  limit?: number;
  cursor?: string;
}

/** A message-log record as the seller API shows it (the audit item without its keys). */
export type MessageRecord = AuditRecord;

export interface ListMessagesQuery {
  /** ISO date-time, inclusive. */
  from: string;
  /** ISO date-time, inclusive; at most 31 days after `from`. */
  to: string;
  resultCode?: string;
  instanceId?: string;
  orderId?: string;
  /** The activity of an authenticated call, or the one a refused call claimed. */
  activity?: string;
  channel?: MessageChannel;
  /** 1 to 200, default 50. */
  limit?: number;
  cursor?: string;
}

/**
 * Where a message-log record comes from: the marketplace's calls to the production interface (stored as `produce`
 * or `produceV1`), our usage push to the marketplace (`usagePush`), our other calls to its Open API (`openApi`:
 * Query Order), or our deliveries of lifecycle events to the seller's product (`webhook`).
 */
export const MESSAGE_CHANNELS = ['marketplace', 'usagePush', 'openApi', 'webhook'] as const;
export type MessageChannel = (typeof MESSAGE_CHANNELS)[number];
/** The stored `channel` values of each channel. */
export const STORED_CHANNELS: Record<MessageChannel, readonly AuditRecord['channel'][]> = {
  marketplace: ['produce', 'produceV1', 'kit'],
  usagePush: ['usagePush'],
  openApi: ['openApi'],
  webhook: ['webhook'],
};

export const INSTANCE_LIMIT = { min: 1, max: 100, default: 25 } as const;
export const MESSAGE_LIMIT = { min: 1, max: 200, default: 50 } as const;
export const MAX_MESSAGE_RANGE_DAYS = 31;

export interface InstanceDetail {
  instance: Instance;
  history: HistoryEntry[];
  attempt?: ProvisioningAttempt;
}

/**
 * What the seller reads of the marketplace's traffic. A query out of bounds is an InvalidQueryError, a cursor the
 * listing did not issue an InvalidCursorError; both are the caller's mistake (400).
 */
export interface SellerViews {
  /** Instances newest first (by creation), optionally only those in a state, of a product, or test/real ones. */
  listInstances(query?: ListInstancesQuery): Promise<Page<Instance>>;
  /**
   * One instance, its history (oldest first) and the record of its calls to the seller's product (if one was
   * made), or undefined if there is no such instance.
   */
  instanceWithHistory(instanceId: string): Promise<InstanceDetail | undefined>;
  /**
   * Message-log records with `from <= at <= to`, newest first, optionally only those of one resultCode, instance,
   * order, activity or channel.
   */
  listMessages(query: ListMessagesQuery): Promise<Page<MessageRecord>>;
  /** One message-log record by its time and correlation id, or undefined. */
  getMessage(at: string, correlationId: string): Promise<MessageRecord | undefined>;
}
