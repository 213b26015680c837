/**
 * The seller's License-code CLI (spec §1.2, §5.1). A license code is known to the production interface only once the
 * seller registers it here; until then the marketplace's callbacks for it answer 000003.
 *
 *   npm run licenses -- register <code> [--order <orderId>] [--line <orderLineId>] [--product <productId>]
 *                                      [--expire yyyyMMddHHmmss] [--test]
 *   npm run licenses -- show <code>
 *
 * Reads MAIN_TABLE, TEST_INSTANCE_TTL_DAYS (default 7) and the standard AWS_* variables (e.g. AWS_ENDPOINT_URL_DYNAMODB
 * locally) from the environment.
 * Exit codes: 0 done, 1 refused (already registered, unknown code), 2 bad arguments or environment.
 */
import { z } from 'zod';
import { refreshLicenseCodeSchema } from '#lib/koogallery/activities.ts';
import { registerLicense, type License, type LicenseHistoryEntry } from '#lib/licenses/license.ts';
import { dynamoClient, type DynamoDb } from '#lib/aws/clients.ts';
import type { Commit } from '#lib/shared/transaction.ts';
import { commitWrites } from '#lib/store/dynamo.ts';
import { testExpiry } from '#lib/shared/testData.ts';
import type { LicenseStore } from '#lib/licenses/ports.ts';
import { licenseStore } from '#lib/store/licenseStore.ts';
import { cliEnvironment, consoleOutput, parseCommandLine, runIfMain, type CliOutput } from './local/cli.ts';

export const USAGE = `Usage:
  licenses register <code> [--order <orderId>] [--line <orderLineId>] [--product <productId>] [--expire yyyyMMddHHmmss] [--test]
  licenses show <code>`;

/** What the commands need: the license store and a transaction commit. */
export interface LicenseCliStore {
  licenses: LicenseStore;
  commit: Commit;
}

/** The CLI's store: the license items of the main table and a transaction to write them. */
export function licenseCliStore(client: DynamoDb, table: string): LicenseCliStore {
  return { licenses: licenseStore(client, table), commit: (writes) => commitWrites(client, writes) };
}

// The same limits and formats as the marketplace's callbacks, so a registered code is one the callbacks accept.
const callbackFields = refreshLicenseCodeSchema.shape;
const id = z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters');

export const registerInputSchema = z
  .object({
    license: z.string().trim().min(1, 'must be 1 to 128 characters').max(128, 'must be 1 to 128 characters'),
    orderId: id.optional(),
    orderLineId: id.optional(),
    productId: id.optional(),
    expireTime: z.optional(callbackFields.expireTime),
    test: z.boolean().default(false),
  })
  .strict()
  .refine((v) => v.orderLineId === undefined || v.orderId !== undefined, {
    message: 'an order line needs its order (--order)',
    path: ['orderLineId'],
  });

export type RegisterInput = z.input<typeof registerInputSchema>;

/** CLI option names, for messages. */
const OPTION_OF: Record<string, string> = {
  license: '<code>',
  orderId: '--order',
  orderLineId: '--line',
  productId: '--product',
  expireTime: '--expire',
  test: '--test',
};

export type RegisterOutcome =
  | { outcome: 'registered'; license: License; entry: LicenseHistoryEntry }
  | { outcome: 'exists'; license: License | undefined }
  | { outcome: 'invalid'; error: string };

/** Test licenses (for the marketplace's debugger) expire like test instances (TEST_INSTANCE_TTL_DAYS, default 7). */
export const TEST_LICENSE_TTL_DAYS = 7;

/**
 * Registers a license code as ACTIVE, with a history entry by the seller, in one transaction that fails if the code
 * is registered already (an existing code is never changed).
 */
export async function registerLicenseCode(
  store: LicenseCliStore,
  input: unknown,
  nowMs: number,
  testTtlDays: number = TEST_LICENSE_TTL_DAYS,
): Promise<RegisterOutcome> {
  const parsed = registerInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path[0];
    const name = typeof field === 'string' ? (OPTION_OF[field] ?? field) : 'arguments';
    return { outcome: 'invalid', error: `${name}: ${issue?.message ?? 'is invalid'}` };
  }
  const value = parsed.data;
  const at = new Date(nowMs).toISOString();
  const { license, entry } = registerLicense(
    {
      license: value.license,
      test: value.test,
      ...(value.orderId ? { orderId: value.orderId } : {}),
      ...(value.orderLineId ? { orderLineId: value.orderLineId } : {}),
      ...(value.productId ? { productId: value.productId } : {}),
      ...(value.expireTime ? { expireTime: value.expireTime } : {}),
    },
    at,
  );
  const expiresAt = testExpiry(license, testTtlDays);
  const result = await store.commit(store.licenses.register(license, entry, expiresAt));
  if (result.ok) return { outcome: 'registered', license, entry };
  if (result.conditionFailed.includes('license')) return { outcome: 'exists', license: await store.licenses.getLicense(license.license) };
  throw new Error('the registration could not be written (a concurrent write); try again');
}

/** A license and its history, or undefined if the code is not registered. */
export async function showLicenseCode(
  store: LicenseCliStore,
  code: string,
): Promise<{ license: License; history: LicenseHistoryEntry[] } | undefined> {
  const license = await store.licenses.getLicense(code);
  if (!license) return undefined;
  return { license, history: await store.licenses.getHistory(code) };
}

export type { CliOutput };

/** Runs one command line (without `node` and the script); returns the exit code. */
export async function runLicensesCli(
  argv: readonly string[],
  store: () => LicenseCliStore,
  nowMs: number,
  io: CliOutput = consoleOutput,
  testTtlDays: number = TEST_LICENSE_TTL_DAYS,
): Promise<number> {
  const line = parseCommandLine(
    argv,
    {
      order: { type: 'string' },
      line: { type: 'string' },
      product: { type: 'string' },
      expire: { type: 'string' },
      test: { type: 'boolean' },
    },
    USAGE,
    io,
  );
  if (!line.ok) return line.exitCode;
  const { command, target: code, values, usageError } = line;

  switch (command) {
    case 'register': {
      if (code === undefined) return usageError('register needs a license code');
      const result = await registerLicenseCode(
        store(),
        {
          license: code,
          orderId: values.order,
          orderLineId: values.line,
          productId: values.product,
          expireTime: values.expire,
          test: values.test ?? false,
        },
        nowMs,
        testTtlDays,
      );
      if (result.outcome === 'invalid') return usageError(result.error);
      if (result.outcome === 'exists') {
        io.err(`license ${JSON.stringify(code.trim())} is already registered; it was not changed`);
        if (result.license) io.out(JSON.stringify(result.license, null, 2));
        return 1;
      }
      io.out(`registered license ${JSON.stringify(result.license.license)}${result.license.test ? ' (test)' : ''}`);
      io.out(JSON.stringify(result.license, null, 2));
      return 0;
    }
    case 'show': {
      if (code === undefined) return usageError('show needs a license code');
      if (Object.values(values).some((v) => v !== undefined)) return usageError('show takes no options');
      const found = await showLicenseCode(store(), code.trim());
      if (!found) {
        io.err(`license ${JSON.stringify(code.trim())} is not registered`);
        return 1;
      }
      io.out(JSON.stringify(found, null, 2));
      return 0;
    }
    default:
      return usageError(`unknown command ${JSON.stringify(command)}`);
  }
}

const envSchema = z.object({
  MAIN_TABLE: z.string().min(1, 'must be set (the main table name)'),
  /** The server's setting for debug data (lib/config.ts): a test license expires like a test instance. */
  TEST_INSTANCE_TTL_DAYS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int('must be a positive integer').positive('must be a positive integer').default(TEST_LICENSE_TTL_DAYS),
  ),
});

async function main(): Promise<number> {
  const env = cliEnvironment(envSchema);
  if (!env) return 2;
  const table = env.MAIN_TABLE;
  return runLicensesCli(
    process.argv.slice(2),
    () => licenseCliStore(dynamoClient(), table),
    Date.now(),
    consoleOutput,
    env.TEST_INSTANCE_TTL_DAYS,
  );
}

runIfMain(import.meta.url, main);
