/**
 * The seller's API-key CLI: keys for the seller API (`/seller/...`), sent as `Authorization: Bearer kgs_...`.
 * A key's secret is printed once, at creation; only its SHA-256 is stored, so a lost secret means a new key.
 *
 *   npm run keys -- create --name <name> --scopes <scope>[,<scope>...]
 *   npm run keys -- list
 *   npm run keys -- revoke <keyId|name>
 *
 * Reads MAIN_TABLE and the standard AWS_* variables (e.g. AWS_ENDPOINT_URL_DYNAMODB locally) from the environment.
 * Exit codes: 0 done, 1 refused (name taken, no such key), 2 bad arguments or environment.
 */
import type { DynamoDb } from '#lib/aws/clients.ts';
import { z } from 'zod';
import { ApiKeyError, SCOPES, type Scope, type SellerKey } from '#lib/seller-api/apiKeys.ts';
import type { ApiKeyStore } from '#lib/seller-api/ports.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { cliEnvironment, consoleOutput, parseCommandLine, runIfMain, type CliOutput } from './local/cli.ts';

export const USAGE = `Usage:
  keys create --name <name> --scopes <scope>[,<scope>...]
  keys list
  keys revoke <keyId|name>
Scopes: ${SCOPES.join(', ')}`;

function printCreated(io: CliOutput, secret: string, key: SellerKey): void {
  io.out(`created API key ${key.keyId}`);
  io.out(`  name    ${key.name}`);
  io.out(`  scopes  ${key.scopes.join(',')}`);
  io.out(`  secret  ${secret}`);
  io.err('warning: this is the only time the secret is shown; store it now (only its hash is kept).');
}

/** The keys as a table, one line per key; no secret or hash is known here to print. */
export function keysTable(list: readonly SellerKey[]): string[] {
  const rows = [
    ['KEY ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...list.map((k) => [k.keyId, k.name, k.scopes.join(','), k.createdAt, k.lastUsedAt ?? '-', k.revokedAt ?? '-']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

/** `a,b , c` → ['a', 'b', 'c']; the store says what is wrong with them. */
const scopeList = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Runs one command line (without `node` and the script); returns the exit code. */
export async function runKeysCli(
  argv: readonly string[],
  store: () => ApiKeyStore,
  nowMs: number,
  io: CliOutput = consoleOutput,
): Promise<number> {
  const line = parseCommandLine(argv, { name: { type: 'string' }, scopes: { type: 'string' } }, USAGE, io);
  if (!line.ok) return line.exitCode;
  const { command, target, values, usageError } = line;
  const hasOptions = values.name !== undefined || values.scopes !== undefined;

  switch (command) {
    case 'create': {
      if (target !== undefined) return usageError(`unexpected argument ${JSON.stringify(target)}`);
      if (values.name === undefined) return usageError('create needs --name');
      if (values.scopes === undefined) return usageError('create needs --scopes');
      try {
        const { secret, key } = await store().create({ name: values.name, scopes: scopeList(values.scopes), now: nowMs });
        printCreated(io, secret, key);
        return 0;
      } catch (error) {
        if (!(error instanceof ApiKeyError)) throw error;
        if (error.reason === 'invalid') return usageError(error.message);
        io.err(`error: ${error.message}`);
        return 1;
      }
    }
    case 'list': {
      if (target !== undefined) return usageError(`unexpected argument ${JSON.stringify(target)}`);
      if (hasOptions) return usageError('list takes no options');
      const list = await store().list();
      if (list.length === 0) io.out('no API keys');
      else for (const line of keysTable(list)) io.out(line);
      return 0;
    }
    case 'revoke': {
      if (target === undefined) return usageError('revoke needs a keyId or a name');
      if (hasOptions) return usageError('revoke takes no options');
      try {
        const key = await store().revoke(target, nowMs);
        if (!key) {
          io.err(`error: no API key with keyId ${JSON.stringify(target)} and no live key named so`);
          return 1;
        }
        // A key revoked earlier keeps its first revokedAt.
        io.out(`API key ${key.keyId} (${key.name}) revoked at ${key.revokedAt}`);
        return 0;
      } catch (error) {
        if (!(error instanceof ApiKeyError)) throw error;
        io.err(`error: ${error.message}`);
        return 1;
      }
    }
    default:
      return usageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/**
 * A new working key for the local stack, printed like `keys create` prints one; a live key of the same name is
 * revoked and replaced. `npm start` calls it (scripts/local/sellerKey.ts) when the key it kept is no longer valid.
 */
export async function createLocalKey(
  client: DynamoDb,
  table: string,
  options: { name?: string; scopes?: readonly Scope[]; nowMs?: number; io?: CliOutput } = {},
): Promise<{ secret: string; key: SellerKey }> {
  const { name = 'local', scopes = SCOPES, nowMs = Date.now(), io = consoleOutput } = options;
  const store = apiKeyStore(client, table);
  const live = (await store.list()).filter((k) => k.name === name && k.revokedAt === undefined);
  for (const old of live) await store.revoke(old.keyId, nowMs);
  const created = await store.create({ name, scopes, now: nowMs });
  printCreated(io, created.secret, created.key);
  return created;
}

const envSchema = z.object({
  MAIN_TABLE: z.string({ error: 'must be set (the main table name)' }).min(1, 'must be set (the main table name)'),
});

async function main(): Promise<number> {
  const env = cliEnvironment(envSchema);
  if (!env) return 2;
  const table = env.MAIN_TABLE;
  return runKeysCli(process.argv.slice(2), () => apiKeyStore(dynamoClient(), table), Date.now());
}

runIfMain(import.meta.url, main);
