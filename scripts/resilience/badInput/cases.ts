/**
 * What a bad-input request is: the run's fixture the generators aim at, a case (the request and the answer it must
 * get), and the recipe a generator yields, which becomes a case when it is sent.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';

export interface Fixture {
  /** Unique per run: every id the generators invent starts with it. ASCII letters, digits and `-`. */
  prefix: string;
  /** The marketplace access key the production interface is configured with. */
  accessKey: string;
  maxBodyBytes: number;
  sellerMaxBodyBytes: number;
  /** Largest delivery proof accepted (PROOF_MAX_BYTES). */
  proofMaxBytes: number;
  /** The statements' time zone (SETTLEMENT_TIME_ZONE): which month has started. */
  statementTimeZone: string;
  /** Instances created for the run: ACTIVE, renewed to a far expiry, of `productId` (metered if the stack says so). */
  instances: { instanceId: string; orderId: string; orderLineId: string }[];
  /**
   * An order line under service supervision, its flow AWAITING_DELIVERY: no proof verified, no appeal open, so every
   * recorded decision is refused there (409) and an appeal citing proofs is refused (422).
   */
  supervised: { orderId: string; orderLineId: string; instanceId: string };
  /** Seller API keys: every scope; only LIMITED_KEY_SCOPES; revoked. */
  sellerKeys: { full: string; limited: string; revoked: string };
  /** Real page cursors of the two listings, to tamper with. */
  cursors: { instances?: string; messages?: string };
}

export type Target = 'produce' | 'seller';

interface CaseBase {
  generator: string;
  event: APIGatewayProxyEventV2;
  /** Ids the request names: a state change that mentions one of them is this run's doing. */
  ids: string[];
}

export interface ProduceCase extends CaseBase {
  target: 'produce';
  /** The result codes that are a right answer. */
  expect: readonly string[];
  /** Set for a validly signed call whose parameters are refused: the nonce it may claim (law 2's replay guard). */
  claims?: string;
}

export type SellerExpectation = { statuses: readonly number[] } | { allRejected: number };

export interface SellerCase extends CaseBase {
  target: 'seller';
  expect: SellerExpectation;
}

export type Case = ProduceCase | SellerCase;

export interface BuildContext {
  fixture: Fixture;
  nowMs: number;
  /** Unique per request (`<prefix>-<index>`): the base of the ids it invents and its correlation id. */
  tag: string;
}

export interface Recipe {
  generator: string;
  target: Target;
  build(ctx: BuildContext): Case;
}

type Build<C> = (ctx: BuildContext) => Omit<C, 'generator' | 'target'>;

export function produceRecipe(generator: string, arb: fc.Arbitrary<Build<ProduceCase>>): fc.Arbitrary<Recipe> {
  return arb.map((build) => ({
    generator,
    target: 'produce' as const,
    build: (ctx) => ({ generator, target: 'produce' as const, ...build(ctx) }),
  }));
}

export function sellerRecipe(generator: string, arb: fc.Arbitrary<Build<SellerCase>>): fc.Arbitrary<Recipe> {
  return arb.map((build) => ({
    generator,
    target: 'seller' as const,
    build: (ctx) => ({ generator, target: 'seller' as const, ...build(ctx) }),
  }));
}

/** A JSON request body, or one record of it, as the generators build it. */
export type Body = Record<string, unknown>;

/** Fields that name things the server keeps (instances, order lines, licenses, products, usage references). */
const ID_FIELDS = new Set(['orderId', 'orderLineId', 'businessId', 'instanceId', 'license', 'productId', 'clientRef']);

/** The ids a body, query or list of records names (comma-separated instance id lists split). */
export function idsOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.slice(0, 100).forEach((v) => idsOf(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [field, v] of Object.entries(value).slice(0, 50)) {
      if (typeof v === 'string' && ID_FIELDS.has(field)) out.push(v, ...(v.includes(',') ? v.split(',').map((s) => s.trim()) : []));
      else if (v !== null && typeof v === 'object') idsOf(v, out);
    }
  }
  return out;
}
