/** When the server refreshes a session's access token (spec §5.4): less than five minutes left. Pure. */

export const REFRESH_MARGIN_SECONDS = 300;

/** True when the access token expiring at `accessExpiresAt` (epoch seconds) should be refreshed at `nowSeconds`. */
export function needsRefresh(accessExpiresAt: number, nowSeconds: number, marginSeconds = REFRESH_MARGIN_SECONDS): boolean {
  return accessExpiresAt - nowSeconds < marginSeconds;
}
