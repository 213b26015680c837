/**
 * The single sign-on's own items in the main table: login states (single use: a conditional delete that also
 * refuses an expired state, since DynamoDB's TTL removes items only eventually) and sessions (by the SHA-256 of
 * their id; refreshed tokens replace the old ones only at the version read). Both carry `expiresAt` for the TTL.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { failedCondition } from '#lib/aws/dynamoDb.ts';
import type { LoginState, SsoSession } from '#lib/sso/model.ts';
import type { LoginStateStore, SessionStore } from '#lib/sso/ports.ts';
import { idHash } from '#lib/sso/secrets.ts';
import { getItem, toItem, updateIf } from './dynamo.ts';
import { keys } from './keys.ts';

const StateItem = z.object({
  tenantId: z.string(),
  appId: z.string(),
  returnTo: z.string().optional(),
  expiresAt: z.number(),
});

const SessionItem = z.object({
  tenantId: z.string(),
  tenantCode: z.string(),
  appId: z.string(),
  userName: z.string(),
  role: z.enum(['admin', 'user']),
  sealedTokens: z.string(),
  accessExpiresAt: z.number(),
  expiresAt: z.number(),
  version: z.number().int(),
  createdAt: z.string(),
});

export function loginStateStore(client: DynamoDb, table: string): LoginStateStore {
  return {
    async save(state: string, value: LoginState): Promise<void> {
      await client.send('PutItem', {
        TableName: table,
        Item: toItem(keys.ssoState(idHash(state)), value, { type: 'ssoState' }),
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    },
    async consume(state: string, nowSeconds: number): Promise<LoginState | undefined> {
      try {
        const out = await client.send('DeleteItem', {
          TableName: table,
          Key: marshall(keys.ssoState(idHash(state))),
          ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
          ExpressionAttributeValues: marshall({ ':now': nowSeconds }),
          ReturnValues: 'ALL_OLD',
        });
        const parsed = StateItem.safeParse(out.Attributes ? unmarshall(out.Attributes) : undefined);
        return parsed.success ? parsed.data : undefined;
      } catch (error) {
        if (failedCondition(error)) return undefined;
        throw error;
      }
    },
  };
}

export function sessionStore(client: DynamoDb, table: string): SessionStore {
  const keyOf = (sessionId: string) => keys.ssoSession(idHash(sessionId));
  return {
    async create(sessionId: string, session: SsoSession): Promise<void> {
      await client.send('PutItem', {
        TableName: table,
        Item: toItem(keyOf(sessionId), session, { type: 'ssoSession' }),
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    },
    async get(sessionId: string, nowSeconds: number): Promise<SsoSession | undefined> {
      const item = await getItem(client, table, keyOf(sessionId));
      const parsed = SessionItem.safeParse(item ? unmarshall(item) : undefined);
      if (!parsed.success || parsed.data.expiresAt <= nowSeconds) return undefined;
      return parsed.data;
    },
    async replaceTokens(sessionId, previousVersion, update): Promise<boolean> {
      const updated = await updateIf(client, table, keyOf(sessionId), {
        UpdateExpression: 'SET sealedTokens = :sealed, accessExpiresAt = :access, #version = :next',
        ConditionExpression: '#version = :previous',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: marshall({
          ':sealed': update.sealedTokens,
          ':access': update.accessExpiresAt,
          ':next': previousVersion + 1,
          ':previous': previousVersion,
        }),
      });
      return updated !== undefined;
    },
    async delete(sessionId: string): Promise<void> {
      await client.send('DeleteItem', { TableName: table, Key: marshall(keyOf(sessionId)) });
    },
  };
}
