/**
 * The tenant's OneAccess over HTTP (spec §5.3–5.5): the code and refresh-token exchanges (form bodies with the
 * client's id and decrypted secret) and userinfo (Bearer). Every call has a time limit that really ends it (the
 * abort signal covers connecting, the answer and its body), follows no redirect and reads at most 64 KB. Answers
 * are checked with zod; nothing of a token, code or secret reaches a log or an error message.
 */
import * as z from 'zod';
import { readCapped } from '#lib/http/readCapped.ts';
import type { OneAccessTokens, OneAccessUserInfo } from './model.ts';
import type { OneAccess, OneAccessResult } from './ports.ts';
import { tokenUrl, userInfoUrl } from './urls.ts';

const MAX_ANSWER_BYTES = 64 * 1024;

/** expires_in is a Long in the spec; a string of digits is taken too. */
const Seconds = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d{1,10}$/)
    .transform(Number),
]);

const TokenAnswer = z.object({
  access_token: z.string().min(1).max(8192),
  expires_in: Seconds.optional(),
  refresh_token: z.string().min(1).max(8192).optional(),
});

const ErrorAnswer = z.object({ error: z.string().max(128) });

const UserInfoAnswer = z.object({
  userName: z.string().min(1).max(64),
  name: z.string().max(255).optional(),
  tenant: z.string().max(64).optional(),
});

/** The access token's lifetime when OneAccess does not say (its documented default, 2 h). */
export const DEFAULT_ACCESS_SECONDS = 7200;

export interface OneAccessOptions {
  timeoutMs: number;
  fetch?: typeof fetch;
}

type Exchange = { ok: true; status: number; json: unknown } | { ok: false; kind: 'unavailable'; reason: string };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function oneAccessClient(options: OneAccessOptions): OneAccess {
  const doFetch = options.fetch ?? fetch;

  async function call(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }): Promise<Exchange> {
    try {
      const response = await doFetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
      const { text, tooLarge } = await readCapped(response, MAX_ANSWER_BYTES);
      if (tooLarge) return { ok: false, kind: 'unavailable', reason: 'answer too large' };
      return { ok: true, status: response.status, json: parseJson(text) };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { ok: false, kind: 'unavailable', reason: timedOut ? 'timed out' : 'not reached' };
    }
  }

  function refusal(exchange: { status: number; json: unknown }): OneAccessResult<never> {
    const error = ErrorAnswer.safeParse(exchange.json);
    if (exchange.status === 400 && error.success && error.data.error === 'invalid_grant') return { ok: false, kind: 'invalid_grant' };
    if (exchange.status >= 400 && exchange.status < 500) {
      return { ok: false, kind: 'refused', status: exchange.status, ...(error.success ? { error: error.data.error } : {}) };
    }
    return { ok: false, kind: 'unavailable', reason: `HTTP ${exchange.status}` };
  }

  async function tokens(domainName: string, form: Record<string, string>): Promise<OneAccessResult<OneAccessTokens>> {
    const exchange = await call(tokenUrl(domainName), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
    if (!exchange.ok) return exchange;
    if (exchange.status !== 200) return refusal(exchange);
    const answer = TokenAnswer.safeParse(exchange.json);
    if (!answer.success) return { ok: false, kind: 'unavailable', reason: 'token answer is not OneAccess JSON' };
    const value: OneAccessTokens = {
      accessToken: answer.data.access_token,
      expiresIn: answer.data.expires_in ?? DEFAULT_ACCESS_SECONDS,
      ...(answer.data.refresh_token ? { refreshToken: answer.data.refresh_token } : {}),
    };
    return { ok: true, value };
  }

  return {
    exchangeCode: (domainName, client, code, redirectUri) =>
      tokens(domainName, {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        code,
        grant_type: 'authorization_code',
        redirect_uri: redirectUri,
      }),
    refresh: (domainName, client, refreshToken) =>
      tokens(domainName, {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      }),
    async userInfo(domainName, accessToken): Promise<OneAccessResult<OneAccessUserInfo>> {
      const exchange = await call(userInfoUrl(domainName), {
        method: 'GET',
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      });
      if (!exchange.ok) return exchange;
      if (exchange.status !== 200) return refusal(exchange);
      const answer = UserInfoAnswer.safeParse(exchange.json);
      if (!answer.success) return { ok: false, kind: 'unavailable', reason: 'userinfo answer has no userName' };
      return { ok: true, value: answer.data };
    },
  };
}
