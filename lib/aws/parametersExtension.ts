/**
 * SecureStrings through the AWS Parameters and Secrets Lambda Extension: a layer that runs beside the function,
 * answers `GET /systemsmanager/parameters/get` on localhost and caches what it read from Parameter Store
 * (serverless.yml sets its port, cache and time to live). The request carries the function's session token
 * (`X-Aws-Parameters-Secrets-Token`), which the extension checks. No AWS SDK is involved, so a function reading its
 * secrets this way bundles no SSM client.
 *
 * Each read is bounded by `timeoutMs` and by the abort signal of the budget step it runs in (stepSignal()); a
 * value never appears in an error message.
 */
import { request } from 'node:http';
import * as z from 'zod/mini';
import '#lib/shared/zodMessages.ts';
import type { ParameterReader } from '#lib/parameterReader.ts';
import { stepSignal } from '#lib/shared/budget.ts';

/** The extension's default port (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT changes it). */
export const EXTENSION_DEFAULT_PORT = 2773;

/** One read's limit when no budget step is shorter: a cached value answers in about a millisecond. */
export const EXTENSION_TIMEOUT_MS = 1_000;

/** Where the extension listens and how to authenticate to it; each defaults to what Lambda provides. */
export interface ExtensionOptions {
  host?: string;
  port?: number;
  timeoutMs?: number;
  /** The session token the extension expects; read from AWS_SESSION_TOKEN at each call by default. */
  token?: () => string | undefined;
}

const answer = z.object({ Parameter: z.object({ Value: z.string() }) });

/** The error a missing parameter rejects with: the name lib/koogallery/accessKeys.ts tolerates for the previous key. */
export class ParameterNotFound extends Error {
  override readonly name = 'ParameterNotFound';
}

/** A read that took longer than allowed (the name is the SDK's for its own timeouts). */
export class ExtensionTimeout extends Error {
  override readonly name = 'TimeoutError';
}

interface Reply {
  status: number;
  body: string;
}

/** The port from PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, else the default. */
function configuredPort(env: NodeJS.ProcessEnv = process.env): number {
  const port = Number(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT);
  return Number.isInteger(port) && port > 0 && port < 65_536 ? port : EXTENSION_DEFAULT_PORT;
}

/** One GET to the extension, abandoned (and its socket closed) when `signal` aborts. */
function get(options: { host: string; port: number; path: string; token: string; signal: AbortSignal }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host,
        port: options.port,
        path: options.path,
        method: 'GET',
        headers: { 'X-Aws-Parameters-Secrets-Token': options.token },
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', (error) => reject(options.signal.aborted ? (options.signal.reason as Error) : error));
    req.end();
  });
}

/** What a reply means: the value, a missing parameter, or a failure described without the reply's body. */
function valueOf(name: string, reply: Reply): string {
  if (reply.status === 200) {
    const parsed = answer.safeParse(safeJson(reply.body));
    if (!parsed.success) throw new Error(`the Parameters and Secrets extension answered ${name} with an unexpected body`);
    return parsed.data.Parameter.Value;
  }
  // The extension answers a missing parameter with a 4xx (400 in the versions described) naming SSM's error.
  const clientError = reply.status >= 400 && reply.status < 500;
  if (clientError && reply.body.includes('ParameterNotFound')) throw new ParameterNotFound(`parameter ${name} not found`);
  throw new Error(`the Parameters and Secrets extension answered ${reply.status} for ${name}`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A ParameterReader over the extension, with decryption. */
export function extensionParameterReader(options: ExtensionOptions = {}): ParameterReader {
  const host = options.host ?? 'localhost';
  const timeoutMs = options.timeoutMs ?? EXTENSION_TIMEOUT_MS;
  const token = options.token ?? (() => process.env.AWS_SESSION_TOKEN);
  return async (name) => {
    const sessionToken = token();
    if (!sessionToken) throw new Error('AWS_SESSION_TOKEN is not set: the Parameters and Secrets extension cannot be asked');
    const timeout = AbortSignal.timeout(timeoutMs);
    const step = stepSignal();
    const signal = step ? AbortSignal.any([timeout, step]) : timeout;
    const path = `/systemsmanager/parameters/get?name=${encodeURIComponent(name)}&withDecryption=true`;
    try {
      return valueOf(name, await get({ host, port: options.port ?? configuredPort(), path, token: sessionToken, signal }));
    } catch (error) {
      if (timeout.aborted)
        throw new ExtensionTimeout(`reading ${name} from the Parameters and Secrets extension took over ${timeoutMs} ms`);
      throw error;
    }
  };
}
