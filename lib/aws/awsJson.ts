/**
 * A client for AWS services that speak the AWS JSON 1.0 protocol (DynamoDB, SQS): one signed POST per attempt,
 * `X-Amz-Target: <prefix>.<Operation>`, the operation's input as the JSON body and its output as the JSON answer.
 * It does what the SDK's client does on our paths and nothing else, at a fraction of its size and start-up time
 * (docs/decisions.md, "Our own AWS JSON client"):
 *   - settings from the standard environment (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), read at
 *     the first call;
 *   - SigV4 with the credentials of the given provider (lib/aws/sigV4.ts), re-signed per attempt;
 *   - per attempt a connection timeout, a timeout for the answer's headers and one for silence while its body
 *     arrives, each ending the attempt with a `TimeoutError` and closing its connection;
 *   - up to `maxAttempts` attempts for throttling, 5xx, timeouts and dropped connections, with full-jitter
 *     exponential backoff (100 ms base, 500 ms when throttled, as the SDK's standard retry strategy);
 *   - cancellation through an abort signal: the caller's, else the budget step's (lib/shared/budget.ts); a
 *     cancelled call is not retried;
 *   - a service's refusal thrown as an `AwsServiceError` named as the service names it (`__type`), with the
 *     answer's fields on it (`CancellationReasons`…) and `$metadata.httpStatusCode`, like the SDK's exceptions.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { stepSignal } from '#lib/shared/budget.ts';
import { signRequest, type AwsCredentials } from './sigV4.ts';

/**
 * The limits of one client. Per attempt: connecting (`connectionTimeout`), the wait for the answer's headers
 * (`requestTimeout`) and silence while its body arrives (`socketTimeout`); then up to `maxAttempts` attempts.
 */
export interface ClientTimeouts {
  maxAttempts: number;
  connectionTimeout: number;
  requestTimeout: number;
  socketTimeout: number;
}

/** A service that speaks AWS JSON 1.0. */
export interface AwsJsonService {
  /** The SigV4 signing name, also the first label of its AWS endpoint (`dynamodb`). */
  name: string;
  /** The X-Amz-Target prefix (`DynamoDB_20120810`). */
  targetPrefix: string;
  /** The environment variable that points the service elsewhere (`AWS_ENDPOINT_URL_DYNAMODB`). */
  endpointVariable: string;
  /** JSON keys whose string values are base64 binary (DynamoDB's `B`, `BS`). */
  binaryKeys: readonly string[];
  /** Headers the service wants on every request. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Per operation, the input field that makes a retry idempotent: filled with a new UUID when the caller gave none,
   * once per call, so every attempt of the call carries the same (DynamoDB's `ClientRequestToken`, as the SDK does).
   */
  idempotencyTokens?: Readonly<Record<string, string>>;
}

/** Each operation's input and output (`Ops` maps operation names to them). */
export type Operations<Ops> = { [K in keyof Ops]: { input: object; output: object } };

export interface SendOptions {
  abortSignal?: AbortSignal | undefined;
}

export interface AwsJsonClient<Ops extends Operations<Ops>> {
  send<K extends keyof Ops & string>(operation: K, input: Ops[K]['input'], options?: SendOptions): Promise<Ops[K]['output']>;
  /** Closes the client's idle connections. */
  destroy(): void;
}

export interface HttpAttempt {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one attempt within the per-attempt limits (the fault runs put their own in front of it). */
export type AttemptSender = (attempt: HttpAttempt, limits: ClientTimeouts, signal: AbortSignal | undefined) => Promise<HttpAnswer>;

export type CredentialProvider = () => Promise<AwsCredentials>;

export interface AwsJsonOptions {
  limits: ClientTimeouts;
  /** Instead of the environment's endpoint. */
  endpoint?: string | undefined;
  /** Instead of AWS_REGION. */
  region?: string | undefined;
  credentials: CredentialProvider;
  /** Instead of the client's own HTTP attempt (tests, fault runs). */
  sendAttempt?: (own: AttemptSender) => AttemptSender;
}

/** An attempt that ran out of one of its limits. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** The caller cancelled the call. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
}

/** A service's refusal, named as the service names it. */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string | undefined; attempts: number };
  [field: string]: unknown;

  constructor(name: string, message: string, status: number, requestId: string | undefined, attempts: number) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId, attempts };
  }
}

/** Whether `error` is the service's refusal named `name`. */
export const isServiceError = (error: unknown, name: string): error is AwsServiceError =>
  error instanceof AwsServiceError && error.name === name;

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'RequestThrottled',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN']);
const MAX_BACKOFF_MS = 20_000;

const isThrottling = (error: unknown): boolean =>
  error instanceof AwsServiceError && (THROTTLING.has(error.name) || error.$metadata.httpStatusCode === 429);

/** Whether another attempt may succeed where this one failed. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof AbortError) return false;
  if (error instanceof TimeoutError) return true;
  if (error instanceof AwsServiceError) return isThrottling(error) || TRANSIENT_STATUS.has(error.$metadata.httpStatusCode);
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** The wait before attempt `attempt + 1`: full jitter over an exponential ceiling. */
export function backoffMs(attempt: number, throttled: boolean, random: () => number = Math.random): number {
  const base = throttled ? 500 : 100;
  return random() * Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1));
}

/** `https://dynamodb.<region>.amazonaws.com` (`.com.cn` in the China regions). */
export const awsEndpoint = (service: string, region: string): string =>
  `https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError('cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The client's own HTTP attempt over keep-alive connections. */
function nodeAttempt(agents: { http: HttpAgent; https: HttpsAgent }): AttemptSender {
  return (attempt, limits, signal) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const { url } = attempt;
      const secure = url.protocol === 'https:';
      const timers: NodeJS.Timeout[] = [];
      let settled = false;
      const finish = (error: Error | undefined, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          request.destroy();
          reject(error);
        } else resolve(answer!);
      };
      /** Ends the attempt with a TimeoutError unless it is settled (or the timer cleared) within `ms`. */
      const limit = (ms: number, what: string): NodeJS.Timeout => {
        const timer = setTimeout(() => finish(new TimeoutError(`${what} within ${ms} ms`)), ms);
        timers.push(timer);
        return timer;
      };
      const onAbort = () => finish(new AbortError('cancelled'));
      if (signal?.aborted) return reject(new AbortError('cancelled'));

      const send = secure ? httpsRequest : httpRequest;
      const request = send({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: 'POST',
        headers: attempt.headers,
        agent: secure ? agents.https : agents.http,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = limit(limits.connectionTimeout, 'no connection');
        socket.once('connect', () => clearTimeout(timer));
      });
      request.on('error', (error) => finish(error));
      request.on('response', (response: IncomingMessage) => {
        for (const timer of timers.splice(0)) clearTimeout(timer);
        request.setTimeout(limits.socketTimeout, () => finish(new TimeoutError(`the answer's body paused for ${limits.socketTimeout} ms`)));
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => finish(error));
        response.on('aborted', () => finish(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
        response.on('end', () =>
          finish(undefined, { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      limit(limits.requestTimeout, 'no answer');
      request.end(attempt.body);
    });
}

const header = (headers: HttpAnswer['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The service's refusal from a non-2xx answer. */
function refusal(answer: HttpAnswer, attempts: number): AwsServiceError {
  let fields: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(answer.body);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) fields = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): named by its status below.
  }
  const type = String(fields.__type ?? header(answer.headers, 'x-amzn-errortype') ?? '');
  const name = type.split('#').pop()?.split(':')[0] || 'UnknownError';
  const message = fields.message ?? fields.Message;
  const error = new AwsServiceError(
    name,
    typeof message === 'string' ? message : `HTTP ${answer.status} without a service error`,
    answer.status,
    header(answer.headers, 'x-amzn-requestid'),
    attempts,
  );
  for (const [key, value] of Object.entries(fields)) if (key !== '__type' && key !== 'message' && key !== 'Message') error[key] = value;
  // SQS also gives the error's name in its older Query protocol (AWS.SimpleQueueService.NonExistentQueue;Sender).
  const queryError = header(answer.headers, 'x-amzn-query-error');
  if (queryError) error.Code = queryError.split(';')[0];
  return error;
}

/** A client of `service`. Nothing is read or opened until the first call. */
export function awsJsonClient<Ops extends Operations<Ops>>(service: AwsJsonService, options: AwsJsonOptions): AwsJsonClient<Ops> {
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 50 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
  };
  const own = nodeAttempt(agents);
  const sendAttempt = options.sendAttempt ? options.sendAttempt(own) : own;
  const binary = new Set(service.binaryKeys);
  let settings: { url: URL; region: string } | undefined;
  let credentials: AwsCredentials | undefined;
  let asking: Promise<AwsCredentials> | undefined;

  const resolveSettings = () => {
    if (settings) return settings;
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error(`no AWS region for ${service.name}: set AWS_REGION`);
    const endpoint =
      options.endpoint || process.env[service.endpointVariable] || process.env.AWS_ENDPOINT_URL || awsEndpoint(service.name, region);
    settings = { url: new URL(endpoint), region };
    return settings;
  };

  /** The provider's credentials, asked again five minutes before they expire; calls at the same time share one ask. */
  const currentCredentials = async (): Promise<AwsCredentials> => {
    const fresh = credentials && !(credentials.expiration && credentials.expiration.getTime() - Date.now() < 300_000);
    if (fresh) return credentials!;
    asking ??= options.credentials().finally(() => {
      asking = undefined;
    });
    credentials = await asking;
    return credentials;
  };

  function serialize(input: object): string {
    return JSON.stringify(input, function (this: Record<string, unknown>, key, value: unknown) {
      const raw = this[key];
      return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
    });
  }

  function deserialize(body: string): object {
    if (body.trim() === '') return {};
    return JSON.parse(body, (key, value: unknown) => {
      if (!binary.has(key)) return value;
      if (typeof value === 'string') return Buffer.from(value, 'base64');
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v: string) => Buffer.from(v, 'base64'));
      return value;
    }) as object;
  }

  async function send<K extends keyof Ops & string>(operation: K, input: Ops[K]['input'], sendOptions: SendOptions = {}) {
    const signal = sendOptions.abortSignal ?? stepSignal();
    const { url, region } = resolveSettings();
    const tokenField = service.idempotencyTokens?.[operation];
    const body = serialize(tokenField && !(tokenField in input) ? { ...input, [tokenField]: randomUUID() } : input);
    const { limits } = options;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortError('cancelled');
      let failure: unknown;
      try {
        const signed = signRequest(
          {
            method: 'POST',
            path: url.pathname,
            headers: {
              host: url.host,
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': `${service.targetPrefix}.${operation}`,
              ...service.headers,
            },
            body,
          },
          { service: service.name, region, credentials: await currentCredentials(), at: new Date() },
        );
        const headers = { ...signed, 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'koogallery-isv-server' };
        const answer = await sendAttempt({ url, headers, body }, limits, signal);
        if (answer.status >= 200 && answer.status < 300) return deserialize(answer.body) as Ops[K]['output'];
        failure = refusal(answer, attempt);
      } catch (error) {
        failure = error;
      }
      if (signal?.aborted || attempt >= limits.maxAttempts || !isRetryable(failure)) throw failure;
      await sleep(backoffMs(attempt, isThrottling(failure)), signal);
    }
  }

  return {
    send,
    destroy() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
