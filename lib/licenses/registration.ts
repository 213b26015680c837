/**
 * The seller's registration of License codes (spec §1.2, §5.1): a code is known to the production interface only
 * once it is registered; until then the marketplace's callbacks for it answer 000003. A registration is checked with
 * the same limits and formats as the marketplace's callbacks, written in one transaction that fails if the code is
 * registered already (an existing code is never changed), and recorded in the code's history with who registered it.
 */
import { z } from 'zod';
import type { SellerActor } from '#lib/audit/records.ts';
import { refreshLicenseCodeSchema } from '#lib/koogallery/activities.ts';
import { testExpiry } from '#lib/shared/testData.ts';
import type { Commit } from '#lib/shared/transaction.ts';
import { registerLicense, type License, type LicenseHistoryEntry } from './license.ts';
import type { LicenseStore } from './ports.ts';

/** What registration needs: the license store and a transaction commit. */
export interface LicenseRegistry {
  licenses: LicenseStore;
  commit: Commit;
}

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

/** The operator CLI's names of the fields, for messages. */
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

/** Registers a license code as ACTIVE, with a history entry by the seller (and `by`, who registered it). */
export async function registerLicenseCode(
  registry: LicenseRegistry,
  input: unknown,
  nowMs: number,
  testTtlDays: number = TEST_LICENSE_TTL_DAYS,
  by?: SellerActor,
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
    by,
  );
  const expiresAt = testExpiry(license, testTtlDays);
  const result = await registry.commit(registry.licenses.register(license, entry, expiresAt));
  if (result.ok) return { outcome: 'registered', license, entry };
  if (result.conditionFailed.includes('license'))
    return { outcome: 'exists', license: await registry.licenses.getLicense(license.license) };
  throw new Error('the registration could not be written (a concurrent write); try again');
}

/** A license and its history, or undefined if the code is not registered. */
export async function showLicenseCode(
  registry: LicenseRegistry,
  code: string,
): Promise<{ license: License; history: LicenseHistoryEntry[] } | undefined> {
  const license = await registry.licenses.getLicense(code);
  if (!license) return undefined;
  return { license, history: await registry.licenses.getHistory(code) };
}
