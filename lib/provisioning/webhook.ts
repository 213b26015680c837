/**
 * The `webhook` provisioning adapter: each lifecycle event is POSTed, signed, to the seller's own product, which
 * answers `instance.created` with the buyer's appInfo. The contract for sellers is docs/webhook.md; keep both in step.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { readCapped } from '#lib/http/readCapped.ts';
import { RefusedWebhookHost } from './webhookAddress.ts';
import { guardedTransport, type WebhookTransport } from './webhookTransport.ts';
import { assertWebhookUrl } from './webhookUrl.ts';
import type { AppInfo } from '#lib/instances/model.ts';
import { isKitWebhookType, kitWebhookEventSchema, type KitWebhookEvent } from './kitWebhook.ts';

export const WEBHOOK_EVENT_TYPES = [
  'instance.created',
  'instance.renewed',
  'instance.frozen',
  'instance.unfrozen',
  'instance.released',
  'instance.upgraded',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The wire contract's states: listed here, not imported, so a change to the internal model cannot change it silently. */
export const WEBHOOK_INSTANCE_STATES = ['PROVISIONING', 'ACTIVE', 'FROZEN', 'RELEASED', 'PROVISIONING_FAILED'] as const;

export const SIGNATURE_HEADER = 'X-KooGallery-Signature';
export const EVENT_ID_HEADER = 'X-KooGallery-Event-Id';
/** How far the signed time may be from the receiver's clock, either way. */
export const SIGNATURE_TOLERANCE_MS = 300_000;
export const DEFAULT_TIMEOUT_MS = 3_000;
/** The most of a seller's answer that is read; an appInfo is well under 2 KB. */
export const MAX_RESPONSE_BYTES = 65_536;
/** A shorter shared secret is refused: it is the only thing that proves an event came from us. */
export const MIN_SECRET_LENGTH = 16;
const REASON_SNIPPET_CHARS = 200;
const MAX_SIGNATURE_HEADER_LENGTH = 2_048;

const id64 = z.string().min(1).max(64);
/** Terms copied from the marketplace: generous, so that an unusual value cannot block provisioning. */
const shortText = z.string().min(1).max(256);
/** A decimal amount as a string (money is never a float), e.g. "99.00" or "-5". */
const decimalString = z
  .string()
  .max(40)
  .regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string such as "99.00"');

const webhookInstanceSchema = z.object({
  instanceId: id64,
  state: z.enum(WEBHOOK_INSTANCE_STATES),
  orderId: id64,
  orderLineId: id64,
  /** As the marketplace sent it (`yyyyMMddHHmmss`, time zone unstated: spec §10.5). */
  expireTime: shortText.optional(),
  productId: shortText.optional(),
  skuCode: shortText.optional(),
  linearValue: z.number().finite().nonnegative().optional(),
  chargingMode: shortText.optional(),
  periodType: shortText.optional(),
  periodNumber: z.number().int().nonnegative().optional(),
});

/** The order line's terms from the marketplace's Query Order (spec §8.1): ids and terms, never names or contacts. */
const webhookOrderSchema = z.object({
  orderId: id64,
  orderLineId: id64,
  orderType: shortText.optional(),
  chargingMode: shortText.optional(),
  periodType: shortText.optional(),
  periodNumber: z.number().int().nonnegative().optional(),
  productId: shortText.optional(),
  skuCode: shortText.optional(),
  linearValue: z.number().finite().nonnegative().optional(),
  expireTime: shortText.optional(),
  amount: decimalString.optional(),
  customerId: shortText.optional(),
  userId: shortText.optional(),
});

/**
 * The JSON body of a webhook request. Unknown fields are dropped (a receiver should ignore fields it does not know,
 * so that new ones can be added without breaking it).
 */
export const webhookEventSchema = z
  .object({
    /** `<instanceId>:<version>`: one id per transition, the key a receiver dedupes on. */
    id: z
      .string()
      .max(200)
      .regex(/^.+:[1-9]\d*$/, 'must be <instanceId>:<version>'),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    occurredAt: z.iso.datetime({ offset: true }),
    /** Marketplace debug traffic (testFlag=1). */
    test: z.boolean(),
    instance: webhookInstanceSchema,
    order: webhookOrderSchema.optional(),
  })
  .refine((event) => event.id.startsWith(`${event.instance.instanceId}:`), {
    message: 'must start with instance.instanceId',
    path: ['id'],
  });

export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** The version part of an event id: receivers use it to ignore an event older than what they already applied. */
export function webhookEventVersion(id: string): number {
  return Number(id.slice(id.lastIndexOf(':') + 1));
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

const httpUrl = z.string().max(512).refine(isHttpUrl, 'must be an http(s) URL');
/** Optional in the answer: absent, `null` or `""` all mean "not given". */
const optional = <T extends z.ZodType<string>>(schema: T) => z.union([z.literal(''), schema]).nullish();

/**
 * The seller's answer to `instance.created`: the appInfo the buyer sees (spec §3.2). Unknown fields are ignored;
 * a `null` or empty optional field counts as absent.
 */
export const appInfoResponseSchema = z
  .object({
    frontEndUrl: httpUrl,
    adminUrl: optional(httpUrl),
    userName: optional(z.string().max(128)),
    password: optional(z.string().max(128)),
    memo: optional(z.string().max(255)),
  })
  .transform((body): AppInfo => {
    const info: AppInfo = { frontEndUrl: body.frontEndUrl };
    for (const key of ['adminUrl', 'userName', 'password', 'memo'] as const) {
      const value = body[key];
      if (value) info[key] = value;
    }
    return info;
  });

const hmacHex = (secret: string, message: string) =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(message, 'utf8').digest('hex');

/** `t=<unix ms>,v1=<hex HMAC-SHA256(secret, t + "." + body)>` over the exact body bytes sent. */
export function webhookSignatureHeader(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs);
  return `t=${t},v1=${hmacHex(secret, `${t}.${body}`)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks an `X-KooGallery-Signature` header against the raw body: the time must be within `toleranceMs` of `nowMs`
 * (either way) and one of the `v1` values must match, compared in constant time. Unknown keys are ignored.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowMs: number,
  toleranceMs = SIGNATURE_TOLERANCE_MS,
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing signature header' };
  if (header.length > MAX_SIGNATURE_HEADER_LENGTH) return { ok: false, reason: 'malformed signature header' };
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed signature header' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== undefined || !/^\d{1,15}$/.test(value)) return { ok: false, reason: 'malformed signature header' };
      t = value;
    } else if (key === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return { ok: false, reason: 'malformed signature header' };
      v1.push(value.toLowerCase());
    }
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: 'malformed signature header' };
  if (!(Math.abs(nowMs - Number(t)) <= toleranceMs)) return { ok: false, reason: 'timestamp outside the tolerance' };
  const expected = Buffer.from(hmacHex(secret, `${t}.${body}`), 'utf8');
  // Every candidate is compared (no early exit), each in constant time.
  let match = false;
  for (const candidate of v1) match = timingSafeEqual(expected, Buffer.from(candidate, 'utf8')) || match;
  return match ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}

/** How a delivery ended; `status` is the HTTP status of the seller's answer, when one arrived. */
export type WebhookOutcome =
  { ok: true; status: number; appInfo?: AppInfo } | { ok: false; retry: boolean; reason: string; status?: number };

export interface WebhookClientConfig {
  /** `https:`; `http:` only for 127.0.0.1, ::1 and localhost. */
  url: string;
  secret: string;
  timeoutMs?: number;
  /**
   * Let the webhook reach loopback, private, link-local and other restricted addresses (WEBHOOK_ALLOW_PRIVATE_HOSTS:
   * a product on the same machine or network, as under the local stack). Off by default.
   */
  allowPrivateHosts?: boolean;
  /** Sends the request; by default the transport that checks the host's addresses (`webhookTransport.ts`). */
  fetch?: WebhookTransport;
  now?: () => number;
}

/** What the webhook receives: an instance's lifecycle event, or a Kit event (lib/provisioning/kitWebhook.ts). */
export type AnyWebhookEvent = WebhookEvent | KitWebhookEvent;

/** The contract a delivery is checked against, chosen by its type. */
function parseDelivery(input: AnyWebhookEvent) {
  return isKitWebhookType(input.type) ? kitWebhookEventSchema.safeParse(input) : webhookEventSchema.safeParse(input);
}

export interface WebhookClient {
  deliver(event: AnyWebhookEvent): Promise<WebhookOutcome>;
}

/** One line, no control characters, at most 200 characters: safe to put in a reason and a log. */
function snippet(text: string): string {
  const line = text
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(line);
  return chars.length > REASON_SNIPPET_CHARS ? `${chars.slice(0, REASON_SNIPPET_CHARS).join('')}…` : line;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function appInfoFrom(text: string, tooLarge: boolean): { appInfo: AppInfo } | { reason: string } {
  const prefix = 'webhook answered without a valid appInfo:';
  if (tooLarge) return { reason: `${prefix} body larger than ${MAX_RESPONSE_BYTES} bytes` };
  if (text.trim() === '') return { reason: `${prefix} empty body` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { reason: `${prefix} body is not JSON` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { reason: `${prefix} body is not a JSON object` };
  }
  const parsed = appInfoResponseSchema.safeParse(json);
  if (parsed.success) return { appInfo: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || 'body';
  const key = issue?.path[0];
  const missing = typeof key === 'string' && (json as Record<string, unknown>)[key] === undefined;
  const message = missing ? 'is missing' : issue?.message;
  return { reason: `${prefix} ${field} ${message ?? 'is invalid'}` };
}

function networkReason(error: unknown): string {
  const failure = error as { code?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  if (typeof failure?.code === 'string') return `webhook request failed: ${failure.code}`;
  const cause = failure?.cause;
  if (typeof cause?.code === 'string') return `webhook request failed: ${cause.code}`;
  if (typeof cause?.message === 'string') return `webhook request failed: ${snippet(cause.message)}`;
  return `webhook request failed: ${error instanceof Error ? snippet(error.message) : 'unknown error'}`;
}

/**
 * The webhook adapter: signs and POSTs one event, and says whether it is done, worth retrying, or failed for good.
 * Never throws from deliver(); the constructor throws on a URL or secret that must not be used.
 */
export function webhookClient(config: WebhookClientConfig): WebhookClient {
  const url = assertWebhookUrl(config.url);
  if (config.secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`webhook secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new Error('webhook timeoutMs must be an integer from 1 to 60000');
  }
  const doFetch = config.fetch ?? guardedTransport({ allowPrivateHosts: config.allowPrivateHosts ?? false });
  const now = config.now ?? Date.now;
  const { secret } = config;

  return {
    async deliver(input) {
      const parsed = parseDelivery(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return {
          ok: false,
          retry: false,
          reason: `event does not match the webhook contract: ${issue?.path.join('.') || 'event'} ${issue?.message ?? ''}`.trim(),
        };
      }
      const event = parsed.data;
      // Serialised once: these exact bytes are signed and sent.
      const body = JSON.stringify(event);
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      try {
        const response = await doFetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'koogallery-isv-webhook/1',
            [EVENT_ID_HEADER]: event.id,
            [SIGNATURE_HEADER]: webhookSignatureHeader(secret, body, now()),
          },
          body,
          redirect: 'manual',
          signal: controller.signal,
        });
        const status = response.status;
        const expectsAppInfo = event.type === 'instance.created';
        if (status >= 200 && status < 300 && !expectsAppInfo) {
          await response.body?.cancel().catch(() => {});
          return { ok: true, status };
        }
        const { text, tooLarge } = await readCapped(response, MAX_RESPONSE_BYTES);
        if (status >= 200 && status < 300) {
          const result = appInfoFrom(text, tooLarge);
          return 'appInfo' in result
            ? { ok: true, status, appInfo: result.appInfo }
            : { ok: false, retry: false, reason: result.reason, status };
        }
        if (status >= 300 && status < 400) {
          return {
            ok: false,
            retry: false,
            reason: `webhook answered a redirect (HTTP ${status}); redirects are not followed, configure the final URL`,
            status,
          };
        }
        const answer = snippet(text);
        return {
          ok: false,
          retry: isRetryableStatus(status),
          reason: `webhook answered HTTP ${status}${answer ? `: ${answer}` : ''}`,
          status,
        };
      } catch (error) {
        // A host on a restricted address stays refused until the configuration changes: failed for good.
        if (error instanceof RefusedWebhookHost) return { ok: false, retry: false, reason: error.message };
        if (timedOut) return { ok: false, retry: true, reason: `webhook timed out after ${timeoutMs} ms` };
        return { ok: false, retry: true, reason: networkReason(error) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
