/**
 * Where webhooks may go, by the URL's form: checked at start-up by lib/config.ts and by the webhook client. The
 * addresses its host resolves to are checked at every delivery (webhookAddress.ts).
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Throws, with a message naming the rule, unless the URL may receive webhooks. Never echoes path or query. */
export function assertWebhookUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('webhook URL is not a valid absolute URL');
  }
  const where = `${url.protocol}//${url.host}`;
  if (url.username || url.password) throw new Error(`webhook URL must not contain credentials (${where})`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return url;
  throw new Error(`webhook URL must use https: (http: is allowed only for 127.0.0.1, ::1 and localhost), got ${where}`);
}
