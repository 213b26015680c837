import type { SellerActor } from '#lib/audit/records.ts';
import type { Instance, OrderTerms } from '#lib/instances/model.ts';
import type { PlannedWrite } from '#lib/shared/transaction.ts';
import type { SupervisionStore } from '#lib/supervision/ports.ts';
import { newSupervision } from '#lib/supervision/stateMachine.ts';
import type { ProofKind } from '#lib/supervision/proofs.ts';
import type { OrderLineFacts, OrderLineKind } from './model.ts';
import { nextPeriod, periodOf } from './period.ts';
import type { BillingStore } from './ports.ts';

/**
 * What settlement learns as orders happen: the billing facts of each paid order line (docs/settlement.md), written
 * in the same transaction as the change that makes them true:
 *  - the provisioning worker, once Query Order gave a new, trial-to-paid, renewal or upgrade order's terms (and, for
 *    a supervised product's new order, the supervision flow starts in that transaction too);
 *  - the supervision flow's acceptance;
 *  - a release that names an unsubscription order (the refund).
 * A fact belonging to a month already CLOSED is marked `adjustmentFor` that month and `adjustmentIn` the first open
 * month after it, whose statement carries it.
 * Debug (test) instances never reach settlement.
 */

export interface SupervisionSettings {
  /** Products whose new orders need delivery proofs and acceptance before billing. */
  supervisedProducts: ReadonlySet<string>;
  /** Supervised products sold as enabling-cloud offers (Huawei review before acceptance). */
  enablingCloudProducts: ReadonlySet<string>;
  requiredKinds: readonly ProofKind[];
}

export interface RecorderDeps {
  billing: BillingStore;
  supervision: SupervisionStore;
  supervisionSettings: SupervisionSettings;
  timeZone: string;
  /** Currency of an order that names none. */
  currency: string;
}

/** The kind of order line a production-interface activity brings, or undefined when it brings none to bill. */
export function orderLineKind(activity: string, scene?: string): OrderLineKind | undefined {
  if (activity === 'newInstance') return 'NEW';
  if (activity === 'upgradeInstance') return 'UPGRADE';
  if (activity === 'refreshInstance') {
    if (scene === 'TRIAL_TO_FORMAL') return 'TRIAL_TO_PAID';
    // A cancelled renewal period (UNSUBSCRIBE_RENEWAL_PERIOD) is not a paid line.
    if (scene === undefined || scene === 'RENEWAL') return 'RENEWAL';
  }
  return undefined;
}

/** An order line's billing facts from Query Order's terms (pure). */
export function factsFromOrder(
  order: OrderTerms,
  instance: Pick<Instance, 'instanceId' | 'productId'>,
  kind: OrderLineKind,
  effectiveAt: string,
  supervised: boolean,
  currency: string,
): OrderLineFacts {
  const productId = order.productId ?? instance.productId;
  return {
    orderId: order.orderId,
    orderLineId: order.orderLineId,
    instanceId: instance.instanceId,
    ...(productId ? { productId } : {}),
    kind,
    // No amount given: recorded as such, and the statement reports it instead of guessing.
    amount: order.amount ?? '',
    currency: order.currency ?? currency,
    test: false,
    effectiveAt,
    ...(supervised ? { supervision: {} } : {}),
  };
}

/** Equal facts, whatever the order of their fields. */
function sameFacts(a: OrderLineFacts, b: OrderLineFacts): boolean {
  const canonical = (value: unknown): string =>
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1))) : v,
    );
  return canonical(a) === canonical(b);
}

export function billingRecorder(deps: RecorderDeps) {
  /** The facts' write, plus the check that the month they belong to is still open (or their adjustment mark). */
  async function factsWrites(
    facts: OrderLineFacts,
    previousVersion: number | undefined,
    businessAt: string,
    at: string,
  ): Promise<PlannedWrite[]> {
    const period = periodOf(businessAt, deps.timeZone);
    if (!(await deps.billing.isClosed(period))) {
      return [deps.billing.factsWrite(facts, previousVersion, at, businessAt), deps.billing.notClosedCheck(period)];
    }
    // The month is closed: the first open month after it carries the change (checked open in the same transaction).
    const now = periodOf(at, deps.timeZone);
    let carrier = nextPeriod(period);
    while (carrier < now && (await deps.billing.isClosed(carrier))) carrier = nextPeriod(carrier);
    return [
      deps.billing.factsWrite({ ...facts, adjustmentFor: period, adjustmentIn: carrier }, previousVersion, at, businessAt),
      deps.billing.notClosedCheck(carrier),
    ];
  }

  return {
    /**
     * Writes for an order the worker just fetched: its billing facts and, for a supervised product's new order,
     * the supervision flow. Nothing for debug instances or activities that bring no paid line.
     */
    async orderWrites(
      instance: Instance,
      order: OrderTerms,
      activity: string,
      scene: string | undefined,
      at: string,
    ): Promise<PlannedWrite[]> {
      if (instance.test) return [];
      const kind = orderLineKind(activity, scene);
      if (!kind) return [];
      const productId = order.productId ?? instance.productId;
      // Renewals, upgrades and trial-to-paid orders of a supervised product start no new flow (spec §8.3).
      const supervised = kind === 'NEW' && productId !== undefined && deps.supervisionSettings.supervisedProducts.has(productId);
      const previous = await deps.billing.getFacts(order.orderId, order.orderLineId);
      const facts = factsFromOrder(order, instance, kind, previous?.facts.effectiveAt ?? at, supervised, deps.currency);
      const writes: PlannedWrite[] = [];
      if (supervised && productId) {
        const existing = await deps.supervision.get(order.orderId, order.orderLineId);
        if (existing) {
          if (existing.state === 'ACCEPTED')
            facts.supervision = {
              completedAt: existing.acceptedAt ?? at,
              ...(existing.serviceStartAt ? { serviceStartAt: existing.serviceStartAt } : {}),
              ...(existing.acceptedBy ? { acceptedBy: existing.acceptedBy } : {}),
            };
        } else {
          const created = newSupervision(
            {
              orderId: order.orderId,
              orderLineId: order.orderLineId,
              instanceId: instance.instanceId,
              productId,
              enablingCloud: deps.supervisionSettings.enablingCloudProducts.has(productId),
              requiredKinds: [...deps.supervisionSettings.requiredKinds],
            },
            at,
          );
          writes.push(...deps.supervision.createWrites(created.record, created.entry));
        }
      }
      // A re-fetch keeps what happened since: the refund, the accepted supervision.
      if (previous?.facts.refund) facts.refund = previous.facts.refund;
      if (supervised && previous?.facts.supervision?.completedAt) facts.supervision = previous.facts.supervision;
      if (previous?.facts.adjustmentFor) {
        facts.adjustmentFor = previous.facts.adjustmentFor;
        if (previous.facts.adjustmentIn) facts.adjustmentIn = previous.facts.adjustmentIn;
      }
      if (previous && sameFacts(previous.facts, facts)) return writes;
      writes.push(...(await factsWrites(facts, previous?.version, facts.effectiveAt ?? at, at)));
      return writes;
    },

    /** Supervision of an order line completed (accepted): its facts become billable. */
    async supervisionCompletedWrites(
      orderId: string,
      orderLineId: string,
      completedAt: string,
      serviceStartAt: string | undefined,
      at: string,
      acceptedBy?: SellerActor,
    ): Promise<PlannedWrite[]> {
      const previous = await deps.billing.getFacts(orderId, orderLineId);
      // No facts yet (the order's terms are still being fetched): the worker reads the accepted flow when it writes them.
      if (!previous || previous.facts.supervision?.completedAt) return [];
      const supervision = { completedAt, ...(serviceStartAt ? { serviceStartAt } : {}), ...(acceptedBy ? { acceptedBy } : {}) };
      const facts: OrderLineFacts = { ...previous.facts, supervision };
      return factsWrites(facts, previous.version, completedAt, at);
    },

    /**
     * A release that names its unsubscription order: the instance's order line is refunded by the unsubscription
     * order's amount (the whole paid amount when the marketplace gives none).
     */
    async refundWrites(
      instance: Instance,
      refundOrderId: string,
      refundOrder: OrderTerms | undefined,
      at: string,
    ): Promise<PlannedWrite[]> {
      if (instance.test) return [];
      const previous = await deps.billing.getFacts(instance.orderId, instance.orderLineId);
      if (!previous || previous.facts.refund) return [];
      const amount = (refundOrder?.amount ?? previous.facts.amount).replace(/^-/, '');
      const facts: OrderLineFacts = { ...previous.facts, refund: { orderId: refundOrderId, at, amount } };
      return factsWrites(facts, previous.version, at, at);
    },
  };
}

export type BillingRecorder = ReturnType<typeof billingRecorder>;
