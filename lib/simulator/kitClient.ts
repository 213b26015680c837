/**
 * The marketplace's side of the joint-operation Kit calls (spec kit.md §1–§2): a body POSTed to
 * `<production address>/produceAPI/v2/<name>` with `x-sign`, `x-nonce` and `x-timestamp` made with the Kit access key
 * by the server's own signing code. Kit answers carry no Body-Sign (§1). Used by `koogallery-sim kit`, the
 * conformance checks and the joint-operation scenario.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MAX_JSON_DEPTH } from '#lib/koogallery/canonicalJson.ts';
import { parseJsonTree } from '#lib/koogallery/jsonTree.ts';
import { signKitRequest } from '#lib/koogallery/kitSignature.ts';
import { DEFAULT_TIMEOUT_MS } from './client.ts';

export const KIT_INTERFACES = ['tenantSync', 'applicationSync', 'authSync', 'singleOrgSync', 'allOrgSync'] as const;
export type KitName = (typeof KIT_INTERFACES)[number];

export const isKitName = (name: string): name is KitName => (KIT_INTERFACES as readonly string[]).includes(name);

/** Ways to spoil a Kit call's signature, for conformance checks. */
export interface KitSigning {
  key?: string;
  nowMs?: number;
  nonce?: string;
  /** Send these bytes instead of the JSON of the body (which is still what is signed). */
  rawBody?: string;
}

export interface KitCallResult {
  /** 0 when no answer came (see `error`). */
  status: number;
  headers: [string, string][];
  raw: string;
  json?: Record<string, unknown>;
  latencyMs: number;
  error?: string;
}

export interface KitClient {
  call(name: KitName, body: Record<string, unknown>, signing?: KitSigning): Promise<KitCallResult>;
  /** The address of one interface. */
  urlOf(name: KitName): string;
}

function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<KitCallResult> {
  const started = performance.now();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const done = (result: Omit<KitCallResult, 'latencyMs'>) => resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const pairs: [string, string][] = [];
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          const raw = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            const parsed: unknown = JSON.parse(raw);
            if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          done({ status: res.statusCode ?? 0, headers: pairs, raw, ...(json ? { json } : {}) });
        });
        res.on('error', (error) => done({ status: 0, headers: [], raw: '', error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => done({ status: 0, headers: [], raw: '', error: error.message }));
    req.end(body);
  });
}

/** `produceUrl` is the production address (…/koogallery/produce); `kitKey` the Kit access key. */
export function kitClient(produceUrl: string, kitKey: string, options: { timeoutMs?: number } = {}): KitClient {
  const base = produceUrl.replace(/\/+$/, '');
  const urlOf = (name: KitName) => `${base}/produceAPI/v2/${name}`;
  return {
    urlOf,
    async call(name, body, signing = {}) {
      const json = JSON.stringify(body);
      const reading = parseJsonTree(json, MAX_JSON_DEPTH);
      if (!reading.ok || !(reading.value instanceof Map)) throw new Error('a Kit body is a JSON object');
      const headers = signKitRequest(signing.key ?? kitKey, reading.value, {
        ...(signing.nowMs !== undefined ? { nowMs: signing.nowMs } : {}),
        ...(signing.nonce !== undefined ? { nonce: signing.nonce } : {}),
      });
      return post(new URL(urlOf(name)), headers, signing.rawBody ?? json, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    },
  };
}
