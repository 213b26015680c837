/**
 * Whether the user OneAccess vouched for may log in to the product: the userinfo's tenant (when it names one) is the
 * tenant the login was for, and the Kit sync recorded the user as authorised and enabled for the app (spec §5.5,
 * §3.3). Pure.
 */
import type { OneAccessUserInfo, SsoUser } from './model.ts';

/** Why a user is refused; each is shown on the refusal page and kept as the audit record's errorCode. */
export type UserRefusal = 'tenant_mismatch' | 'user_unknown' | 'user_revoked' | 'user_disabled';

export type UserDecision = { ok: true; user: SsoUser } | { ok: false; reason: UserRefusal };

export function decideUser(info: OneAccessUserInfo, tenantId: string, user: SsoUser | undefined): UserDecision {
  if (info.tenant !== undefined && info.tenant !== '' && info.tenant !== tenantId) return { ok: false, reason: 'tenant_mismatch' };
  if (!user || user.status === 'DELETED') return { ok: false, reason: 'user_unknown' };
  if (user.status !== 'AUTHORISED') return { ok: false, reason: 'user_revoked' };
  if (!user.enabled) return { ok: false, reason: 'user_disabled' };
  return { ok: true, user };
}
