import type { Instance } from '#lib/instances/model.ts';
import type { Granularity } from './windows.ts';

/**
 * Which instances are metered (pay-per-use) and how finely. Query Order's `chargingMode` values are not documented
 * (spec §10.6), so both the charging modes and a product list are configuration (lib/config.ts):
 *   USAGE_PRODUCTS                "OFFI123,OFFI456:daily": products whose instances are metered, hourly unless `:daily`
 *   USAGE_CHARGING_MODES          order charging modes that are metered (default ON_DEMAND,ON_DEMAND_PACKAGE)
 *   USAGE_PACKAGE_CHARGING_MODES  charging modes of packages, whose queryInstance answer carries usageInfo
 */
export interface MeteringSettings {
  products: ReadonlyMap<string, Granularity>;
  chargingModes: ReadonlySet<string>;
  packageChargingModes: ReadonlySet<string>;
}

/** Parses "OFFI123,OFFI456:daily"; throws naming the bad entry. */
export function parseUsageProducts(value: string | undefined): Map<string, Granularity> {
  const products = new Map<string, Granularity>();
  for (const entry of (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^([^:\s]{1,64})(?::(hourly|daily))?$/.exec(entry);
    if (!m) throw new Error(`USAGE_PRODUCTS entry "${entry}" must be <productId> or <productId>:hourly|daily`);
    products.set(m[1]!, (m[2] as Granularity | undefined) ?? 'hourly');
  }
  return products;
}

export const csvSet = (value: string | undefined): Set<string> =>
  new Set(
    (value ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  );

/** How the instance's usage is windowed, or undefined if it is not metered. */
export function meteringOf(instance: Instance, settings: MeteringSettings): Granularity | undefined {
  const productId = instance.order?.productId ?? instance.productId;
  const listed = productId !== undefined ? settings.products.get(productId) : undefined;
  if (listed) return listed;
  const mode = instance.order?.chargingMode;
  return mode !== undefined && settings.chargingModes.has(mode) ? 'hourly' : undefined;
}

/** A package (套餐包): queryInstance reports its consumption as usageInfo (spec §3.2). */
export function isPackage(instance: Instance, settings: MeteringSettings): boolean {
  const mode = instance.order?.chargingMode;
  return mode !== undefined && settings.packageChargingModes.has(mode);
}
