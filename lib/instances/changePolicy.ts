import type { Instance } from './model.ts';

/**
 * Decides whether a change on renewal (spec §3.7 changeInstanceCheck) is possible.
 * Sellers with quotas plug in their own policy (e.g. refuse a downgrade below current usage).
 */
export interface ChangePolicy {
  check(instance: Instance, target: { productId?: string | undefined; skuCode?: string | undefined }): Promise<ChangeVerdict>;
}

export type ChangeVerdict = { allowed: true } | { allowed: false; reason: string };

export const allowAllChanges: ChangePolicy = {
  check: async () => ({ allowed: true }),
};

export const denyAllChanges: ChangePolicy = {
  check: async () => ({ allowed: false, reason: 'changes on renewal are not supported for this product' }),
};

export function changePolicyFor(name: 'allow' | 'deny'): ChangePolicy {
  return name === 'deny' ? denyAllChanges : allowAllChanges;
}
