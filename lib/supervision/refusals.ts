import type * as z from 'zod';
import type { SupervisionDeps } from './ports.ts';

export type SupervisionFailureCode = 'not_found' | 'conflict' | 'unprocessable';
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: SupervisionFailureCode; message: string };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = <T>(code: SupervisionFailureCode, message: string): Outcome<T> => ({ ok: false, code, message });

export function zodMessage(error: z.ZodError): string {
  const list = error.issues.slice(0, 10).map((i) => `${['body', ...i.path.map(String)].join('.')}: ${i.message}`);
  return list.join('; ') + (error.issues.length > 10 ? ` (and ${error.issues.length - 10} more)` : '');
}

/** The refusal for an order line without a supervision flow, saying why when the order line is known. */
export async function noSupervision<T>(deps: SupervisionDeps, orderId: string, orderLineId: string): Promise<Outcome<T>> {
  const known = deps.orderLineKnown ? await deps.orderLineKnown(orderId, orderLineId) : undefined;
  if (known === true) {
    return fail(
      'not_found',
      `order line ${orderId}/${orderLineId} has no service supervision: its product is not supervised (SUPERVISED_PRODUCTS), or its order terms are not fetched yet`,
    );
  }
  if (known === false) return fail('not_found', `no order line ${orderId}/${orderLineId}`);
  return fail('not_found', `no supervision for order line ${orderId}/${orderLineId} (product not supervised, or order unknown)`);
}
