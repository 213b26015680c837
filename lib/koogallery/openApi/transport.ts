/**
 * How the Open API client reaches the marketplace: signed with the seller's AK/SK (APIG, spec §7.8), over strict TLS,
 * with a time limit, and retried once on the fallback host when the primary cannot be reached.
 */
import * as z from 'zod';
import { readCapped } from '#lib/http/readCapped.ts';
import { signApigRequest, type ApigCredentials } from '../apig.ts';
import { OPEN_API_DEFAULT_TIMEOUT_MS, OpenApiFailure, type OpenApiConfig } from './contract.ts';

/** A Query Order answer is a few KB; anything far larger is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** https only; plain http is allowed to a loopback host, for the local fake. */
function endpointUrl(label: string) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${label} is not a URL` });
      return;
    }
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      ctx.addIssue({
        code: 'custom',
        message: `${label} must use https (plain http is only allowed to 127.0.0.1, ::1 or localhost): ${url.host}`,
      });
    } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: `${label} must use https, not ${url.protocol}` });
    }
    if (url.username || url.password || url.search || url.hash) {
      ctx.addIssue({ code: 'custom', message: `${label} must not carry credentials, a query or a fragment` });
    }
  });
}

const ConfigSchema = z.object({
  baseUrl: endpointUrl('Open API baseUrl'),
  fallbackUrl: endpointUrl('Open API fallbackUrl').optional(),
  timeoutMs: z.number().int().min(1).max(60_000).optional(),
});

const CredentialsSchema = z.object({ ak: z.string().min(1), sk: z.string().min(1) });

export type Via = 'primary' | 'fallback';

type Attempt =
  | { kind: 'answer'; status: number; text: string | undefined }
  /** The marketplace answered but the body did not arrive. */
  | { kind: 'broken'; status: number; code: string; detail: string }
  | { kind: 'unreachable'; code: string; detail: string };

/** What one call produced: an HTTP answer from one host, or a transient failure to reach any. */
export type Exchange =
  | { kind: 'answer'; via: Via; status: number; text: string | undefined }
  | { kind: 'failed'; failure: { ok: false; retry: true; code: string; reason: string; httpStatus?: number } };

/** What a call sends besides the APIG signature (which is added per attempt, over these headers and body). */
export interface Outgoing {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

function failureDetail(error: unknown): { code: string; detail: string } {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { code: OpenApiFailure.timeout, detail: 'timed out' };
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.name : 'error';
  return { code: OpenApiFailure.network, detail };
}

/** The body as text, or undefined if it is larger than MAX_RESPONSE_BYTES. */
async function bodyUnlessTooLarge(response: Response): Promise<string | undefined> {
  const { text, tooLarge } = await readCapped(response, MAX_RESPONSE_BYTES);
  return tooLarge ? undefined : text;
}

type CredentialsFailure = { ok: false; retry: true; code: string; reason: string };

export interface OpenApiTransport {
  /** The AK/SK, or a transient refusal when they cannot be had. */
  loadCredentials(): Promise<ApigCredentials | CredentialsFailure>;
  /** The call on the primary host, then, only if that host could not be reached (or timed out), the fallback. */
  exchange(pathAndQuery: string, credentials: ApigCredentials, prepare: (atMs: number) => Outgoing): Promise<Exchange>;
}

/** The transport of `config`; throws if the configuration is unusable (not https, TLS checks turned off). */
export function openApiTransport(config: OpenApiConfig): OpenApiTransport {
  const checked = ConfigSchema.safeParse({
    baseUrl: config.baseUrl,
    fallbackUrl: config.fallbackUrl,
    timeoutMs: config.timeoutMs,
  });
  if (!checked.success) throw new Error(`Invalid Open API configuration: ${z.prettifyError(checked.error)}`);
  const usesTls = [config.baseUrl, config.fallbackUrl].some((u) => u?.startsWith('https:'));
  if (usesTls && process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new Error('NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks; the Open API is only called over verified TLS');
  }
  const timeoutMs = config.timeoutMs ?? OPEN_API_DEFAULT_TIMEOUT_MS;
  const doFetch = config.fetch ?? fetch;
  const now = config.now ?? Date.now;
  const trimSlash = (u: string) => u.replace(/\/+$/, '');
  const hosts: { via: Via; base: string }[] = [{ via: 'primary', base: trimSlash(config.baseUrl) }];
  if (config.fallbackUrl) hosts.push({ via: 'fallback', base: trimSlash(config.fallbackUrl) });

  async function loadCredentials(): Promise<ApigCredentials | CredentialsFailure> {
    try {
      return CredentialsSchema.parse(await config.credentials());
    } catch (error) {
      // A configuration problem an operator fixes; later attempts can then succeed.
      const name = error instanceof z.ZodError ? 'AK/SK are empty' : error instanceof Error ? error.name : 'error';
      return { ok: false, retry: true, code: OpenApiFailure.credentials, reason: `AK/SK unavailable (${name})` };
    }
  }

  /**
   * One request to one host. `prepare` runs per attempt, at the attempt's time: the APIG signature covers the
   * method, the URL, every header and the body, which is sent as exactly the UTF-8 bytes that were hashed.
   */
  async function attempt(url: string, credentials: ApigCredentials, prepare: (atMs: number) => Outgoing): Promise<Attempt> {
    const atMs = now();
    const { method, headers: own, body } = prepare(atMs);
    const signed = signApigRequest({ method, url, headers: own, body }, credentials, new Date(atMs));
    // fetch sets Host from the URL itself (the value that was signed).
    const headers = Object.fromEntries(Object.entries(signed).filter(([name]) => name.toLowerCase() !== 'host'));
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      // Certificates are always verified (fetch's default); redirects are not followed: the answer is the answer.
      response = await doFetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : Buffer.from(body, 'utf8'),
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      return { kind: 'unreachable', ...failureDetail(error) };
    }
    try {
      return { kind: 'answer', status: response.status, text: await bodyUnlessTooLarge(response) };
    } catch (error) {
      return { kind: 'broken', status: response.status, ...failureDetail(error) };
    }
  }

  /** The call on the primary host, then, only if that host could not be reached (or timed out), the fallback. */
  async function exchange(pathAndQuery: string, credentials: ApigCredentials, prepare: (atMs: number) => Outgoing): Promise<Exchange> {
    const failures: string[] = [];
    let lastCode: string = OpenApiFailure.network;
    for (const { via, base } of hosts) {
      const result = await attempt(`${base}${pathAndQuery}`, credentials, prepare);
      if (result.kind === 'answer') return { kind: 'answer', via, status: result.status, text: result.text };
      if (result.kind === 'broken') {
        // Transient, and not a reason to try the fallback: the marketplace did answer.
        const reason = `${via} host answered HTTP ${result.status} but the body did not arrive (${result.detail})`;
        const failure = { ok: false, retry: true, code: result.code, reason, httpStatus: result.status } as const;
        return { kind: 'failed', failure };
      }
      const host = new URL(base).host;
      failures.push(`${via} host ${host} unreachable (${result.detail})`);
      lastCode = result.code;
      if (via === 'primary' && hosts.length > 1) {
        config.log?.warn('Open API primary host unreachable, trying the fallback', { host, error: result.detail });
      }
    }
    return { kind: 'failed', failure: { ok: false, retry: true, code: lastCode, reason: failures.join('; ') } };
  }

  return { loadCredentials, exchange };
}
