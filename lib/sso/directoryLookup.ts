/**
 * The tenant and application a login uses, from the Kit sync's directory: an ACTIVE tenant with a usable OneAccess
 * base URL and an ACTIVE application (the one asked for, else the only one).
 */
import type { SsoApp, SsoTenant } from './model.ts';
import type { SsoDirectory } from './ports.ts';
import { oneAccessBase } from './urls.ts';

export interface LoginTarget {
  tenant: SsoTenant;
  app: SsoApp;
  /** The tenant's OneAccess base URL, checked. */
  base: string;
}

/** The active application `appId`, or the tenant's only active one when none is named. Pure. */
export function pickApp(apps: readonly SsoApp[], appId: string | undefined): SsoApp | undefined {
  const active = apps.filter((a) => a.status === 'ACTIVE');
  if (appId !== undefined) return active.find((a) => a.appId === appId);
  return active.length === 1 ? active[0] : undefined;
}

export async function loginTarget(directory: SsoDirectory, tenantId: string, appId: string | undefined): Promise<LoginTarget | undefined> {
  const tenant = await directory.tenant(tenantId);
  if (!tenant || tenant.status !== 'ACTIVE') return undefined;
  const base = oneAccessBase(tenant.domainName);
  if (!base) return undefined;
  const app = pickApp(await directory.apps(tenantId), appId);
  return app ? { tenant, app, base } : undefined;
}
