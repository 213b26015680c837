import { PROOF_KINDS, type ProofKind } from '#lib/supervision/proofs.ts';
import type { ProductPrice } from './model.ts';
import { csvSet } from '#lib/usage/metering.ts';

/**
 * Parsers of settlement's and supervision's settings; lib/config.ts applies them, so a mistake stops every
 * function at start-up with a message naming the setting.
 *   SETTLEMENT_FEE_SHARES  `OFFI1=0.15,OFFI2=0.2`
 *   SETTLEMENT_PRICES      `OFFI2=0.02:CNY:GB` (unit price : currency : unit)
 */

const FRACTION = /^(0|1|0?\.\d{1,6})$/;
const PRICE = /^\d{1,12}(\.\d{1,6})?$/;

function pairs(setting: string, value: string | undefined): [string, string][] {
  if (!value) return [];
  return value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const at = p.indexOf('=');
      if (at <= 0) throw new Error(`${setting}: "${p}" is not productId=value`);
      return [p.slice(0, at).trim(), p.slice(at + 1).trim()];
    });
}

export function parseFeeShares(value: string | undefined): Record<string, string> {
  const shares: Record<string, string> = {};
  for (const [productId, share] of pairs('SETTLEMENT_FEE_SHARES', value)) {
    if (!FRACTION.test(share))
      throw new Error(`SETTLEMENT_FEE_SHARES: the share of ${productId} must be a fraction between 0 and 1 (e.g. 0.15), got "${share}"`);
    shares[productId] = share;
  }
  return shares;
}

export function parsePrices(value: string | undefined): Record<string, ProductPrice> {
  const prices: Record<string, ProductPrice> = {};
  for (const [productId, spec] of pairs('SETTLEMENT_PRICES', value)) {
    const [unitPrice = '', currency = '', unit = ''] = spec.split(':').map((s) => s.trim());
    if (!PRICE.test(unitPrice) || !/^[A-Z]{3}$/.test(currency) || unit.length === 0) {
      throw new Error(`SETTLEMENT_PRICES: ${productId} must be unitPrice:currency:unit (e.g. 0.02:CNY:GB), got "${spec}"`);
    }
    prices[productId] = { unitPrice, currency, unit };
  }
  return prices;
}

export function parseTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`SETTLEMENT_TIME_ZONE: "${timeZone}" is not a time zone (e.g. Asia/Shanghai)`);
  }
  return timeZone;
}

/** SUPERVISION_REQUIRED_KINDS: `acceptance,deployment`, each a known proof kind. */
export function parseProofKinds(value: string): ProofKind[] {
  const kinds = [...csvSet(value)];
  const unknown = kinds.filter((k) => !(PROOF_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new Error(`SUPERVISION_REQUIRED_KINDS: unknown kind(s) ${unknown.join(', ')}; kinds are ${PROOF_KINDS.join(', ')}`);
  return kinds as ProofKind[];
}
