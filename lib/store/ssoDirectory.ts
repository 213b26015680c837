/**
 * The single sign-on's read of what the Kit sync stored in the main table (read only), in the layout of lib/store/keys.ts: a tenant
 * (`pk=TENANT#<tenantId>`, `sk=TENANT`), its applications (`sk=APP#<appId>`) and the users authorised for each
 * (`sk=USER#<appId>#<userName>`). An item out of the expected shape reads as absent (and is logged by the caller's
 * refusal), never as a partial record.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { DynamoDb } from '#lib/aws/clients.ts';
import type { SsoApp, SsoTenant, SsoUser } from '#lib/sso/model.ts';
import type { SsoDirectory } from '#lib/sso/ports.ts';
import { getItem, queryPrefix, type Item } from './dynamo.ts';
import { keys } from './keys.ts';

const TenantItem = z.object({
  tenantId: z.string(),
  tenantCode: z.string(),
  name: z.string(),
  domainName: z.string(),
  status: z.enum(['ACTIVE', 'DELETED']),
  test: z.boolean().default(false),
});

const AppItem = z.object({
  appId: z.string(),
  clientId: z.string(),
  clientSecretCiphertext: z.string(),
  status: z.enum(['ACTIVE', 'DELETED']),
});

const UserItem = z.object({
  userName: z.string(),
  name: z.string(),
  orgCode: z.string(),
  role: z.enum(['admin', 'user']),
  enabled: z.boolean(),
  status: z.enum(['AUTHORISED', 'REVOKED', 'DELETED']),
});

function parsed<T>(schema: z.ZodType<T>, item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const result = schema.safeParse(unmarshall(item));
  return result.success ? result.data : undefined;
}

export function ssoDirectory(client: DynamoDb, table: string): SsoDirectory {
  return {
    async tenant(tenantId): Promise<SsoTenant | undefined> {
      return parsed(TenantItem, await getItem(client, table, keys.tenant(tenantId)));
    },
    async apps(tenantId): Promise<SsoApp[]> {
      const items = await queryPrefix(client, table, keys.tenantPartition(tenantId), 'APP#');
      return items.map((item) => parsed(AppItem, item)).filter((app): app is SsoApp => app !== undefined);
    },
    async user(tenantId, appId, userName): Promise<SsoUser | undefined> {
      return parsed(UserItem, await getItem(client, table, keys.kitUser(tenantId, appId, userName)));
    },
  };
}
