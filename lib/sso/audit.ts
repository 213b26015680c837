/**
 * The audit records of the SSO (ARCHITECTURE.md law 6): every login, refusal and logout, with the user as actor
 * (tenant + userName) once OneAccess has said who it is, anonymous before. Ids only: never a token, code, state or
 * personal data beyond the user's login name.
 */
import type { SellerActionOutcome } from '#lib/audit/records.ts';
import type { SsoContext } from './context.ts';
import type { SsoRequest } from './http.ts';

export type SsoAction = 'sso.login' | 'sso.logout' | 'sso.sessionEnd';

export interface SsoAuditEvent {
  action: SsoAction;
  outcome: SellerActionOutcome;
  status: number;
  tenantId?: string | undefined;
  userName?: string | undefined;
  appId?: string | undefined;
  /** Why it was refused, e.g. `state_mismatch`, `user_revoked`. */
  errorCode?: string;
}

export async function auditSso(
  ctx: Pick<SsoContext, 'audit'>,
  request: Pick<SsoRequest, 'correlationId'>,
  event: SsoAuditEvent,
): Promise<void> {
  const actor =
    event.tenantId && event.userName
      ? ({ kind: 'user', tenantId: event.tenantId, userName: event.userName } as const)
      : ({ kind: 'anonymous' } as const);
  const target: Record<string, string> = {};
  if (event.tenantId) target.tenant = event.tenantId;
  if (event.appId) target.appId = event.appId;
  await ctx.audit({
    actor,
    action: event.action,
    target,
    result: { outcome: event.outcome, status: event.status, ...(event.errorCode ? { errorCode: event.errorCode } : {}) },
    channel: 'sso',
    correlationId: request.correlationId,
  });
}
