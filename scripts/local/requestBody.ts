/** Reading an HTTP request's body up to a limit, for the local stand-ins' servers. */
import type { IncomingMessage } from 'node:http';

/** The body was larger than the limit. */
export class BodyTooLarge extends Error {}

/** The body's bytes, exactly as received; BodyTooLarge once more than `maxBytes` have arrived. */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
