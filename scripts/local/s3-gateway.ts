/**
 * Local S3 front of the files bucket, in front of fauxqs:
 *
 * - answers S3 POST Object (`POST /{bucket}` with a multipart/form-data body, as made by presigned POST forms):
 *   the SigV4 POST policy signature, the policy's expiration and conditions, the file size range and the
 *   `x-amz-checksum-*` fields are checked as S3 checks them, then the object is stored in fauxqs;
 * - forwards every other request (GET, PUT, HEAD, DELETE, lists, multipart uploads, copies, presigned URLs, SQS…)
 *   unchanged to fauxqs, bodies streamed both ways;
 * - after each object creation it handled (POST, PUT, copy, completed multipart upload), delivers the S3
 *   `ObjectCreated` event that the bucket's notification configuration would send, to every matching notification,
 *   after the HTTP answer has been sent, as S3 does.
 *
 * - with `dataDir`, keeps a copy of the buckets on disk (scripts/local/s3-disk.ts): each object created or deleted
 *   through it is copied or removed there before the answer is sent, and at start the kept objects are uploaded back
 *   into fauxqs, so the objects outlive fauxqs's memory.
 *
 * Local differences from S3: objects are not versioned (events carry no versionId); a POST upload above
 * 10 MiB is stored in fauxqs as a multipart upload, so its ETag is a multipart ETag (`<md5>-<parts>`); POST form
 * files are limited to `maxFileBytes` (60 MiB by default); SigV2 POST forms and CRC64NVME checksums are refused;
 * a failed delivery is logged, not retried.
 *
 * CORS follows the files bucket's rule (resources/s3.yml): only `POST`, only from the origins `corsOrigins` names
 * (the console's), only the `content-type` header. A preflight outside the rule is refused (403 AccessForbidden) and
 * any other request is served without CORS headers, as S3 does.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import type { S3Event } from 'aws-lambda';
import { diskBuckets } from './s3-disk.ts';
import { interpretResult, invokeOffline, invokeUrl } from './sqs-bridge.ts';

/** One entry of the bucket's notification configuration: ObjectCreated events of matching keys go to `deliver`. */
export interface S3Notification {
  /** Only objects of this bucket; every bucket when omitted. */
  bucket?: string;
  /** Key prefix filter ('' for every key). */
  prefix: string;
  /** Key suffix filter (none when omitted). */
  suffix?: string;
  /** The events' `configurationId`; `local-notification-<n>` (1-based) when omitted. */
  id?: string;
  deliver: (event: S3Event) => Promise<void>;
}

export interface S3GatewayOptions {
  /** fauxqs endpoint, e.g. http://127.0.0.1:4566 */
  upstream: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The region POST policies must be signed for, and the events' awsRegion. */
  region: string;
  /** The only credentials POST policies may be signed with. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  notifications: S3Notification[];
  /** Largest file a POST form may carry (default 60 MiB); the whole form may be 1 MiB larger. */
  maxFileBytes?: number;
  /** The clock policies expire by and events are dated with (default Date.now). */
  now?: () => number;
  /** Default console.log. */
  log?: (line: string) => void;
  /** Keep the objects on disk in this folder, and upload the ones kept there into fauxqs at start. */
  dataDir?: string;
  /**
   * The origins the bucket's CORS rule allows to POST (the console's), read at each request so an origin known only
   * after the front started can be named; none when omitted.
   */
  corsOrigins?: () => readonly string[];
}

export interface S3Gateway {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  port: number;
  close(): Promise<void>;
  /** Resolves when every event delivery started so far has finished (delivered or failed). */
  idle(): Promise<void>;
}

type CreationKind = 'Post' | 'Put' | 'Copy' | 'CompleteMultipartUpload';

const DEFAULT_MAX_FILE_BYTES = 60 * 1024 * 1024;
const FORM_OVERHEAD_BYTES = 1024 * 1024;
/** A refused form body is read to its end (so the client gets the answer) up to this many bytes, then cut. */
const DRAIN_LIMIT_BYTES = 1024 * 1024 * 1024;
/** Bodies above this go to fauxqs as a multipart upload (its request limit is 11 MiB). */
const SINGLE_PUT_MAX_BYTES = 10 * 1024 * 1024;
const PART_BYTES = 8 * 1024 * 1024;
const BUCKET_OWNER = 'A1LOCALBUCKETOWNER';
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'host',
]);
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'trailer', 'upgrade']);
/** Form fields S3 stores as object headers besides Content-Type and x-amz-meta-*. */
const STORED_FIELDS = [
  'cache-control',
  'content-disposition',
  'content-language',
  'expires',
  'x-amz-storage-class',
  'x-amz-server-side-encryption',
];
const EXPOSED_HEADERS =
  'ETag, Location, x-amz-request-id, x-amz-id-2, x-amz-version-id, x-amz-checksum-sha256, x-amz-checksum-sha1, x-amz-checksum-crc32, x-amz-checksum-crc32c';
/** The bucket's CORS rule (resources/s3.yml console-uploads): its methods and request headers. */
const CORS_METHODS = ['POST'];
const CORS_HEADERS = ['content-type'];

/**
 * Whether a cross-origin request (or the one a preflight announces) falls under the bucket's CORS rule: an allowed
 * origin, an allowed method, and only allowed request headers (compared without case).
 */
export function corsAllows(
  rule: { origins: readonly string[] },
  request: { origin: string; method: string; headers?: string | undefined },
): boolean {
  if (!rule.origins.includes(request.origin) || !CORS_METHODS.includes(request.method.toUpperCase())) return false;
  const asked = (request.headers ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return asked.every((h) => CORS_HEADERS.includes(h));
}

/** An S3 error answer. */
class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string | number> = {},
  ) {
    super(message);
  }
}

/** An error answer of fauxqs, passed on as it is. */
class UpstreamFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly contentType: string,
  ) {
    super(`fauxqs answered HTTP ${status}`);
  }
}

/** Escapes element text (the documents written here have no attributes). */
const xmlEscape = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);
const xmlUnescape = (s: string) =>
  s.replace(/&(quot|apos|lt|gt|amp);/g, (_m, e: string) => ({ quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' })[e] ?? '');
const requestId = () => randomBytes(8).toString('hex').toUpperCase();
const hostId = () => randomBytes(32).toString('base64');
const unquote = (etag: string) => etag.replace(/^"|"$/g, '');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** SigV4 signing key: HMAC chain over the date, region, service and "aws4_request". */
export function sigV4SigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/**
 * An object key as S3 writes it in event notifications: form-urlencoded (space as '+', every byte but letters,
 * digits, '*', '-', '.', '_' percent-encoded in UTF-8), with '/' left as it is.
 */
export function s3EventKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}

/** `/bucket/key` with the key's segments percent-encoded, for URLs. */
function objectPath(bucket: string, key: string): string {
  return `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function errorXml(code: string, message: string, details: Record<string, string | number>, reqId: string, id2: string): string {
  const extra = Object.entries(details)
    .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>` +
    `${extra}<RequestId>${reqId}</RequestId><HostId>${xmlEscape(id2)}</HostId></Error>`
  );
}

let crc32cTable: Uint32Array | undefined;
function crc32c(data: Uint8Array): number {
  const table = (crc32cTable ??= (() => {
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      t[n] = c >>> 0;
    }
    return t;
  })());
  let crc = 0xffffffff;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const uint32Base64 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64');
};

/** The checksums S3 accepts in `x-amz-checksum-<algorithm>`, computed in base64. */
const CHECKSUMS: Record<string, { name: string; compute: (data: Buffer) => string; bytes: number }> = {
  sha256: { name: 'SHA256', compute: (d) => createHash('sha256').update(d).digest('base64'), bytes: 32 },
  sha1: { name: 'SHA1', compute: (d) => createHash('sha1').update(d).digest('base64'), bytes: 20 },
  crc32: { name: 'CRC32', compute: (d) => uint32Base64(crc32(d)), bytes: 4 },
  crc32c: { name: 'CRC32C', compute: (d) => uint32Base64(crc32c(d)), bytes: 4 },
};

interface Target {
  /** Path-style path, still percent-encoded as received. */
  path: string;
  query: string;
  bucket: string;
  key: string;
}

/** Bucket and key of a request, path-style or virtual-hosted-style (bucket in Host), the way fauxqs reads them. */
function resolveTarget(req: IncomingMessage): Target {
  let raw = req.url ?? '/';
  if (/^https?:\/\//i.test(raw)) {
    const u = new URL(raw);
    raw = `${u.pathname}${u.search}`;
  }
  const q = raw.indexOf('?');
  let path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  const hostname = (req.headers.host ?? '').split(':')[0] ?? '';
  const contentType = req.headers['content-type'] ?? '';
  const isServiceProtocol = contentType.includes('x-www-form-urlencoded') || contentType.includes('x-amz-json-1.0');
  if (hostname.includes('.') && !/^\d+\.\d+\.\d+\.\d+$/.test(hostname) && !isServiceProtocol) {
    path = `/${hostname.slice(0, hostname.indexOf('.'))}${path}`;
  }
  const rest = path.replace(/^\//, '');
  const slash = rest.indexOf('/');
  try {
    return {
      path,
      query,
      bucket: decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash)),
      key: slash < 0 ? '' : decodeURIComponent(rest.slice(slash + 1)),
    };
  } catch {
    throw new S3Failure(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** Which object creation a proxied request is, if it is one (sub-resource requests such as ?tagging are not). */
function creationKind(method: string | undefined, t: Target, headers: IncomingHttpHeaders): CreationKind | undefined {
  if (!t.bucket || !t.key) return undefined;
  const names = [...new URLSearchParams(t.query).keys()].filter((n) => !/^x-amz-/i.test(n) && n !== 'x-id');
  if (method === 'PUT' && names.length === 0) return headers['x-amz-copy-source'] ? 'Copy' : 'Put';
  if (method === 'POST' && names.length === 1 && names[0] === 'uploadId') return 'CompleteMultipartUpload';
  return undefined;
}

/** Which kept objects a proxied request may change: the one it names, or those its DeleteObjects body lists. */
function changeOf(method: string | undefined, t: Target): 'object' | 'listed' | undefined {
  if (!t.bucket) return undefined;
  const names = [...new URLSearchParams(t.query).keys()].filter((n) => !/^x-amz-/i.test(n) && n !== 'x-id');
  if (!t.key) return method === 'POST' && names.includes('delete') ? 'listed' : undefined;
  if (method === 'PUT' && names.length === 0) return 'object';
  if (method === 'DELETE' && names.every((n) => n === 'versionId')) return 'object';
  if (method === 'POST' && names.length === 1 && names[0] === 'uploadId') return 'object';
  return undefined;
}

/** `AWS:<access key>` of a SigV4-signed request (header or presigned URL), `Anonymous` otherwise. */
function principalOf(req: IncomingMessage, query: string): string {
  const fromHeader = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
  const fromQuery = new URLSearchParams(query).get('X-Amz-Credential')?.split('/')[0];
  const accessKey = fromHeader ?? fromQuery;
  return accessKey ? `AWS:${accessKey}` : 'Anonymous';
}

const sourceIp = (req: IncomingMessage) => (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

function forwardedHeaders(headers: IncomingHttpHeaders, host: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { host };
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function answerHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !RESPONSE_HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** The fields of a POST form before the file (S3 ignores what follows it), and the file. */
interface PostForm {
  /** By lower-cased name. */
  fields: Map<string, { name: string; value: string }>;
  file: { data: Buffer; filename: string } | undefined;
}

async function parseForm(body: Buffer, contentType: string): Promise<PostForm> {
  let form: FormData;
  try {
    form = await new Request('http://s3.local/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
  } catch {
    throw new S3Failure(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  }
  const fields: PostForm['fields'] = new Map();
  for (const [name, value] of form) {
    const lower = name.toLowerCase();
    if (lower === 'file') {
      const file =
        typeof value === 'string'
          ? { data: Buffer.from(value, 'utf8'), filename: '' }
          : { data: Buffer.from(await value.arrayBuffer()), filename: value.name };
      return { fields, file };
    }
    if (fields.has(lower)) throw new S3Failure(400, 'InvalidArgument', `The form field ${name} appears more than once.`);
    fields.set(lower, { name, value: typeof value === 'string' ? value : await value.text() });
  }
  return { fields, file: undefined };
}

/** Reads a POST body of at most `cap` bytes; a larger one is read to its end without being kept, then refused. */
async function readBody(req: IncomingMessage, cap: number, maxFileBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  let over = Number.isFinite(declared) && declared > cap;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (over) {
      if (size > cap + DRAIN_LIMIT_BYTES) {
        req.destroy();
        break;
      }
      continue;
    }
    if (size > cap) {
      over = true;
      chunks.length = 0;
    } else {
      chunks.push(chunk);
    }
  }
  if (over) {
    throw new S3Failure(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: Number.isFinite(declared) ? declared : size,
      MaxSizeAllowed: maxFileBytes,
    });
  }
  return Buffer.concat(chunks, size);
}

interface FieldCondition {
  op: 'eq' | 'starts-with';
  /** Lower-cased field name, without '$'. */
  field: string;
  value: string;
  /** The condition as S3 quotes it in its error message. */
  text: string;
}

interface Policy {
  expiration: number;
  fields: FieldCondition[];
  ranges: { min: number; max: number }[];
}

const invalidPolicy = (why: string) => new S3Failure(400, 'InvalidPolicyDocument', `Invalid Policy: ${why}`);

function parsePolicy(base64: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  const expires = typeof expiration === 'string' ? Date.parse(expiration) : NaN;
  if (!Number.isFinite(expires)) throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  const policy: Policy = { expiration: expires, fields: [], ranges: [] };
  for (const c of conditions as unknown[]) {
    const bad = () => invalidPolicy(`Invalid Condition: ${JSON.stringify(c)}`);
    if (typeof c === 'object' && c !== null && !Array.isArray(c)) {
      for (const [name, value] of Object.entries(c)) {
        if (typeof value !== 'string') throw bad();
        policy.fields.push({ op: 'eq', field: name.toLowerCase(), value, text: `["eq", "$${name}", ${JSON.stringify(value)}]` });
      }
      continue;
    }
    if (!Array.isArray(c) || c.length !== 3 || typeof c[0] !== 'string') throw bad();
    const op = c[0].toLowerCase();
    if (op === 'content-length-range') {
      const [min, max] = [Number(c[1]), Number(c[2])];
      if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) throw bad();
      policy.ranges.push({ min, max });
    } else if ((op === 'eq' || op === 'starts-with') && typeof c[1] === 'string' && c[1].startsWith('$') && typeof c[2] === 'string') {
      policy.fields.push({
        op,
        field: c[1].slice(1).toLowerCase(),
        value: c[2],
        text: `["${op}", ${JSON.stringify(c[1])}, ${JSON.stringify(c[2])}]`,
      });
    } else {
      throw bad();
    }
  }
  return policy;
}

function conditionHolds(c: FieldCondition, value: string): boolean {
  if (c.op === 'eq') return value === c.value;
  // S3 checks each value of a comma-separated Content-Type list.
  if (c.field === 'content-type') return value.split(',').every((v) => v.trim().startsWith(c.value));
  return value.startsWith(c.value);
}

/** Fields that need no condition in the policy. */
const isExempt = (lower: string) => ['x-amz-signature', 'file', 'policy'].includes(lower) || lower.startsWith('x-ignore-');

/** Checks the `x-amz-checksum-*` fields against the file; returns the checksum header to answer with, if any. */
function checkChecksum(fields: PostForm['fields'], data: Buffer): [string, string] | undefined {
  const algorithmField = fields.get('x-amz-checksum-algorithm')?.value;
  const given = [...fields.keys()].filter(
    (k) => k.startsWith('x-amz-checksum-') && k !== 'x-amz-checksum-algorithm' && k !== 'x-amz-checksum-type',
  );
  if (given.length > 1) {
    throw new S3Failure(400, 'InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  const valueField = given[0];
  const algorithm = algorithmField?.toLowerCase() ?? valueField?.slice('x-amz-checksum-'.length);
  if (algorithm === undefined) return undefined;
  const spec = CHECKSUMS[algorithm];
  if (!spec) {
    throw new S3Failure(400, 'InvalidRequest', `Checksum algorithm ${algorithm.toUpperCase()} is not supported by the local S3 front.`);
  }
  if (valueField && valueField !== `x-amz-checksum-${algorithm}`) {
    throw new S3Failure(
      400,
      'InvalidRequest',
      `Value for x-amz-checksum-algorithm (${spec.name}) does not match the checksum field ${valueField}.`,
    );
  }
  const computed = spec.compute(data);
  if (valueField) {
    const declared = fields.get(valueField)?.value ?? '';
    if (Buffer.from(declared, 'base64').length !== spec.bytes) {
      throw new S3Failure(400, 'InvalidRequest', `Value for ${valueField} header is invalid.`);
    }
    if (declared !== computed)
      throw new S3Failure(400, 'BadDigest', `The ${spec.name} you specified did not match the calculated checksum.`);
  }
  return [`x-amz-checksum-${algorithm}`, computed];
}

const overlaps = (a: S3Notification, b: S3Notification) =>
  (a.bucket === undefined || b.bucket === undefined || a.bucket === b.bucket) &&
  (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix)) &&
  ((a.suffix ?? '').endsWith(b.suffix ?? '') || (b.suffix ?? '').endsWith(a.suffix ?? ''));

/** Starts the local S3 front; see the file's description. */
export async function startS3Gateway(options: S3GatewayOptions): Promise<S3Gateway> {
  const upstream = new URL(options.upstream);
  const upstreamBase = options.upstream.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const bodyCap = maxFileBytes + FORM_OVERHEAD_BYTES;
  const notifications = options.notifications.map((n, i) => ({ ...n, id: n.id ?? `local-notification-${i + 1}` }));
  notifications.forEach((a, i) =>
    notifications.slice(i + 1).forEach((b) => {
      // S3 refuses such a configuration: one object would match two destinations for the same event type.
      if (overlaps(a, b)) throw new Error(`notifications ${a.id} and ${b.id} overlap (same bucket, overlapping prefix and suffix)`);
    }),
  );
  const agent = new Agent({ keepAlive: true });
  const host = options.host ?? '127.0.0.1';
  let endpoint = '';
  const pending = new Set<Promise<void>>();
  let sequence = 0n;

  const matching = (bucket: string, key: string) =>
    notifications.filter(
      (n) => (n.bucket === undefined || n.bucket === bucket) && key.startsWith(n.prefix) && key.endsWith(n.suffix ?? ''),
    );

  /** Delivers the events of an object creation once `res` has been answered. */
  const notify = (
    res: ServerResponse,
    made: {
      kind: CreationKind;
      bucket: string;
      key: string;
      size: () => Promise<number> | number;
      eTag: string;
      principal: string;
      ip: string;
      reqId: string;
      id2: string;
    },
  ) => {
    const targets = matching(made.bucket, made.key);
    if (targets.length === 0) return;
    const time = now();
    sequence = sequence + 1n > BigInt(time) * 1_000_000n ? sequence + 1n : BigInt(time) * 1_000_000n;
    const sequencer = sequence.toString(16).toUpperCase().padStart(16, '0');
    const answered = new Promise<void>((resolve) => {
      if (res.writableFinished || res.closed) resolve();
      res.once('finish', () => resolve());
      res.once('close', () => resolve());
    });
    const job = answered
      .then(() => made.size())
      .then((size) =>
        Promise.all(
          targets.map(async (n) => {
            const event: S3Event = {
              Records: [
                {
                  eventVersion: '2.1',
                  eventSource: 'aws:s3',
                  awsRegion: options.region,
                  eventTime: new Date(time).toISOString(),
                  eventName: `ObjectCreated:${made.kind}`,
                  userIdentity: { principalId: made.principal },
                  requestParameters: { sourceIPAddress: made.ip },
                  responseElements: { 'x-amz-request-id': made.reqId, 'x-amz-id-2': made.id2 },
                  s3: {
                    s3SchemaVersion: '1.0',
                    configurationId: n.id,
                    bucket: { name: made.bucket, ownerIdentity: { principalId: BUCKET_OWNER }, arn: `arn:aws:s3:::${made.bucket}` },
                    object: { key: s3EventKey(made.key), size, eTag: unquote(made.eTag), sequencer },
                  },
                },
              ],
            };
            const started = Date.now();
            try {
              await n.deliver(event);
              log(
                `[s3-gateway] ObjectCreated:${made.kind} s3://${made.bucket}/${made.key} → ${n.id}: delivered (${Date.now() - started} ms)`,
              );
            } catch (error) {
              log(
                `[s3-gateway] ObjectCreated:${made.kind} s3://${made.bucket}/${made.key} → ${n.id}: delivery failed: ${(error as Error).message}`,
              );
            }
          }),
        ),
      )
      .then(
        () => undefined,
        (error: unknown) => log(`[s3-gateway] event for s3://${made.bucket}/${made.key} not delivered: ${(error as Error).message}`),
      );
    pending.add(job);
    void job.then(() => pending.delete(job));
  };

  const corsRule = () => ({ origins: options.corsOrigins?.() ?? [] });
  /** The answer's headers, with the CORS headers when the request falls under the bucket's rule. */
  const cors = (req: IncomingMessage, headers: OutgoingHttpHeaders) => {
    const origin = req.headers.origin;
    if (origin === undefined) return headers;
    if (!corsAllows(corsRule(), { origin, method: req.method ?? 'GET' })) return { ...headers, vary: 'Origin' };
    return {
      ...headers,
      'access-control-allow-origin': origin,
      'access-control-allow-methods': CORS_METHODS.join(', '),
      'access-control-expose-headers': EXPOSED_HEADERS,
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    };
  };
  /** A browser's preflight: allowed under the bucket's rule, else refused as S3 refuses it. */
  const preflight = (req: IncomingMessage, res: ServerResponse, origin: string, method: string) => {
    const headers = req.headers['access-control-request-headers'];
    if (!corsAllows(corsRule(), { origin, method, headers })) {
      sendError(
        req,
        res,
        new S3Failure(403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed.', {
          Method: method,
          ResourceType: 'OBJECT',
        }),
      );
      return;
    }
    res.writeHead(200, {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': CORS_METHODS.join(', '),
      ...(headers ? { 'access-control-allow-headers': headers } : {}),
      'access-control-expose-headers': EXPOSED_HEADERS,
      'access-control-max-age': '3000',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
      'content-length': 0,
    });
    res.end();
  };

  const sendError = (req: IncomingMessage, res: ServerResponse, failure: S3Failure) => {
    const reqId = requestId();
    const id2 = hostId();
    const body = req.method === 'HEAD' ? '' : errorXml(failure.code, failure.message, failure.details, reqId, id2);
    res.writeHead(
      failure.status,
      cors(req, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
        'x-amz-request-id': reqId,
        'x-amz-id-2': id2,
      }),
    );
    res.end(body);
  };

  /** A request to fauxqs; non-2xx answers become UpstreamFailure. */
  const up = async (method: string, path: string, headers: Record<string, string>, body?: Buffer | string) => {
    const response = await fetch(`${upstreamBase}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    if (!response.ok) {
      throw new UpstreamFailure(response.status, await response.text(), response.headers.get('content-type') ?? 'application/xml');
    }
    return response;
  };

  const disk = options.dataDir === undefined ? undefined : diskBuckets(options.dataDir);

  /** Copies an object's state in fauxqs to disk: its bytes and headers, or its absence. */
  const keep = async (bucket: string, key: string) => {
    if (!disk) return;
    const response = await fetch(`${upstreamBase}${objectPath(bucket, key)}`);
    if (response.status === 404) {
      await response.body?.cancel();
      disk.remove(bucket, key);
      return;
    }
    if (!response.ok) throw new Error(`fauxqs answered HTTP ${response.status} for s3://${bucket}/${key}`);
    disk.write(bucket, key, Buffer.from(await response.arrayBuffer()), response.headers);
  };

  /** Keeps on disk what a successful proxied request changed; a failure is logged (the object is in fauxqs). */
  const keepChanged = async (change: 'object' | 'listed', t: Target, body: Buffer) => {
    const keys =
      change === 'object' ? [t.key] : [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlUnescape(m[1] ?? ''));
    for (const key of keys) {
      try {
        await keep(t.bucket, key);
      } catch (error) {
        log(`[s3-gateway] s3://${t.bucket}/${key} not kept on disk: ${(error as Error).message}`);
      }
    }
  };

  /** Stores an object in fauxqs (multipart above its request size limit); returns its quoted ETag. */
  const store = async (bucket: string, key: string, data: Buffer, headers: Record<string, string>): Promise<string> => {
    const path = objectPath(bucket, key);
    if (data.length <= SINGLE_PUT_MAX_BYTES) return (await up('PUT', path, headers, data)).headers.get('etag') ?? '';
    const created = await (await up('POST', `${path}?uploads`, headers)).text();
    const uploadId = xmlUnescape(/<UploadId>([^<]+)<\/UploadId>/.exec(created)?.[1] ?? '');
    const upload = `uploadId=${encodeURIComponent(uploadId)}`;
    try {
      const parts: string[] = [];
      for (let offset = 0, n = 1; offset < data.length; offset += PART_BYTES, n++) {
        const part = await up('PUT', `${path}?partNumber=${n}&${upload}`, {}, data.subarray(offset, offset + PART_BYTES));
        parts.push(`<Part><PartNumber>${n}</PartNumber><ETag>${xmlEscape(part.headers.get('etag') ?? '')}</ETag></Part>`);
      }
      const done = await up(
        'POST',
        `${path}?${upload}`,
        { 'content-type': 'application/xml' },
        `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`,
      );
      return xmlUnescape(/<ETag>([^<]*)<\/ETag>/.exec(await done.text())?.[1] ?? '');
    } catch (error) {
      await up('DELETE', `${path}?${upload}`, {}).catch(() => undefined);
      throw error;
    }
  };

  /** S3 POST Object. */
  const handlePost = async (req: IncomingMessage, res: ServerResponse, t: Target) => {
    const body = await readBody(req, bodyCap, maxFileBytes);
    const { fields, file } = await parseForm(body, req.headers['content-type'] ?? '');
    const field = (name: string) => fields.get(name)?.value;
    const policyBase64 = field('policy');
    if (policyBase64 === undefined) {
      // No policy: an anonymous upload, which a private bucket refuses.
      throw new S3Failure(403, 'AccessDenied', 'Access Denied');
    }
    if (field('awsaccesskeyid') !== undefined || field('signature') !== undefined) {
      throw new S3Failure(400, 'InvalidArgument', 'The local S3 front accepts only AWS4-HMAC-SHA256 (SigV4) POST forms.');
    }
    for (const required of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature']) {
      if (field(required.toLowerCase()) === undefined) {
        throw new S3Failure(
          400,
          'InvalidArgument',
          `Bucket POST must contain a field named '${required}'.  If it is specified, please check the order of the fields.`,
        );
      }
    }
    if (field('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
      throw new S3Failure(400, 'InvalidArgument', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    }
    const credential = field('x-amz-credential') ?? '';
    const [accessKeyId, date = '', region = '', service = '', terminator = '', ...more] = credential.split('/');
    if (more.length > 0 || !/^\d{8}$/.test(date)) {
      throw new S3Failure(400, 'AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter: ${credential}`);
    }
    if (accessKeyId !== options.credentials.accessKeyId) {
      throw new S3Failure(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
        AWSAccessKeyId: accessKeyId ?? '',
      });
    }
    if (region !== options.region) {
      throw new S3Failure(
        400,
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${region}' is wrong; expecting '${options.region}'`,
        { Region: options.region },
      );
    }
    const expected = hmac(sigV4SigningKey(options.credentials.secretAccessKey, date, region, service), policyBase64);
    const provided = Buffer.from(field('x-amz-signature') ?? '', 'hex');
    if (service !== 's3' || terminator !== 'aws4_request' || provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
      throw new S3Failure(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        {
          AWSAccessKeyId: accessKeyId ?? '',
          StringToSign: policyBase64,
          SignatureProvided: field('x-amz-signature') ?? '',
        },
      );
    }

    const policy = parsePolicy(policyBase64);
    if (now() > policy.expiration) throw new S3Failure(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    for (const c of policy.fields) {
      const values =
        c.field === 'bucket' ? [t.bucket, ...(field('bucket') !== undefined ? [field('bucket') ?? ''] : [])] : [field(c.field) ?? ''];
      if (!values.every((v) => conditionHolds(c, v))) {
        throw new S3Failure(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ${c.text}`);
      }
    }
    const covered = new Set(policy.fields.map((c) => c.field));
    for (const [lower, { name }] of fields) {
      if (!isExempt(lower) && !covered.has(lower))
        throw new S3Failure(403, 'AccessDenied', `Invalid according to Policy: Extra input fields: ${name}`);
    }
    if (!file)
      throw new S3Failure(400, 'InvalidArgument', 'POST requires exactly one file upload per request.', {
        ArgumentName: 'file',
        ArgumentValue: '0',
      });
    const rawKey = field('key');
    if (rawKey === undefined) {
      throw new S3Failure(
        400,
        'InvalidArgument',
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        {
          ArgumentName: 'key',
          ArgumentValue: '',
        },
      );
    }
    const key = rawKey.replaceAll('${filename}', file.filename);
    if (key === '') throw new S3Failure(400, 'InvalidArgument', 'User key must have a length greater than 0.');
    if (Buffer.byteLength(key) > 1024)
      throw new S3Failure(400, 'KeyTooLongError', 'Your key is too long', { Size: Buffer.byteLength(key), MaxSizeAllowed: 1024 });
    const size = file.data.length;
    const max = Math.min(maxFileBytes, ...policy.ranges.map((r) => r.max));
    const min = Math.max(0, ...policy.ranges.map((r) => r.min));
    if (size > max)
      throw new S3Failure(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        ProposedSize: size,
        MaxSizeAllowed: max,
      });
    if (size < min)
      throw new S3Failure(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
        ProposedSize: size,
        MinSizeAllowed: min,
      });
    const checksum = checkChecksum(fields, file.data);

    const headers: Record<string, string> = { 'content-type': field('content-type') ?? 'binary/octet-stream' };
    for (const [lower, { value }] of fields) {
      if (lower.startsWith('x-amz-meta-') || STORED_FIELDS.includes(lower)) headers[lower] = value;
    }
    if (field('acl') !== undefined) headers['x-amz-acl'] = field('acl') ?? '';
    for (const [name, value] of Object.entries(headers)) {
      if (!/^[\t\x20-\x7e]*$/.test(value))
        throw new S3Failure(400, 'InvalidArgument', `The local S3 front accepts only US-ASCII in ${name}.`);
    }
    const eTag = await store(t.bucket, key, file.data, headers);
    await keep(t.bucket, key);

    const reqId = requestId();
    const id2 = hostId();
    const location = `${req.headers.host ? `http://${req.headers.host}` : endpoint}${objectPath(t.bucket, key)}`;
    const answer: OutgoingHttpHeaders = { etag: eTag, location, 'x-amz-request-id': reqId, 'x-amz-id-2': id2 };
    if (checksum) answer[checksum[0]] = checksum[1];
    notify(res, {
      kind: 'Post',
      bucket: t.bucket,
      key,
      size: () => size,
      eTag,
      principal: `AWS:${accessKeyId}`,
      ip: sourceIp(req),
      reqId,
      id2,
    });

    const redirect = field('success_action_redirect') ?? field('redirect');
    if (redirect !== undefined && /^https?:\/\//i.test(redirect)) {
      const params = new URLSearchParams({ bucket: t.bucket, key, etag: eTag });
      res.writeHead(
        303,
        cors(req, { ...answer, location: `${redirect}${redirect.includes('?') ? '&' : '?'}${params}`, 'content-length': 0 }),
      );
      res.end();
      return;
    }
    const status = field('success_action_status');
    if (status === '201') {
      const xml =
        `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${xmlEscape(location)}</Location>` +
        `<Bucket>${xmlEscape(t.bucket)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(eTag)}</ETag></PostResponse>`;
      res.writeHead(201, cors(req, { ...answer, 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) }));
      res.end(xml);
      return;
    }
    res.writeHead(status === '200' ? 200 : 204, cors(req, { ...answer, 'content-length': 0 }));
    res.end();
  };

  /** Forwards a request to fauxqs and streams its answer back; notices object creations. */
  const proxy = (req: IncomingMessage, res: ServerResponse, t: Target) => {
    const kind = creationKind(req.method, t, req.headers);
    const watched = kind !== undefined && matching(t.bucket, t.key).length > 0;
    const change = disk ? changeOf(req.method, t) : undefined;
    const sent: Buffer[] = [];
    const outgoing = httpRequest({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: `${t.path}${t.query ? `?${t.query}` : ''}`,
      headers: forwardedHeaders(req.headers, upstream.host),
      agent,
    });
    let received = 0;
    const bodyRead = new Promise<void>((resolve) => {
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (change === 'listed') sent.push(chunk);
      });
      req.once('end', resolve);
      req.once('close', resolve);
    });
    req.pipe(outgoing);
    res.once('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    outgoing.once('error', (error) => {
      if (res.headersSent) res.destroy();
      else sendError(req, res, new S3Failure(503, 'ServiceUnavailable', `The local S3 (fauxqs) did not answer: ${error.message}`));
    });
    outgoing.once('response', (answer) => {
      const status = answer.statusCode ?? 502;
      if (!change || status >= 300) {
        respond(answer);
        return;
      }
      void bodyRead.then(() => keepChanged(change, t, Buffer.concat(sent))).then(() => respond(answer));
    });
    /** Passes fauxqs's answer on, and notices an object creation. */
    const respond = (answer: IncomingMessage) => {
      const status = answer.statusCode ?? 502;
      const headers = cors(req, answerHeaders(answer.headers));
      const header = (name: string) => {
        const v = answer.headers[name];
        return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
      };
      const made = {
        bucket: t.bucket,
        key: t.key,
        principal: principalOf(req, t.query),
        ip: sourceIp(req),
        reqId: header('x-amz-request-id') || requestId(),
        id2: header('x-amz-id-2') || hostId(),
      };
      if (!watched || status !== 200) {
        res.writeHead(status, headers);
        answer.pipe(res);
        return;
      }
      if (kind === 'Put') {
        const decoded = Number(req.headers['x-amz-decoded-content-length']);
        const aws = /aws-chunked/i.test(String(req.headers['content-encoding'] ?? ''));
        const size = async () => {
          await bodyRead;
          return aws && Number.isFinite(decoded) ? decoded : received;
        };
        notify(res, { ...made, kind, size, eTag: header('etag') });
        res.writeHead(status, headers);
        answer.pipe(res);
        return;
      }
      // Copy and CompleteMultipartUpload: the answer is a small XML document, which says whether it worked.
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.once('error', () => res.destroy());
      answer.once('end', () => {
        const xml = Buffer.concat(chunks);
        const text = xml.toString('utf8');
        const root = kind === 'Copy' ? '<CopyObjectResult' : '<CompleteMultipartUploadResult';
        if (text.includes(root) && !text.includes('<Error>')) {
          const size = async () => {
            const head = await up('HEAD', objectPath(t.bucket, t.key), {});
            return Number(head.headers.get('content-length') ?? 0);
          };
          notify(res, { ...made, kind: kind ?? 'Put', size, eTag: xmlUnescape(/<ETag>([^<]*)<\/ETag>/.exec(text)?.[1] ?? '') });
        }
        res.writeHead(status, headers);
        res.end(xml);
      });
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const t = resolveTarget(req);
      const asked = req.headers['access-control-request-method'];
      if (req.method === 'OPTIONS' && req.headers.origin !== undefined && asked !== undefined) {
        preflight(req, res, req.headers.origin, asked);
        return;
      }
      if (req.method === 'POST' && t.bucket && t.key === '' && /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
        await handlePost(req, res, t);
        return;
      }
      proxy(req, res, t);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
      } else if (error instanceof S3Failure) {
        sendError(req, res, error);
      } else if (error instanceof UpstreamFailure) {
        res.writeHead(error.status, cors(req, { 'content-type': error.contentType, 'content-length': Buffer.byteLength(error.body) }));
        res.end(error.body);
      } else {
        log(`[s3-gateway] ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
        sendError(req, res, new S3Failure(500, 'InternalError', 'We encountered an internal error. Please try again.'));
      }
    }
  };

  if (disk) {
    const madeBuckets = new Set<string>();
    let restored = 0;
    for (const kept of disk.objects((file, why) => log(`[s3-gateway] ${file} not restored: ${why}`))) {
      if (!madeBuckets.has(kept.bucket)) {
        // Creates the bucket if fauxqs has none of that name; an existing one is left as it is.
        await fetch(`${upstreamBase}/${encodeURIComponent(kept.bucket)}`, { method: 'PUT' }).then((r) => r.body?.cancel());
        madeBuckets.add(kept.bucket);
      }
      await store(kept.bucket, kept.key, kept.read(), kept.headers);
      restored += 1;
    }
    log(`[s3-gateway] ${restored} object${restored === 1 ? '' : 's'} restored from ${options.dataDir}`);
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    endpoint,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      agent.destroy();
    },
    async idle() {
      await Promise.allSettled([...pending]);
    },
  };
}

/**
 * A `deliver` that invokes a function through serverless-offline's Lambda invoke API (as the S3 → Lambda
 * notification does), and throws when the invocation or the function fails.
 */
export function offlineInvoker(lambdaEndpoint: string, functionName: string): (event: S3Event) => Promise<void> {
  const url = invokeUrl(lambdaEndpoint, functionName);
  return async (event) => {
    const answer = await invokeOffline(url, event, AbortSignal.timeout(900_000));
    // The SQS bridge's reading of the invoke API's answer: a single "message" that is either done or failed.
    const verdict = interpretResult(['s3-event'], answer, false);
    if (verdict.kept.length > 0) throw new Error(`${functionName}: ${verdict.note}`);
  };
}
