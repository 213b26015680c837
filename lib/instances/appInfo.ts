import type { AppInfo } from './model.ts';

/** Spec §3.2: frontEndUrl is at most 512 characters. */
export const MAX_URL_LENGTH = 512;

export interface AppInfoTemplates {
  frontEndUrl: string;
  adminUrl?: string | undefined;
  userName?: string | undefined;
  memo?: string | undefined;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? encodeURIComponent(values[name] as string) : whole,
  );
}

/**
 * appInfo for the `template` provisioning mode: URLs built from configured templates with
 * `{instanceId}`, `{orderId}` and `{orderLineId}` placeholders (values URL-encoded).
 * No shared password is issued: the buyer signs in through the product's own flow.
 */
export function appInfoFromTemplates(
  templates: AppInfoTemplates,
  values: { instanceId: string; orderId: string; orderLineId: string },
): AppInfo {
  const info: AppInfo = { frontEndUrl: fill(templates.frontEndUrl, values).slice(0, MAX_URL_LENGTH) };
  if (templates.adminUrl) info.adminUrl = fill(templates.adminUrl, values).slice(0, MAX_URL_LENGTH);
  if (templates.userName) info.userName = fill(templates.userName, values);
  if (templates.memo) info.memo = templates.memo;
  return info;
}
