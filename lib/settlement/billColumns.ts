import * as z from 'zod/mini';
import '#lib/shared/zodMessages.ts';

/**
 * The columns of the marketplace's bill export (a CSV from the Seller Console, spec §8.4) that reconciliation reads.
 * Their names are not documented, so they are configuration (BILL_COLUMNS); the defaults are plausible English
 * names, not confirmed ones.
 */

/** A bill export that cannot be read at all (broken quoting, no header row); the seller must fix the file or the columns. */
export class BillFormatError extends Error {
  override name = 'BillFormatError';
}

/** The header names of the columns reconciliation reads. */
export interface BillColumns {
  orderId: string;
  orderLineId: string;
  amount: string;
  instanceId?: string;
  currency?: string;
  type?: string;
}

/** Inferred names for the Seller Console's export (unconfirmed; override with BILL_COLUMNS). */
export const DEFAULT_BILL_COLUMNS: Readonly<BillColumns> = {
  orderId: 'Order ID',
  orderLineId: 'Order Line ID',
  amount: 'Settlement Amount',
  instanceId: 'Instance ID',
  currency: 'Currency',
  type: 'Transaction Type',
};

const name = z.string().check(z.trim(), z.minLength(1));
const billColumnsSchema = z.strictObject({
  orderId: name,
  orderLineId: name,
  amount: name,
  instanceId: z.optional(name),
  currency: z.optional(name),
  type: z.optional(name),
});

/**
 * Columns from the BILL_COLUMNS setting, `orderId=Order No.,orderLineId=…,amount=…[,instanceId=…,currency=…,type=…]`:
 * the given names replace the defaults one by one. Throws BillFormatError naming a bad entry.
 */
export function parseBillColumns(setting: string | undefined): BillColumns {
  const given: Record<string, string> = {};
  for (const entry of (setting ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new BillFormatError(`BILL_COLUMNS entry "${entry}" must be <field>=<column name>`);
    given[entry.slice(0, at).trim()] = entry.slice(at + 1);
  }
  const result = billColumnsSchema.safeParse({ ...DEFAULT_BILL_COLUMNS, ...given });
  if (!result.success) {
    throw new BillFormatError(`BILL_COLUMNS: ${result.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}
