/**
 * The local stack's seller API key (every scope), kept across restarts: its secret is kept in `.local/seller-key.json`
 * (owner-only, never committed), and `npm start` reuses it while it is valid (known, not revoked, every scope), so a
 * key exported in another terminal keeps working. Otherwise a new key replaces it (a live key of the same name is
 * revoked) and its secret is kept. `npm start -- --fresh` deletes .local/, and with it the kept secret.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import type { DynamoDb } from '#lib/aws/clients.ts';
import { SCOPES, type SellerKey } from '#lib/seller-api/apiKeys.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { createLocalKey } from '../keys.ts';
import { projectRoot } from './serverless-config.ts';

export const SELLER_KEY_FILE = join(projectRoot(), '.local', 'seller-key.json');

const KeptKey = z.object({ secret: z.string().min(1) });

/** The kept secret, if the file holds one. */
function keptSecret(file: string): string | undefined {
  try {
    const parsed = KeptKey.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data.secret : undefined;
  } catch {
    return undefined;
  }
}

function keepSecret(file: string, secret: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ secret })}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

const hasEveryScope = (key: SellerKey) => SCOPES.every((scope) => key.scopes.includes(scope));

/** The local key: the kept one when it is still valid (`reused`), else a new one, kept for the next start. */
export async function localSellerKey(
  client: DynamoDb,
  table: string,
  options: { file?: string; name?: string; nowMs?: number } = {},
): Promise<{ secret: string; key: SellerKey; reused: boolean }> {
  const { file = SELLER_KEY_FILE, name = 'local', nowMs = Date.now() } = options;
  const secret = keptSecret(file);
  if (secret !== undefined) {
    const found = await apiKeyStore(client, table).authenticate(secret, nowMs);
    if (found.ok && found.key.name === name && hasEveryScope(found.key)) return { secret, key: found.key, reused: true };
  }
  const created = await createLocalKey(client, table, { name, nowMs, io: { out: () => {}, err: () => {} } });
  keepSecret(file, created.secret);
  return { ...created, reused: false };
}
