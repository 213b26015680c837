/**
 * Field schemas for the Open API's answers: every field optional, a field of the wrong type is dropped rather than
 * failing the answer, unknown fields are ignored (and reported).
 */
import * as z from 'zod';
import { plainDecimal } from './exactNumbers.ts';

/** Ids may arrive as JSON numbers; they are read as strings (the raw digits, see exactNumbers). */
export const optText = z
  .union([z.string(), z.number().transform(String)])
  .optional()
  .catch(undefined);
export const optCount = z
  .union([
    z.number().int().nonnegative(),
    z
      .string()
      .regex(/^\d{1,9}$/)
      .transform(Number),
  ])
  .optional()
  .catch(undefined);
export const optQuantity = z
  .union([
    z.number().finite().nonnegative(),
    z
      .string()
      .regex(/^\d{1,12}(\.\d{1,6})?$/)
      .transform(Number),
  ])
  .optional()
  .catch(undefined);
/** Amounts are strings by the time they are parsed (exactNumbers); exponent forms are expanded exactly. */
export const optAmount = z
  .string()
  .transform((s, ctx) => {
    const plain = plainDecimal(s.trim());
    if (plain === undefined) {
      ctx.addIssue({ code: 'custom', message: 'not a decimal amount' });
      return z.NEVER;
    }
    return plain;
  })
  .optional()
  .catch(undefined);

/** An array whose malformed elements are dropped. */
export function lenientItems<T extends z.ZodType>(schema: T) {
  return z.array(z.unknown()).transform((items) =>
    items.flatMap((item) => {
      const r = schema.safeParse(item);
      return r.success ? [r.data as z.output<T>] : [];
    }),
  );
}

export function lenientArray<T extends z.ZodType>(schema: T) {
  return lenientItems(schema).optional().catch(undefined);
}
