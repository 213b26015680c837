import { Refusal } from '#lib/shared/refusal.ts';
import type { SupervisionDeps } from './ports.ts';

/** The refusal for an order line without a supervision flow, saying why when the order line is known. */
export async function noSupervision(deps: SupervisionDeps, orderId: string, orderLineId: string): Promise<Refusal> {
  const known = deps.orderLineKnown ? await deps.orderLineKnown(orderId, orderLineId) : undefined;
  if (known === true) {
    return new Refusal(
      'not_found',
      `order line ${orderId}/${orderLineId} has no service supervision: its product is not supervised (SUPERVISED_PRODUCTS), or its order terms are not fetched yet`,
    );
  }
  if (known === false) return new Refusal('not_found', `no order line ${orderId}/${orderLineId}`);
  return new Refusal('not_found', `no supervision for order line ${orderId}/${orderLineId} (product not supervised, or order unknown)`);
}
