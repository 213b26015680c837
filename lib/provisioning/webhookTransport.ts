/**
 * The webhook's HTTP transport: one POST over node:http(s), no redirects followed, connected only to addresses
 * that passed the host check of `webhookAddress.ts` (the check is the connection's own DNS lookup). It answers a
 * fetch `Response`, so the client reads it as it would read fetch's.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { checkedLookup, refusedLiteralHost } from './webhookAddress.ts';

/** What the webhook client sends. */
export interface WebhookRequest {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  /** Never followed, whatever the value: a 3xx is the answer. */
  redirect: 'manual';
  signal: AbortSignal;
}

/** Sends one webhook request (fetch has this shape too, for tests that stand in for the network). */
export type WebhookTransport = (url: URL, request: WebhookRequest) => Promise<Response>;

/** Statuses whose Response cannot have a body. */
const NO_BODY_STATUSES = new Set([204, 205, 304]);

function toResponse(message: IncomingMessage): Response {
  const status = message.statusCode ?? 0;
  if (status < 200 || status > 599) {
    message.destroy();
    throw new Error(`webhook answered HTTP status ${status}, which is not a final answer`);
  }
  if (NO_BODY_STATUSES.has(status)) {
    message.resume();
    return new Response(null, { status });
  }
  return new Response(Readable.toWeb(message) as ReadableStream<Uint8Array>, { status });
}

/**
 * The transport that checks where it connects: a host given as an IP address is checked before the request, a name
 * in the lookup that the connection uses. Restricted addresses are refused (`RefusedWebhookHost`) unless allowed.
 */
export function guardedTransport(options: { allowPrivateHosts: boolean }): WebhookTransport {
  const lookup = checkedLookup({ allowRestricted: options.allowPrivateHosts });
  return (url, request) =>
    new Promise<Response>((resolve, reject) => {
      const refused = refusedLiteralHost(url.hostname, options.allowPrivateHosts);
      if (refused) return reject(refused);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const outgoing = send(
        url,
        {
          method: request.method,
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body, 'utf8')) },
          signal: request.signal,
          lookup,
          // A connection of its own, closed after the answer: never a pooled socket to an address checked earlier.
          agent: false,
        },
        (message) => {
          try {
            resolve(toResponse(message));
          } catch (error) {
            reject(error);
          }
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
}
