import { type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { failedCondition } from '#lib/aws/dynamoDb.ts';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import {
  API_KEY_PATTERN,
  ApiKeyError,
  generateApiKey,
  hashApiKey,
  parseNewKey,
  sameHash,
  ScopeSchema,
  type SellerKey,
} from '#lib/seller-api/apiKeys.ts';
import type { ApiKeyStore, Authentication } from '#lib/seller-api/ports.ts';
import { iso } from '#lib/shared/time.ts';
import { getItem, LIST_INDEX, queryItems, toItem, updateIf } from './dynamo.ts';
import { keys } from './keys.ts';

/** API keys in the main table's `list` index (resources/dynamodb.yml): `listKind = APIKEY`. */
export const API_KEY_LIST_KIND = 'APIKEY';

/** How often (at most) a key's lastUsedAt is written: one write per key per minute, not one per request. */
export const DEFAULT_TOUCH_EVERY_SECONDS = 60;

const apiKeyItemSchema = z.object({
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  keyId: z.string().regex(/^[0-9a-f]{12}$/),
  name: z.string().min(1),
  scopes: z.array(ScopeSchema),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().optional(),
  revokedAt: z.iso.datetime().optional(),
});
type ApiKeyItem = z.output<typeof apiKeyItemSchema>;

function fromItem(item: Record<string, AttributeValue>): ApiKeyItem {
  const parsed = apiKeyItemSchema.safeParse(unmarshall(item));
  if (!parsed.success) {
    // The item's keys are not in the message: its pk holds the hash.
    throw new Error(`malformed API key item: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** What may leave the store: never the hash. */
function sellerKey(item: ApiKeyItem): SellerKey {
  const { keyId, name, scopes, createdAt, lastUsedAt, revokedAt } = item;
  return { keyId, name, scopes, createdAt, ...(lastUsedAt ? { lastUsedAt } : {}), ...(revokedAt ? { revokedAt } : {}) };
}

/**
 * Seller API keys in the main table: `APIKEY#<sha256>` holds one key, listed by the `list` index.
 * Keys are few (a seller's integrations), so lookups by keyId or name read the listing.
 */
export function apiKeyStore(client: DynamoDb, table: string, options: { touchEverySeconds?: number } = {}): ApiKeyStore {
  const touchEverySeconds = options.touchEverySeconds ?? DEFAULT_TOUCH_EVERY_SECONDS;
  if (!Number.isFinite(touchEverySeconds) || touchEverySeconds < 0)
    throw new Error('touchEverySeconds must be a number of seconds, 0 or more');
  const touchEveryMs = touchEverySeconds * 1000;

  async function listItems(): Promise<ApiKeyItem[]> {
    const items = await queryItems(client, {
      TableName: table,
      IndexName: LIST_INDEX,
      KeyConditionExpression: 'listKind = :kind',
      ExpressionAttributeValues: marshall({ ':kind': API_KEY_LIST_KIND }),
      ScanIndexForward: false,
    });
    return items.map(fromItem);
  }

  /** Records a use, unless one was recorded within the last touchEverySeconds (by this or a concurrent request). */
  async function touch(item: ApiKeyItem, nowMs: number): Promise<string | undefined> {
    const threshold = iso(nowMs - touchEveryMs);
    if (item.lastUsedAt !== undefined && item.lastUsedAt >= threshold) return undefined;
    const lastUsedAt = iso(nowMs);
    const updated = await updateIf(client, table, keys.apiKey(item.hash), {
      UpdateExpression: 'SET lastUsedAt = :now',
      // attribute_exists(pk): an update must never create a key item.
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :threshold)',
      ExpressionAttributeValues: marshall({ ':now': lastUsedAt, ':threshold': threshold }),
    });
    return updated === undefined ? undefined : lastUsedAt;
  }

  return {
    /**
     * A new key; the secret is returned here and nowhere else. Names are unique among keys that are not revoked,
     * checked against the listing: two concurrent creates with one name (or a create within the index's replication
     * lag of another) can both succeed. Such a pair is then revoked by keyId, as revoking by name refuses it.
     */
    async create(input: { name: string; scopes: readonly string[]; now: number }): Promise<{ secret: string; key: SellerKey }> {
      const parsed = parseNewKey({ name: input.name, scopes: input.scopes });
      if (!parsed.ok) throw new ApiKeyError('invalid', parsed.error);
      const { name, scopes } = parsed.value;
      if ((await listItems()).some((k) => k.name === name && k.revokedAt === undefined)) {
        throw new ApiKeyError(
          'duplicate',
          `an API key named ${JSON.stringify(name)} exists already; revoke it first or choose another name`,
        );
      }
      const { secret, hash, keyId } = generateApiKey();
      const item: ApiKeyItem = { hash, keyId, name, scopes, createdAt: iso(input.now) };
      await client.send('PutItem', {
        TableName: table,
        Item: toItem(keys.apiKey(hash), { type: 'apiKey', ...item }, { listKind: API_KEY_LIST_KIND, listAt: `${item.createdAt}#${keyId}` }),
        ConditionExpression: 'attribute_not_exists(pk)',
      });
      return { secret, key: sellerKey(item) };
    },

    /** Every key, revoked ones included, newest first. */
    async list(): Promise<SellerKey[]> {
      return (await listItems()).map(sellerKey);
    },

    /**
     * Revokes the key with this keyId, or else the key with this name that is not revoked yet. A key revoked
     * already is returned as it is (its first revokedAt stays). Undefined if nothing matches.
     */
    async revoke(keyIdOrName: string, now: number): Promise<SellerKey | undefined> {
      const all = await listItems();
      let matches = all.filter((k) => k.keyId === keyIdOrName);
      if (matches.length === 0) matches = all.filter((k) => k.name === keyIdOrName && k.revokedAt === undefined);
      if (matches.length === 0) return undefined;
      if (matches.length > 1) {
        throw new ApiKeyError(
          'ambiguous',
          `${JSON.stringify(keyIdOrName)} matches ${matches.length} keys (${matches.map((k) => k.keyId).join(', ')}); revoke by keyId`,
        );
      }
      const target = matches[0]!;
      try {
        const out = await client.send('UpdateItem', {
          TableName: table,
          Key: marshall(keys.apiKey(target.hash)),
          UpdateExpression: 'SET revokedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: marshall({ ':now': iso(now) }),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return out.Attributes ? sellerKey(fromItem(out.Attributes)) : undefined;
      } catch (error) {
        const failed = failedCondition(error);
        if (!failed) throw error;
        return failed.item ? sellerKey(fromItem(failed.item)) : undefined;
      }
    },

    /**
     * The key a secret belongs to, if it is known and not revoked. Records its use at most once per
     * touchEverySeconds; a concurrent request having recorded it first is not a failure.
     */
    async authenticate(secret: string, now: number): Promise<Authentication> {
      if (!API_KEY_PATTERN.test(secret)) return { ok: false, reason: 'unknown' };
      const hash = hashApiKey(secret);
      const found = await getItem(client, table, keys.apiKey(hash), { eventual: true });
      if (!found) return { ok: false, reason: 'unknown' };
      const item = fromItem(found);
      if (!sameHash(item.hash, hash)) return { ok: false, reason: 'unknown' };
      if (item.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
      const touchedAt = await touch(item, now);
      return { ok: true, key: sellerKey(touchedAt ? { ...item, lastUsedAt: touchedAt } : item) };
    },
  };
}
