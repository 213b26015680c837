/**
 * Bad input against the two public surfaces (ARCHITECTURE.md law 9): generators of requests that must be refused,
 * for the production interface (the real functions/produce.ts handler: V2 POST and legacy V1 GET, as HTTP API
 * events) and the seller API (the real functions/seller.ts handler), the answer each must get, and the checks that
 * the refusals changed nothing. Used by scripts/resilience/bad-input.ts (`npm run resilience`) and by
 * test/integration/badInput.test.ts.
 *
 * The generators are fast-check arbitraries of recipes; a recipe is turned into a request when it is sent (V2
 * signatures and V1 timeStamps are made then, so they are inside the signature window). Every request carries the
 * answer it must get:
 *   - production interface: HTTP 200, JSON, a valid Body-Sign header, and a resultCode from the recipe's list
 *     (000002 for a validly signed call with a bad parameter; 000001 or 000002 for a signature that was broken after
 *     signing; never 000000, 000004 or 000005);
 *   - seller API: a 4xx `{"error": {"code", "message"}}` whose code matches the status, from the recipe's list; a
 *     usage request whose envelope is right but whose every record is bad is answered 200 with every record
 *     `rejected` (the route's documented per-record answer).
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import fc from 'fast-check';
import { handler as produceHandler } from '../../functions/produce.ts';
import { handler as sellerHandler } from '../../functions/seller.ts';
import { config } from '../../lib/config.ts';
import { INSTANCE_STATES } from '../../lib/instances/model.ts';
import { signRequest } from '../../lib/koogallery/auth.ts';
import type { JsonObject } from '../../lib/koogallery/canonicalJson.ts';
import { bodySignHeader, keyId } from '../../lib/koogallery/signature.ts';
import { formatV1Timestamp, signV1Request } from '../../lib/koogallery/v1Auth.ts';
import { log } from '../../lib/log.ts';
import { SCOPES, type Scope } from '../../lib/seller-api/apiKeys.ts';
import { ERROR_STATUS } from '../../lib/seller-api/errors.ts';
import type { Method } from '../../lib/seller-api/defineRoute.ts';
import { sellerRoutes } from '../../lib/seller-api/allRoutes.ts';
import { nextPeriod, periodOf } from '../../lib/settlement/period.ts';
import { BILL_MAX_BYTES } from '../../lib/settlement/reconciliation.ts';
import { apiKeyStore } from '../../lib/store/apiKeyStore.ts';
import { dynamoClient } from '../../lib/aws/clients.ts';
import { keys } from '../../lib/store/keys.ts';
import { STATEMENT_LIST_KIND } from '../../lib/store/statementStore.ts';
import { supervisionStore } from '../../lib/store/supervisionStore.ts';
import { APPEAL_OUTCOMES } from '../../lib/supervision/model.ts';
import { isProofContentType, PROOF_CONTENT_TYPES, PROOF_KINDS } from '../../lib/supervision/proofs.ts';
import { newSupervision } from '../../lib/supervision/stateMachine.ts';
import { queryPartition, type Item } from './tables.ts';

// ---------------------------------------------------------------------------------------------------------------
// What the generators may refer to

export interface Fixture {
  /** Unique per run: every id the generators invent starts with it. ASCII letters, digits and `-`. */
  prefix: string;
  /** The marketplace access key the production interface is configured with. */
  accessKey: string;
  maxBodyBytes: number;
  sellerMaxBodyBytes: number;
  /** Largest delivery proof accepted (PROOF_MAX_BYTES). */
  proofMaxBytes: number;
  /** The statements' time zone (SETTLEMENT_TIME_ZONE): which month has started. */
  statementTimeZone: string;
  /** Instances created for the run: ACTIVE, renewed to a far expiry, of `productId` (metered if the stack says so). */
  instances: { instanceId: string; orderId: string; orderLineId: string }[];
  /**
   * An order line under service supervision, its flow AWAITING_DELIVERY: no proof verified, no appeal open, so every
   * recorded decision is refused there (409) and an appeal citing proofs is refused (422).
   */
  supervised: { orderId: string; orderLineId: string; instanceId: string };
  /** Seller API keys: every scope; only LIMITED_KEY_SCOPES; revoked. */
  sellerKeys: { full: string; limited: string; revoked: string };
  /** Real page cursors of the two listings, to tamper with. */
  cursors: { instances?: string; messages?: string };
}

export type Target = 'produce' | 'seller';

interface CaseBase {
  generator: string;
  event: APIGatewayProxyEventV2;
  /** Ids the request names: a state change that mentions one of them is this run's doing. */
  ids: string[];
}

export interface ProduceCase extends CaseBase {
  target: 'produce';
  /** The result codes that are a right answer. */
  expect: readonly string[];
  /** Set for a validly signed call whose parameters are refused: the nonce it may claim (law 2's replay guard). */
  claims?: string;
}

export type SellerExpectation = { statuses: readonly number[] } | { allRejected: number };

export interface SellerCase extends CaseBase {
  target: 'seller';
  expect: SellerExpectation;
}

export type Case = ProduceCase | SellerCase;

export interface BuildContext {
  fixture: Fixture;
  nowMs: number;
  /** Unique per request (`<prefix>-<index>`): the base of the ids it invents and its correlation id. */
  tag: string;
}

export interface Recipe {
  generator: string;
  target: Target;
  build(ctx: BuildContext): Case;
}

type Build<C> = (ctx: BuildContext) => Omit<C, 'generator' | 'target'>;

function produceRecipe(generator: string, arb: fc.Arbitrary<Build<ProduceCase>>): fc.Arbitrary<Recipe> {
  return arb.map((build) => ({ generator, target: 'produce' as const, build: (ctx) => ({ generator, target: 'produce' as const, ...build(ctx) }) }));
}

function sellerRecipe(generator: string, arb: fc.Arbitrary<Build<SellerCase>>): fc.Arbitrary<Recipe> {
  return arb.map((build) => ({ generator, target: 'seller' as const, build: (ctx) => ({ generator, target: 'seller' as const, ...build(ctx) }) }));
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP API events

const PRODUCE_PATH = '/koogallery/produce';

function httpEvent(options: {
  method: string;
  path: string;
  routeKey: string;
  rawQuery: string;
  query: Record<string, string> | undefined;
  headers: Record<string, string>;
  body: string | undefined;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: options.routeKey,
    rawPath: options.path,
    rawQueryString: options.rawQuery,
    headers: options.headers,
    ...(options.query && Object.keys(options.query).length > 0 ? { queryStringParameters: options.query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: options.method, path: options.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bad-input' },
      requestId: 'bad-input',
      routeKey: options.routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: options.base64 ?? false,
  };
}

type QueryParams = Record<string, string | undefined>;

function definedOnly(query: QueryParams): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A V2 POST as API Gateway delivers it. */
function produceEvent(rawBody: string, query: QueryParams, base64 = false): APIGatewayProxyEventV2 {
  const q = definedOnly(query);
  return httpEvent({
    method: 'POST',
    path: PRODUCE_PATH,
    routeKey: `POST ${PRODUCE_PATH}`,
    rawQuery: new URLSearchParams(q).toString(),
    query: q,
    headers: { 'content-type': 'application/json;charset=utf8' },
    body: rawBody,
    base64,
  });
}

/** A V1 GET: the handler reads the raw query string; the decoded parameters are as API Gateway would give them. */
function v1Event(rawQuery: string): APIGatewayProxyEventV2 {
  let query: Record<string, string> | undefined;
  try {
    query = Object.fromEntries(new URLSearchParams(rawQuery));
  } catch {
    query = undefined;
  }
  return httpEvent({ method: 'GET', path: PRODUCE_PATH, routeKey: `GET ${PRODUCE_PATH}`, rawQuery, query, headers: {}, body: undefined });
}

function sellerEvent(options: {
  method: string;
  path: string;
  authorization?: string | undefined;
  authorizationHeader?: string;
  query?: Record<string, string>;
  body?: string | undefined;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.authorization !== undefined) headers[options.authorizationHeader ?? 'authorization'] = options.authorization;
  const query = options.query ?? {};
  return httpEvent({
    method: options.method,
    path: options.path,
    routeKey: `${options.method} /seller/{proxy+}`,
    rawQuery: new URLSearchParams(query).toString(),
    query,
    headers,
    body: options.body,
    ...(options.base64 ? { base64: true } : {}),
  });
}

export function lambdaContext(correlationId: string, functionName: string): Context {
  return {
    awsRequestId: correlationId,
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bad-input',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 6_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
const handlers: Record<Target, Handler> = {
  produce: produceHandler as unknown as Handler,
  seller: sellerHandler as unknown as Handler,
};

// ---------------------------------------------------------------------------------------------------------------
// Small arbitraries

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789ABCDEF';
const charsOf = (chars: string) => fc.constantFrom(...Array.from(chars));
/** Strings of any Unicode (no lone surrogates: fast-check's `binary` unit never makes them). */
const anyText = (maxLength: number, minLength = 0) =>
  fc.oneof(
    fc.string({ unit: 'binary', minLength, maxLength }),
    fc.string({ unit: 'grapheme', minLength, maxLength }),
    fc.string({ unit: 'binary-ascii', minLength, maxLength }),
  );
/** A UTF-16 string that is not well formed: a lone surrogate among ASCII. */
const loneSurrogate = fc
  .tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 8 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ unit: 'grapheme-ascii', maxLength: 8 }))
  .map(([a, s, b]) => a + String.fromCharCode(s) + b);
/** Whitespace only: refused wherever a non-empty value is required (values are trimmed). */
const blank = fc.constantFrom('', ' ', '   ', '\t', '\r\n', '\u00a0', '\u3000', '\ufeff', ' \u2028 ');
/** Longer than `max` code points, whatever the unit. */
const overLong = (max: number) =>
  fc
    .tuple(fc.integer({ min: max + 1, max: max + 3000 }), fc.constantFrom('x', '9', '-', 'é', '中', '😀', '\u0301a'))
    .map(([n, c]) => c.repeat(n));
const smallWrongType = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);
/** Numbers, booleans, arrays (some huge), objects: never null, which counts as absent. */
const wrongType = fc.oneof(smallWrongType, fc.integer({ min: 1000, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i)));
/** Not an object: for fields where an object is acceptable (productInfo). */
const wrongTypeNotObject = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
);
const DELETE = Symbol('delete');

// ---------------------------------------------------------------------------------------------------------------
// Production interface bodies

const ACTIVITIES = [
  'newInstance',
  'queryInstance',
  'refreshInstance',
  'updateInstanceStatus',
  'releaseInstance',
  'upgradeInstance',
  'changeInstanceCheck',
  'refreshLicenseCode',
  'updateLicenseCodeStatus',
  'releaseLicenseCode',
] as const;
type Activity = (typeof ACTIVITIES)[number];
type Body = Record<string, unknown>;

/** A date the renewals move the seeded instances to, were one of these calls ever accepted. */
const OTHER_EXPIRY = '20981231235959';

type FieldSpec =
  | { kind: 'text'; required: boolean; max: number }
  | { kind: 'enum'; required: boolean; values: readonly string[] }
  | { kind: 'expireTime' }
  | { kind: 'idList' }
  | { kind: 'productInfo' };

const id = (required = true): FieldSpec => ({ kind: 'text', required, max: 64 });
const testFlagSpec: FieldSpec = { kind: 'enum', required: false, values: ['0', '1'] };
const statusSpec: FieldSpec = { kind: 'enum', required: true, values: ['FREEZE', 'UNFREEZE'] };
const licenseSpec: FieldSpec = { kind: 'text', required: true, max: 128 };

/** The documented fields of each activity (spec §3.1–3.7, §5.1) and their limits. */
const FIELDS: Record<Activity, Record<string, FieldSpec>> = {
  newInstance: { orderId: id(), orderLineId: id(), businessId: id(), testFlag: testFlagSpec },
  queryInstance: { instanceId: { kind: 'idList' }, testFlag: testFlagSpec },
  refreshInstance: {
    scene: id(),
    orderId: id(),
    orderLineId: id(),
    instanceId: id(),
    productId: id(false),
    expireTime: { kind: 'expireTime' },
    testFlag: testFlagSpec,
  },
  updateInstanceStatus: { instanceId: id(), status: statusSpec, testFlag: testFlagSpec },
  releaseInstance: { instanceId: id(), orderId: id(false), orderLineId: id(false), testFlag: testFlagSpec },
  upgradeInstance: { instanceId: id(), orderId: id(), orderLineId: id(), testFlag: testFlagSpec },
  changeInstanceCheck: { instanceId: id(), productInfo: { kind: 'productInfo' }, testFlag: testFlagSpec },
  refreshLicenseCode: {
    license: licenseSpec,
    scene: id(),
    orderId: id(),
    orderLineId: id(),
    productId: id(false),
    expireTime: { kind: 'expireTime' },
    testFlag: testFlagSpec,
  },
  updateLicenseCodeStatus: { license: licenseSpec, status: statusSpec, testFlag: testFlagSpec },
  releaseLicenseCode: { license: licenseSpec, orderId: id(false), orderLineId: id(false), testFlag: testFlagSpec },
};

/**
 * A valid body for an activity, which would change state if it were accepted: a new instance or license for this
 * request's own ids, or a renewal, freeze, release or upgrade of a seeded instance.
 */
function validBody(activity: Activity, ctx: BuildContext, pick: number): Body {
  const t = ctx.tag;
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  const order = { orderId: `${t}-o`, orderLineId: `${t}-o-000001` };
  switch (activity) {
    case 'newInstance':
      return { activity, ...order, businessId: `${t}-b`, testFlag: '0' };
    case 'queryInstance':
      return { activity, instanceId: ctx.fixture.instances.map((i) => i.instanceId).join(',') };
    case 'refreshInstance':
      return { activity, scene: 'RENEWAL', ...order, instanceId: seeded.instanceId, productId: `${t}-p`, expireTime: OTHER_EXPIRY };
    case 'updateInstanceStatus':
      return { activity, instanceId: seeded.instanceId, status: 'FREEZE' };
    case 'releaseInstance':
      return { activity, instanceId: seeded.instanceId };
    case 'upgradeInstance':
      return { activity, instanceId: seeded.instanceId, ...order };
    case 'changeInstanceCheck':
      return { activity, instanceId: seeded.instanceId, productInfo: { productId: `${t}-p`, skuCode: `${t}-sku` } };
    case 'refreshLicenseCode':
      return { activity, license: `${t}-lic`, scene: 'RENEWAL', ...order, expireTime: OTHER_EXPIRY };
    case 'updateLicenseCodeStatus':
      return { activity, license: `${t}-lic`, status: 'FREEZE' };
    case 'releaseLicenseCode':
      return { activity, license: `${t}-lic` };
  }
}

/** Fields that name things the server keeps (instances, order lines, licenses, products, usage references). */
const ID_FIELDS = new Set(['orderId', 'orderLineId', 'businessId', 'instanceId', 'license', 'productId', 'clientRef']);

/** The ids a body, query or list of records names (comma-separated instance id lists split). */
function idsOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.slice(0, 100).forEach((v) => idsOf(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [field, v] of Object.entries(value).slice(0, 50)) {
      if (typeof v === 'string' && ID_FIELDS.has(field)) out.push(v, ...(v.includes(',') ? v.split(',').map((s) => s.trim()) : []));
      else if (v !== null && typeof v === 'object') idsOf(v, out);
    }
  }
  return out;
}

/** Serialises and signs a body as the marketplace does; the signature is over the body as the server will parse it. */
function signedV2(key: string, body: Body, nowMs: number, nonce: string): { raw: string; query: { signature: string; timestamp: string; nonce: string } } {
  const raw = JSON.stringify(body);
  const query = signRequest(key, JSON.parse(raw) as JsonObject, { nowMs, nonce });
  return { raw, query };
}

/** A value that breaks a field of this kind, and what it is. */
function brokenValue(spec: FieldSpec): fc.Arbitrary<{ label: string; value: unknown }> {
  const l = (label: string) => (value: unknown) => ({ label, value });
  const required = spec.kind === 'text' || spec.kind === 'enum' ? spec.required : true;
  const common: fc.Arbitrary<{ label: string; value: unknown }>[] = [
    (spec.kind === 'productInfo' ? wrongTypeNotObject : wrongType).map(l('wrong type')),
  ];
  if (required) common.push(fc.constant({ label: 'missing', value: DELETE }), fc.constant({ label: 'null', value: null }));
  switch (spec.kind) {
    case 'text':
      return fc.oneof(
        ...common,
        blank.map(l('blank')),
        overLong(spec.max).map(l('over-long')),
        loneSurrogate.map(l('lone surrogate')),
      );
    case 'enum':
      return fc.oneof(
        ...common,
        fc.constantFrom('freeze', 'FREEZE ', ' UNFREEZE', 'Freeze', '2', '00', 'true', '', 'FREEZE\u0000', 'ＦＲＥＥＺＥ').map(l('not one of the values')),
        anyText(40).filter((s) => !spec.values.includes(s)).map(l('not one of the values')),
        overLong(64).map(l('over-long')),
      );
    case 'expireTime':
      return fc.oneof(
        ...common,
        fc
          .constantFrom(
            '2099123123595',
            '209912312359590',
            '20991301000000',
            '20990230000000',
            '20990229000000',
            '20991231240000',
            '20991231236000',
            '20991231235960',
            '2099-12-31T23:59:59Z',
            '２０９９１２３１２３５９５９',
            ' 20991231235959',
            '',
          )
          .map(l('not yyyyMMddHHmmss')),
        anyText(30).filter((s) => !/^\d{14}$/.test(s)).map(l('not yyyyMMddHHmmss')),
        loneSurrogate.map(l('lone surrogate')),
      );
    case 'idList':
      return fc.oneof(
        ...common,
        fc.constantFrom('', ',', 'a,,b', ' ,x', 'x,', ' , ').map(l('blank id in the list')),
        fc.integer({ min: 101, max: 400 }).map((n) => l('over 100 ids')(Array.from({ length: n }, (_, i) => `id${i}`).join(','))),
        overLong(64).map((s) => l('id over 64')(`a,${s},b`)),
        fc.integer({ min: 6_501, max: 20_000 }).map((n) => l('list too long')('y'.repeat(n))),
        loneSurrogate.map(l('lone surrogate')),
      );
    case 'productInfo':
      return fc.oneof(
        ...common,
        fc.constantFrom('abc', '[]', '[1]', '1', 'null', '"x"', '{', '', 'true').map(l('not a JSON object string')),
        fc.constantFrom<unknown>({ productId: 5 }, { productId: '' }, { skuCode: ['x'] }, { productId: 'x'.repeat(65) }, { skuCode: ' ' }).map(l('bad productInfo field')),
        fc.integer({ min: 4_097, max: 10_000 }).map((n) => l('string over 4096')(JSON.stringify({ productId: 'p', pad: 'x'.repeat(n) }))),
        loneSurrogate.map((s) => l('lone surrogate')({ productId: s })),
      );
  }
}

/** A body whose activity field is wrong (wrong type, unknown, missing). */
const brokenActivity: fc.Arbitrary<{ label: string; value: unknown }> = fc.oneof(
  wrongType.map((value) => ({ label: 'activity of the wrong type', value })),
  fc.constant({ label: 'activity missing', value: DELETE }),
  fc.constant({ label: 'activity null', value: null }),
  fc
    .constantFrom('NewInstance', 'newinstance', 'newInstance ', ' queryInstance', 'newInstancе', 'ｎｅｗＩｎｓｔａｎｃｅ', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'newInstance\u0000', 'expireInstance', 'upgrade', 'instanceStatus', '')
    .map((value) => ({ label: 'unknown activity', value })),
  anyText(40)
    .filter((s) => !(ACTIVITIES as readonly string[]).includes(s))
    .map((value) => ({ label: 'unknown activity', value })),
  loneSurrogate.map((value) => ({ label: 'activity with a lone surrogate', value })),
);

/** One field of a valid body broken (or the activity), the rest as valid as it was. */
const invalidBody: fc.Arbitrary<{ activity: Activity; pick: number; field: string; label: string; value: unknown }> = fc
  .tuple(fc.constantFrom(...ACTIVITIES), fc.nat(), fc.nat())
  .chain(([activity, pick, which]) => {
    const fields = Object.entries(FIELDS[activity]);
    if (which % (fields.length + 1) === fields.length) return brokenActivity.map((b) => ({ activity, pick, field: 'activity', ...b }));
    const [field, spec] = fields[which % (fields.length + 1)]!;
    return brokenValue(spec).map((b) => ({ activity, pick, field, ...b }));
  });

/** The body with a field set (an own property, even `__proto__`) or, for DELETE, left out. */
function withField(body: Body, field: string, value: unknown): Body {
  const out = { ...body };
  if (value === DELETE) delete out[field];
  else Object.defineProperty(out, field, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Production interface generators

const nonceArb = fc.string({ unit: charsOf(HEX), minLength: 64, maxLength: 64 });

/** Signed with the right key, one field (or the activity) wrong: 000002, and only the nonce and the message log written. */
const produceInvalidFields = produceRecipe(
  'produce: invalid field (signed)',
  fc.tuple(invalidBody, nonceArb).map(([broken, nonce]) => (ctx: BuildContext) => {
    const body = withField(validBody(broken.activity, ctx, broken.pick), broken.field, broken.value);
    const { raw, query } = signedV2(ctx.fixture.accessKey, body, ctx.nowMs, nonce);
    return { event: produceEvent(raw, query), expect: ['000002'], claims: nonce, ids: idsOf(body) };
  }),
);

/** Unicode where ids go: well-formed text names nothing we have (000003) or is refused (000002); lone surrogates are refused. */
const produceUnicode = produceRecipe(
  'produce: unicode',
  fc
    .tuple(
      fc.constantFrom<Activity>('queryInstance', 'refreshInstance', 'updateInstanceStatus', 'releaseInstance', 'upgradeInstance', 'changeInstanceCheck', 'updateLicenseCodeStatus', 'releaseLicenseCode'),
      fc.oneof(anyText(64, 1), loneSurrogate, fc.constantFrom('\u202eevil', 'a\u0000b', '\ufeffid', 'é', 'é', '😀'.repeat(40), '\u0000', '%41', '#INSTANCE', 'a#b', '../x')),
      fc.nat(),
      nonceArb,
    )
    .map(([activity, text, pick, nonce]) => (ctx: BuildContext) => {
      const field = activity.includes('License') ? 'license' : 'instanceId';
      const body = { ...validBody(activity, ctx, pick), [field]: text };
      const { raw, query } = signedV2(ctx.fixture.accessKey, body, ctx.nowMs, nonce);
      return { event: produceEvent(raw, query), expect: ['000002', '000003'], claims: nonce, ids: idsOf(body) };
    }),
);

/** Bodies nested deeper than the limit (anywhere), unbalanced brackets, or nested values where text belongs. */
const produceDeepJson = produceRecipe(
  'produce: deep JSON',
  fc
    .tuple(
      fc.constantFrom('top-level arrays', 'top-level objects', 'deep field', 'unbalanced', 'nested value in a text field'),
      fc.integer({ min: 33, max: 50_000 }),
      fc.integer({ min: 1, max: 31 }),
      fc.constantFrom(...ACTIVITIES),
      fc.nat(),
      nonceArb,
    )
    .map(([shape, depth, shallow, activity, pick, nonce]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      let raw: string;
      switch (shape) {
        case 'top-level arrays':
          raw = '['.repeat(depth) + ']'.repeat(depth);
          break;
        case 'top-level objects':
          raw = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
          break;
        case 'deep field':
          raw = JSON.stringify(body).replace(/}$/, `,"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`);
          break;
        case 'unbalanced':
          raw = JSON.stringify(body).replace(/}$/, `,"deep":${'{"x":['.repeat(Math.ceil(depth / 2))}`);
          break;
        default: {
          // A required text field holding a nested array: within the depth limit, validly signed, the wrong type.
          const field = Object.keys(FIELDS[activity]).find((f) => f !== 'testFlag')!;
          const nested: unknown = JSON.parse('['.repeat(shallow) + '"x"' + ']'.repeat(shallow));
          const signed = signedV2(ctx.fixture.accessKey, { ...body, [field]: nested }, ctx.nowMs, nonce);
          return { event: produceEvent(signed.raw, signed.query), expect: ['000002'], claims: nonce, ids: idsOf(body) };
        }
      }
      const query = signRequest(ctx.fixture.accessKey, body as JsonObject, { nowMs: ctx.nowMs, nonce });
      return { event: produceEvent(raw, query), expect: ['000002'], ids: idsOf(body) };
    }),
);

/** Random bytes and JSON that is not an object, as text or base64, with no, random or plausible query parameters. */
const produceRandomBytes = produceRecipe(
  'produce: random bytes / not an object',
  fc
    .tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
        fc.jsonValue({ maxDepth: 4 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => ({ kind: 'json' as const, text: JSON.stringify(v) ?? 'null' })),
        fc.constantFrom('', ' ', 'null', 'true', '"x"', '[]', '1e999', '-0', '{', '}', '{"a":1,}', "{'activity':'newInstance'}", '\ufeff{}', '{"activity":"newInstance"}\u0000').map((text) => ({ kind: 'json' as const, text })),
      ),
      fc.constantFrom('text', 'base64', 'latin1'),
      fc.oneof(
        fc.constant<QueryParams>({}),
        fc.record({ signature: fc.option(anyText(80), { nil: undefined }), timestamp: fc.option(anyText(16), { nil: undefined }), nonce: fc.option(anyText(80), { nil: undefined }) }),
        fc.record({ signature: fc.string({ unit: charsOf(HEX), minLength: 64, maxLength: 64 }), nonce: nonceArb }).map((q) => ({ ...q, timestamp: 'now' })),
      ),
    )
    .map(([payload, encoding, q]) => (ctx: BuildContext) => {
      const bytes = payload.kind === 'bytes' ? Buffer.from(payload.bytes) : Buffer.from(payload.text, 'utf8');
      const body = encoding === 'base64' ? bytes.toString('base64') : encoding === 'latin1' ? bytes.toString('latin1') : bytes.toString('utf8');
      const query = q.timestamp === 'now' ? { ...q, timestamp: String(ctx.nowMs) } : q;
      return { event: produceEvent(body, query, encoding === 'base64'), expect: ['000001', '000002'], ids: [] };
    }),
);

/** A valid signed body padded past the size limit (ASCII or multi-byte padding). */
const produceOversized = produceRecipe(
  'produce: body over the size limit',
  fc
    .tuple(fc.constantFrom(...ACTIVITIES), fc.nat(), fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('x', '中', '😀'), nonceArb)
    .map(([activity, pick, extra, pad, nonce]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      const base = Buffer.byteLength(JSON.stringify({ ...body, pad: '' }), 'utf8');
      const padBytes = Buffer.byteLength(pad, 'utf8');
      const count = Math.ceil((ctx.fixture.maxBodyBytes - base + extra) / padBytes);
      const padded = { ...body, pad: pad.repeat(count) };
      const { raw, query } = signedV2(ctx.fixture.accessKey, padded, ctx.nowMs, nonce);
      return { event: produceEvent(raw, query), expect: ['000002'], ids: idsOf(body) };
    }),
);

/** Valid bodies with missing, garbage, stale or wrongly keyed signature parameters. */
const produceBadSignature = produceRecipe(
  'produce: missing or bad signature',
  fc
    .tuple(
      fc.constantFrom(...ACTIVITIES),
      fc.nat(),
      nonceArb,
      fc.constantFrom(
        'no signature',
        'no timestamp',
        'no nonce',
        'nothing',
        'empty signature',
        'random hex signature',
        'random text signature',
        'signature over 128',
        'signature 63 hex',
        'signature 65 hex',
        'other key',
        'signature of another body',
        'nonce and timestamp swapped',
        'empty timestamp',
        'timestamp not digits',
        'timestamp 12 digits',
        'timestamp 14 digits',
        'stale timestamp',
        'future timestamp',
        'stale seconds timestamp',
        'empty nonce',
        'nonce over 128',
      ),
      anyText(200, 1),
      fc.integer({ min: 61_000, max: 400 * 86_400_000 }),
    )
    .map(([activity, pick, nonce, how, text, skewMs]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      const raw = JSON.stringify(body);
      const key = ctx.fixture.accessKey;
      const sign = (options: { nowMs?: number; nonce?: string; key?: string; body?: Body } = {}) =>
        signRequest(options.key ?? key, (options.body ?? body) as JsonObject, { nowMs: options.nowMs ?? ctx.nowMs, nonce: options.nonce ?? nonce });
      const good = sign();
      const randomHex = (n: number) => Array.from({ length: n }, (_, i) => HEX[(text.charCodeAt(i % text.length) + i) % 16]).join('');
      let query: QueryParams;
      switch (how) {
        case 'no signature':
          query = { ...good, signature: undefined };
          break;
        case 'no timestamp':
          query = { ...good, timestamp: undefined };
          break;
        case 'no nonce':
          query = { ...good, nonce: undefined };
          break;
        case 'nothing':
          query = {};
          break;
        case 'empty signature':
          query = { ...good, signature: '' };
          break;
        case 'random hex signature':
          query = { ...good, signature: randomHex(64) };
          break;
        case 'random text signature':
          query = { ...good, signature: text };
          break;
        case 'signature over 128':
          query = { ...good, signature: good.signature.repeat(3) };
          break;
        case 'signature 63 hex':
          query = { ...good, signature: good.signature.slice(0, 63) };
          break;
        case 'signature 65 hex':
          query = { ...good, signature: `${good.signature}0` };
          break;
        case 'other key':
          query = sign({ key: `${key}-other` });
          break;
        case 'signature of another body':
          query = sign({ body: { ...body, testFlag: '1' } });
          break;
        case 'nonce and timestamp swapped':
          query = { signature: good.signature, timestamp: good.nonce, nonce: good.timestamp };
          break;
        case 'empty timestamp':
          query = { ...good, timestamp: '' };
          break;
        case 'timestamp not digits':
          query = { ...good, timestamp: /^\d{10}$|^\d{13}$/.test(text) ? `${text}x` : text };
          break;
        case 'timestamp 12 digits':
          query = { ...good, timestamp: good.timestamp.slice(0, 12) };
          break;
        case 'timestamp 14 digits':
          query = { ...good, timestamp: `${good.timestamp}0` };
          break;
        case 'stale timestamp':
          query = sign({ nowMs: ctx.nowMs - skewMs });
          break;
        case 'future timestamp':
          query = sign({ nowMs: ctx.nowMs + skewMs });
          break;
        case 'stale seconds timestamp': {
          const seconds = String(Math.floor((ctx.nowMs - skewMs) / 1000));
          const signed = signRequest(key, body as JsonObject, { nowMs: Number(seconds), nonce });
          query = { ...signed, timestamp: seconds };
          break;
        }
        case 'empty nonce':
          query = { ...good, nonce: '' };
          break;
        default:
          query = sign({ nonce: nonce.repeat(3) });
          break;
      }
      return { event: produceEvent(raw, query), expect: ['000001', '000002'], ids: idsOf(body) };
    }),
);

/** Replaces the character at `index` by the first candidate that `accept` takes; undefined if none is. */
function flip(text: string, index: number, candidates: readonly string[], start: number, accept: (mutated: string) => boolean): string | undefined {
  for (let k = 0; k < candidates.length; k++) {
    const c = candidates[(start + k) % candidates.length]!;
    if (c === text[index]) continue;
    const mutated = text.slice(0, index) + c + text.slice(index + 1);
    if (accept(mutated)) return mutated;
  }
  return undefined;
}

const FLIP_CHARS = Array.from(`${LETTERS}{}[]":,\\ .-_+%&=*/中é\u0000`);

/** JSON text whose value differs from the original's (or that is not JSON at all): a real change to the request. */
function changesJson(original: string) {
  const value: unknown = JSON.parse(original);
  return (mutated: string) => {
    try {
      return !isDeepStrictEqual(JSON.parse(mutated), value);
    } catch {
      return true;
    }
  };
}

/** Valid requests, signed, then one character of the signature, timestamp, nonce or body changed. */
const produceMutated = produceRecipe(
  'produce: mutated after signing',
  fc
    .tuple(
      fc.constantFrom<Activity>('newInstance', 'refreshInstance', 'updateInstanceStatus', 'releaseInstance', 'upgradeInstance', 'queryInstance', 'changeInstanceCheck', 'refreshLicenseCode'),
      fc.nat(),
      nonceArb,
      fc.constantFrom('signature', 'timestamp', 'nonce', 'body'),
      fc.nat(),
      fc.nat(),
    )
    .map(([activity, pick, nonce, part, position, start]) => (ctx: BuildContext) => {
      const body = validBody(activity, ctx, pick);
      const { raw, query } = signedV2(ctx.fixture.accessKey, body, ctx.nowMs, nonce);
      let mutatedBody = raw;
      const mutatedQuery: QueryParams = { ...query };
      const at = (s: string) => position % s.length;
      if (part === 'signature') {
        // Hex signatures compare case-insensitively: a change of case is no change.
        const same = query.signature[at(query.signature)]!.toLowerCase();
        mutatedQuery.signature = flip(query.signature, at(query.signature), FLIP_CHARS, start, (m) => m[at(query.signature)]!.toLowerCase() !== same);
      } else if (part === 'timestamp') {
        mutatedQuery.timestamp = flip(query.timestamp, at(query.timestamp), FLIP_CHARS, start, () => true);
      } else if (part === 'nonce') {
        mutatedQuery.nonce = flip(query.nonce, at(query.nonce), FLIP_CHARS, start, () => true);
      } else {
        mutatedBody = flip(raw, at(raw), FLIP_CHARS, start, changesJson(raw)) ?? raw.slice(1);
      }
      return { event: produceEvent(mutatedBody, mutatedQuery), expect: ['000001', '000002'], ids: idsOf(body) };
    }),
);

// ---------------------------------------------------------------------------------------------------------------
// Legacy V1 generators

type V1Params = Record<string, string>;

/** A valid V1 call that would change state were it accepted. */
function validV1(ctx: BuildContext, which: number, pick: number): V1Params {
  const t = ctx.tag;
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  switch (which % 6) {
    case 0:
      return { activity: 'newInstance', orderId: `${t}-o`, businessId: `${t}-b`, customerId: 'c', testFlag: '0' };
    case 1:
      return { activity: 'expireInstance', instanceId: seeded.instanceId };
    case 2:
      return { activity: 'releaseInstance', instanceId: seeded.instanceId };
    case 3:
      return { activity: 'instanceStatus', instanceId: seeded.instanceId, instanceStatus: 'FREEZE' };
    case 4:
      return { activity: 'refreshInstance', instanceId: seeded.instanceId, orderId: `${t}-o`, expireTime: OTHER_EXPIRY };
    default:
      return { activity: 'upgrade', instanceId: seeded.instanceId, orderId: `${t}-o`, productId: `${t}-p` };
  }
}

/** Garbage query strings: random text, bad encodings, repeated or unnamed parameters, too many, too long. */
const v1BadQuery = produceRecipe(
  'V1: bad query string',
  fc
    .tuple(
      fc.oneof(
        anyText(300).map((s) => ({ kind: 'text' as const, s })),
        fc
          .array(
            fc.tuple(
              fc.oneof(fc.constantFrom('activity', 'timeStamp', 'authToken', 'instanceId', 'orderId', 'businessId', '', '%', '%ZZ', 'a b', 'timeStamp'), anyText(12)),
              fc.oneof(
                anyText(40),
                fc.constantFrom('%', '%G1', '%E0%A4%', '%ED%A0%80', '%C0%AF', '%FF', '+', '%2B', 'newInstance', 'NOW', '=', '&'),
              ),
              fc.boolean(),
            ),
            { maxLength: 80 },
          )
          .map((pairs) => ({ kind: 'pairs' as const, pairs })),
        fc.integer({ min: 8_193, max: 40_000 }).map((n) => ({ kind: 'text' as const, s: `activity=queryInstance&instanceId=${'x'.repeat(n)}` })),
        fc.integer({ min: 65, max: 300 }).map((n) => ({ kind: 'text' as const, s: Array.from({ length: n }, (_, i) => `p${i}=1`).join('&') })),
      ),
      fc.boolean(),
    )
    .map(([shape, leadingMark]) => (ctx: BuildContext) => {
      let raw: string;
      if (shape.kind === 'text') raw = shape.s;
      else {
        raw = shape.pairs
          .map(([name, value, withEq]) => {
            const v = value === 'NOW' ? formatV1Timestamp(ctx.nowMs) : value;
            return withEq ? `${name}=${v}` : name;
          })
          .join('&');
      }
      return { event: v1Event(leadingMark ? `?${raw}` : raw), expect: ['000001', '000002'], ids: [] };
    }),
);

/** Validly signed V1 calls whose parameters are wrong (or whose timeStamp is stale): 000002. */
const v1SignedInvalid = produceRecipe(
  'V1: invalid parameters (signed)',
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.constantFrom(
        'unknown activity',
        'no activity',
        'bad instanceStatus',
        'newInstance without businessId',
        'newInstance without orderId',
        'over-long businessId',
        'bad expireTime',
        'no instanceId',
        'bad testFlag',
        'stale timeStamp',
        'future timeStamp',
      ),
      anyText(30, 1),
      fc.integer({ min: 61_000, max: 400 * 86_400_000 }),
    )
    .map(([which, pick, how, text, skewMs]) => (ctx: BuildContext) => {
      const t = ctx.tag;
      const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
      let params: V1Params;
      let at = ctx.nowMs;
      switch (how) {
        case 'unknown activity':
          params = { ...validV1(ctx, which, pick), activity: (['newInstance', 'expireInstance', 'releaseInstance', 'instanceStatus', 'refreshInstance', 'upgrade', 'queryInstance'] as string[]).includes(text) ? `${text}x` : text };
          break;
        case 'no activity': {
          const { activity: _a, ...rest } = validV1(ctx, which, pick);
          params = rest;
          break;
        }
        case 'bad instanceStatus':
          params = { activity: 'instanceStatus', instanceId: seeded.instanceId, instanceStatus: ['FREEZE', 'NORMAL'].includes(text) ? 'normal' : text };
          break;
        case 'newInstance without businessId':
          params = { activity: 'newInstance', orderId: `${t}-o` };
          break;
        case 'newInstance without orderId':
          params = { activity: 'newInstance', businessId: `${t}-b` };
          break;
        case 'over-long businessId':
          params = { activity: 'newInstance', orderId: `${t}-o`, businessId: `${t}-${'b'.repeat(65)}` };
          break;
        case 'bad expireTime':
          params = { activity: 'refreshInstance', instanceId: seeded.instanceId, orderId: `${t}-o`, expireTime: /^\d{14}$/.test(text) ? '20991301000000' : text };
          break;
        case 'no instanceId':
          params = { activity: ['expireInstance', 'releaseInstance', 'queryInstance', 'upgrade'][which % 4]!, orderId: `${t}-o` };
          break;
        case 'bad testFlag':
          params = { ...validV1(ctx, which, pick), testFlag: ['0', '1'].includes(text) ? '2' : text };
          break;
        case 'stale timeStamp':
          params = validV1(ctx, which, pick);
          at = ctx.nowMs - skewMs;
          break;
        default:
          params = validV1(ctx, which, pick);
          at = ctx.nowMs + skewMs;
          break;
      }
      const signed = signV1Request(ctx.fixture.accessKey, params, at);
      const fresh = how !== 'stale timeStamp' && how !== 'future timeStamp';
      return {
        event: v1Event(signed.query),
        expect: ['000002'],
        ...(fresh ? { claims: `v1:${signed.params.authToken}` } : {}),
        ids: idsOf(params),
      };
    }),
);

/** The parameters of a raw V1 query string under one reading of `+`, as the server would take them; undefined if refused. */
function v1Reading(raw: string, plusIsSpace: boolean): V1Params | undefined {
  const out: V1Params = {};
  for (const segment of raw.split('&').filter((s) => s !== '')) {
    const eq = segment.indexOf('=');
    const decode = (s: string) => decodeURIComponent(plusIsSpace ? s.replaceAll('+', ' ') : s);
    let name: string;
    let value: string;
    try {
      name = decode(eq === -1 ? segment : segment.slice(0, eq));
      value = decode(eq === -1 ? '' : segment.slice(eq + 1));
    } catch {
      return undefined;
    }
    if (name === 'authToken') value = value.replaceAll(' ', '+');
    if (name === '' || Object.hasOwn(out, name)) return undefined;
    out[name] = value;
  }
  return out;
}

/** The nonce a production-interface request would claim were it accepted: V2 `nonce`, V1 `v1:<authToken>`. */
export function nonceOf(c: Case): string | undefined {
  if (c.target !== 'produce') return undefined;
  if (c.event.requestContext.http.method === 'GET') {
    const raw = c.event.rawQueryString;
    const token = v1Reading(raw.startsWith('?') ? raw.slice(1) : raw, false)?.authToken;
    return token ? `v1:${token}` : undefined;
  }
  return c.event.queryStringParameters?.nonce;
}

/** Valid V1 calls, signed, then one character of the query string changed (never into an equivalent encoding). */
const v1Mutated = produceRecipe(
  'V1: mutated after signing',
  fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()).map(([which, pick, position, start]) => (ctx: BuildContext) => {
    const params = validV1(ctx, which, pick);
    const signed = signV1Request(ctx.fixture.accessKey, params, ctx.nowMs);
    const raw = signed.query;
    const accept = (mutated: string) =>
      [true, false].every((plus) => {
        const reading = v1Reading(mutated, plus);
        return reading === undefined || !isDeepStrictEqual(reading, signed.params);
      });
    const mutated = flip(raw, position % raw.length, FLIP_CHARS, start, accept) ?? raw.slice(0, -1);
    return { event: v1Event(mutated), expect: ['000001', '000002'], ids: idsOf(params) };
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// Seller API generators

/** The routes that need a key, and the scope each needs (lib/seller-api/allRoutes.ts; sellerRouteDrift checks the list). */
const SELLER_ROUTES = [
  { method: 'GET', path: '/seller/instances', scope: 'instances:read' },
  { method: 'GET', path: '/seller/instances/{instanceId}', scope: 'instances:read' },
  { method: 'GET', path: '/seller/messages', scope: 'messages:read' },
  { method: 'POST', path: '/seller/usage', scope: 'usage:write' },
  { method: 'GET', path: '/seller/usage', scope: 'usage:read' },
  { method: 'POST', path: '/seller/supervision/{orderId}/{orderLineId}/proofs', scope: 'proofs:write' },
  { method: 'GET', path: '/seller/supervision/{orderId}/{orderLineId}/proofs', scope: 'instances:read' },
  { method: 'POST', path: '/seller/supervision/{orderId}/{orderLineId}/transitions', scope: 'proofs:write' },
  { method: 'GET', path: '/seller/statements', scope: 'statements:read' },
  { method: 'GET', path: '/seller/statements/{period}', scope: 'statements:read' },
  { method: 'POST', path: '/seller/statements/{period}/run', scope: 'statements:write' },
  { method: 'POST', path: '/seller/statements/{period}/close', scope: 'statements:write' },
  { method: 'POST', path: '/seller/statements/{period}/reconciliation', scope: 'statements:write' },
  { method: 'GET', path: '/seller/statements/{period}/reconciliation', scope: 'statements:read' },
] as const satisfies readonly { method: Method; path: string; scope: Scope }[];
type SellerRoute = (typeof SELLER_ROUTES)[number];

/** The scopes of the fixture's limited key: it is refused (403) on every route that needs another one. */
export const LIMITED_KEY_SCOPES: readonly Scope[] = ['usage:read'];

/**
 * Where SELLER_ROUTES and the seller API's routes disagree: a route that needs a key and is not listed (or is listed
 * with another scope), or a listed route that is gone. Empty when the generators know every route.
 */
export function sellerRouteDrift(): string[] {
  const name = (r: { method: string; path: string; scope: string | null }) => `${r.method} ${r.path} (${r.scope})`;
  const served = new Set(sellerRoutes.filter((r) => r.scope !== null).map(name));
  const listed = new Set(SELLER_ROUTES.map(name));
  return [
    ...[...served].filter((r) => !listed.has(r)).map((r) => `not in SELLER_ROUTES: ${r}`),
    ...[...listed].filter((r) => !served.has(r)).map((r) => `in SELLER_ROUTES but not served: ${r}`),
  ];
}

const bearer = (key: string) => `Bearer ${key}`;
const KEY_CHARS = `${LETTERS}_-`;

/** A month `YYYY-MM` (the year zero-padded to 4 digits). */
const monthOf = (year: number, month: number) => `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
/** A past month no settlement run ever touches here (the tests settle 1970-01, 2011 to 2014 and 2024 onwards). */
const NEVER_RUN_MONTH = '1991-06';
/** A month that has not started: a run of it is refused (422). */
const NOT_STARTED_MONTH = '2999-01';

/** A SHA-256 as 64 hex digits, of some text. */
const hexDigest = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A reasonable request for a route (valid query and body), given a key. Whatever would change state stays refused
 * even with a right key: proofs and decisions name an order line without a supervision flow (404), a run names a
 * month that has not started (422), a close and a bill upload a month never run (409).
 */
function routeRequest(route: SellerRoute, ctx: BuildContext, pick: number): { path: string; query: Record<string, string>; body?: string } {
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  const line = `/seller/supervision/${encodeURIComponent(seeded.orderId)}/${encodeURIComponent(seeded.orderLineId)}`;
  switch (`${route.method} ${route.path}`) {
    case 'GET /seller/instances/{instanceId}':
      return { path: `/seller/instances/${encodeURIComponent(seeded.instanceId)}`, query: {} };
    case 'GET /seller/usage':
      return { path: route.path, query: { instanceId: seeded.instanceId } };
    case 'POST /seller/usage':
      return { path: route.path, query: {}, body: JSON.stringify({ records: [usageRecord(seeded.instanceId, ctx.nowMs)] }) };
    case 'POST /seller/supervision/{orderId}/{orderLineId}/proofs':
      return {
        path: `${line}/proofs`,
        query: {},
        body: JSON.stringify({ kind: 'deployment', fileName: 'deployment.pdf', contentType: 'application/pdf', size: 2048, sha256: hexDigest(ctx.tag) }),
      };
    case 'GET /seller/supervision/{orderId}/{orderLineId}/proofs':
      return { path: `${line}/proofs`, query: {} };
    case 'POST /seller/supervision/{orderId}/{orderLineId}/transitions':
      return { path: `${line}/transitions`, query: {}, body: JSON.stringify({ action: 'accept', note: 'accepted in the Seller Console' }) };
    case 'GET /seller/statements/{period}':
    case 'GET /seller/statements/{period}/reconciliation':
    case 'POST /seller/statements/{period}/close':
      return { path: route.path.replace('{period}', NEVER_RUN_MONTH), query: {} };
    case 'POST /seller/statements/{period}/run':
      return { path: route.path.replace('{period}', NOT_STARTED_MONTH), query: {} };
    case 'POST /seller/statements/{period}/reconciliation':
      return { path: route.path.replace('{period}', NEVER_RUN_MONTH), query: {}, body: JSON.stringify({ size: 4096, sha256: hexDigest(ctx.tag) }) };
    default:
      return { path: route.path, query: { limit: '5' } };
  }
}

/** A well-formed usage record for the last closed hour: accepted, were it for a metered instance with a valid key. */
function usageRecord(instanceId: string, nowMs: number): Record<string, unknown> {
  const hour = 3_600_000;
  const begin = Math.floor(nowMs / hour) * hour - hour;
  return { instanceId, beginTime: new Date(begin).toISOString().replace('.000', ''), endTime: new Date(begin + hour).toISOString().replace('.000', ''), value: '1.5' };
}

/** Missing, malformed, unknown, revoked or under-scoped keys on every route: 401 (403 for the missing scope). */
const sellerBadAuth = sellerRecipe(
  'seller: missing or bad key',
  fc
    .tuple(
      fc.constantFrom(...SELLER_ROUTES),
      fc.nat(),
      fc.constantFrom(
        'none',
        'empty',
        'scheme only',
        'scheme and space',
        'basic',
        'random',
        'unknown key',
        'revoked key',
        'key with a changed character',
        'key truncated',
        'two spaces',
        'trailing space',
        'tab',
        'newline',
        'no scheme',
        'limited key',
      ),
      anyText(80),
      fc.string({ unit: charsOf(KEY_CHARS), minLength: 43, maxLength: 43 }),
      fc.nat(),
      fc.boolean(),
    )
    .map(([route, pick, how, text, randomKey, position, capitalised]) => (ctx: BuildContext) => {
      const { full, revoked, limited } = ctx.fixture.sellerKeys;
      const changed = flip(full, 4 + (position % (full.length - 4)), Array.from(KEY_CHARS), position, () => true)!;
      const authorization: Record<typeof how, string | undefined> = {
        none: undefined,
        empty: '',
        'scheme only': 'Bearer',
        'scheme and space': 'Bearer ',
        basic: `Basic ${Buffer.from(`user:${full}`).toString('base64')}`,
        random: text,
        'unknown key': bearer(`kgs_${randomKey}`),
        'revoked key': bearer(revoked),
        'key with a changed character': bearer(changed),
        'key truncated': bearer(full.slice(0, -1)),
        'two spaces': `Bearer  ${full}`,
        'trailing space': `${bearer(full)} `,
        tab: `Bearer\t${full}`,
        newline: `${bearer(full)}\n`,
        'no scheme': full,
        'limited key': bearer(limited),
      };
      const req = routeRequest(route, ctx, pick);
      // The limited key is refused with 403 where it lacks the scope; on a route of its own scopes it is the right key.
      const limitedRoute = how === 'limited key' && LIMITED_KEY_SCOPES.includes(route.scope);
      const value = limitedRoute ? bearer(changed) : authorization[how];
      return {
        event: sellerEvent({ method: route.method, path: req.path, authorization: value, authorizationHeader: capitalised ? 'Authorization' : 'authorization', query: req.query, body: req.body }),
        expect: { statuses: how === 'limited key' && !limitedRoute ? [403] : [401] },
        ids: idsOf(req.query),
      };
    }),
);

const API_SEGMENTS = ['instances', 'messages', 'usage', 'supervision', 'statements', 'openapi.json'];

/** Paths no route serves, and methods a route does not take: 404, whatever the key. */
const sellerBadPaths = sellerRecipe(
  'seller: bad path or method',
  fc
    .tuple(
      fc.oneof(
        anyText(30, 1)
          .filter((s) => !API_SEGMENTS.includes(s.replace(/\/+$/, '')) && !s.includes('/'))
          .map((s) => ({ method: 'GET', path: `/seller/${s}` })),
        fc.constantFrom(
          '',
          '/',
          '/seller',
          '/seller/',
          '//seller/instances',
          '/seller//instances',
          '/SELLER/instances',
          '/seller/Instances',
          '/seller/instances/a/b',
          '/seller/usage/x',
          '/seller/messages/x',
          '/seller/../seller/instances',
          '/seller/instances%2F',
          '/seller/%69nstances',
          '/koogallery/produce',
          '/seller/openapi.json/x',
          '/seller/instances;x',
          '/seller/instances?x',
          '/seller/\u0000',
          '/seller/supervision',
          '/seller/supervision/',
          '/seller/supervision/o',
          '/seller/supervision/o/l',
          '/seller/supervision/o/l/proof',
          '/seller/supervision/o/l/Proofs',
          '/seller/supervision/o/l/proofs/x',
          '/seller/supervision/o/l/history',
          '/seller/supervision/o/l/m/proofs',
          '/seller/supervision//l/proofs',
          '/seller/supervision/o//proofs',
          '/seller/supervision/o/l/transitions',
          '/seller/statement',
          '/seller/Statements',
          '/seller/statements/2026-01/run',
          '/seller/statements/2026-01/close',
          '/seller/statements/2026-01/x',
          '/seller/statements/2026-01/reconciliation/x',
          '/seller/statements//reconciliation',
          '/seller/statements/2026/01',
          '/seller/statements/2026-01/versions/1',
        ).map((path) => ({ method: 'GET', path })),
        fc.integer({ min: 1_000, max: 100_000 }).map((n) => ({ method: 'GET', path: `/seller/${'a/'.repeat(n)}` })),
        fc
          .tuple(
            fc.constantFrom('PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'post', 'TRACE', ''),
            fc.constantFrom(
              '/seller/instances',
              '/seller/usage',
              '/seller/messages',
              '/seller/openapi.json',
              '/seller/supervision/o/l/proofs',
              '/seller/supervision/o/l/transitions',
              '/seller/statements',
              '/seller/statements/2026-01',
              '/seller/statements/2026-01/run',
              '/seller/statements/2026-01/close',
              '/seller/statements/2026-01/reconciliation',
            ),
          )
          .map(([method, path]) => ({ method, path })),
        fc
          .constantFrom(
            '/seller/instances',
            '/seller/messages',
            '/seller/openapi.json',
            '/seller/instances/x',
            '/seller/supervision/o/l',
            '/seller/supervision/o/l/proofs/x',
            '/seller/supervision/o/l/transitions/accept',
            '/seller/statements',
            '/seller/statements/2026-01',
            '/seller/statements/2026-01/runs',
            '/seller/statements/2026-01/run/x',
            '/seller/statements//run',
            '/seller/statements//close',
          )
          .map((path) => ({ method: 'POST', path })),
      ),
      fc.boolean(),
      fc.string({ maxLength: 200 }),
    )
    .map(([{ method, path }, withKey, body]) => (ctx: BuildContext) => ({
      event: sellerEvent({ method, path, authorization: withKey ? bearer(ctx.fixture.sellerKeys.full) : undefined, body }),
      expect: { statuses: [404] },
      ids: [path],
    })),
);

/** Instance ids in the path that are badly encoded (400), too long (400) or unknown (404). */
const sellerBadPathParams = sellerRecipe(
  'seller: bad path parameter',
  fc
    .oneof(
      fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4', '%ED%A0%80', '%C0%AF', '%FF%FE', 'a%', '%%41').map((segment) => ({ segment, statuses: [400] })),
      fc.integer({ min: 101, max: 5_000 }).map((n) => ({ segment: 'i'.repeat(n), statuses: [400] })),
      anyText(60, 1).map((s) => ({ segment: encodeURIComponent(s), statuses: [400, 404] })),
      fc.constantFrom('%2F', '%23INSTANCE', '..', '.', '%20', '%00', 'x%2Fy', '\u00e9').map((segment) => ({ segment, statuses: [400, 404] })),
    )
    .map(({ segment, statuses }) => (ctx: BuildContext) => ({
      event: sellerEvent({ method: 'GET', path: `/seller/instances/${segment}`, authorization: bearer(ctx.fixture.sellerKeys.full) }),
      expect: { statuses },
      ids: [segment],
    })),
);

/** A limit string the route refuses: not an integer from min to max once read as a number. */
const badLimit = (min: number, max: number) =>
  fc
    .oneof(
      fc.constantFrom('0', '-1', 'abc', '1.5', 'NaN', 'Infinity', '1e9', '', String(max + 1), '99999999999999999999', '5x', '0x'),
      anyText(12),
    )
    .filter((s) => {
      const n = Number(s);
      return !(Number.isInteger(n) && n >= min && n <= max);
    });

/** A string that is not an ISO date-time by any reading: no `yyyy-` start. */
const notIsoTime = fc.oneof(
  fc.constantFrom('yesterday', '2025-13-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01', '1735689600000', '', 'T', '2025-01-01T00:00:00+25:00', '２０２５-01-01T00:00:00Z'),
  anyText(30).filter((s) => !/^\d{4}-/.test(s)),
);

/** Queries the listings and the ledger refuse: 400. */
const sellerBadQuery = sellerRecipe(
  'seller: bad query',
  fc
    .tuple(
      fc.oneof(
        fc.tuple(fc.constant('instances'), fc.oneof(
          fc.tuple(anyText(20, 1).filter((k) => !['state', 'productId', 'test', 'limit', 'cursor'].includes(k)), anyText(20)).map(([k, v]) => ({ [k]: v })),
          anyText(30).filter((s) => !(INSTANCE_STATES as readonly string[]).includes(s)).map((state) => ({ state })),
          fc.oneof(fc.constant(''), overLong(64)).map((productId) => ({ productId })),
          anyText(10).filter((s) => s !== 'true' && s !== 'false').map((test) => ({ test })),
          badLimit(1, 100).map((limit) => ({ limit })),
          fc.oneof(fc.constant(''), fc.integer({ min: 2_049, max: 10_000 }).map((n) => 'A'.repeat(n))).map((cursor) => ({ cursor })),
        )),
        fc.tuple(fc.constant('messages'), fc.oneof(
          fc.tuple(anyText(20, 1).filter((k) => !['from', 'to', 'resultCode', 'limit', 'cursor'].includes(k)), anyText(20)).map(([k, v]) => ({ [k]: v })),
          notIsoTime.map((from) => ({ from })),
          notIsoTime.map((to) => ({ to })),
          fc.integer({ min: 32, max: 4_000 }).map((days) => ({ from: new Date(Date.UTC(2025, 0, 1) - days * 86_400_000).toISOString(), to: new Date(Date.UTC(2025, 0, 1)).toISOString() })),
          fc.integer({ min: 1, max: 1_000_000 }).map((s) => ({ from: new Date(Date.UTC(2025, 0, 2) + s * 1000).toISOString(), to: '2025-01-02T00:00:00Z' })),
          fc.oneof(fc.constant(''), overLong(16)).map((resultCode) => ({ resultCode })),
          badLimit(1, 200).map((limit) => ({ limit })),
        )),
        fc.tuple(fc.constant('usage'), fc.oneof(
          fc.constant({ instanceId: undefined }),
          fc.oneof(fc.constant(''), overLong(64)).map((instanceId) => ({ instanceId })),
          fc.tuple(anyText(20, 1).filter((k) => !['instanceId', 'from', 'to', 'limit'].includes(k)), anyText(20)).map(([k, v]) => ({ [k]: v })),
          fc.oneof(notIsoTime, fc.constantFrom('2025-01-01T00:00:00+01:00', '2025-01-01T00:00:00.000+00:00', '2025-01-01 00:00:00Z')).map((from) => ({ from })),
          notIsoTime.map((to) => ({ to })),
          fc.integer({ min: 1, max: 1_000_000 }).map((s) => ({ from: new Date(Date.UTC(2025, 0, 2) + s * 1000).toISOString(), to: '2025-01-02T00:00:00Z' })),
          badLimit(1, 1_000).map((limit) => ({ limit })),
        )),
      ),
      fc.nat(),
    )
    .map(([[listing, bad], pick]) => (ctx: BuildContext) => {
      const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
      const base: Record<string, string> = listing === 'usage' ? { instanceId: seeded.instanceId } : {};
      const query = definedOnly({ ...base, ...(bad as QueryParams) });
      if ('instanceId' in bad && bad.instanceId === undefined) delete query.instanceId;
      return {
        event: sellerEvent({ method: 'GET', path: `/seller/${listing}`, authorization: bearer(ctx.fixture.sellerKeys.full), query }),
        expect: { statuses: [400] },
        ids: idsOf(query),
      };
    }),
);

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

/** Cursors the listings did not issue: 400. Cursors of the right shape (tampered real ones) may also be read: 200. */
const sellerBadCursor = sellerRecipe(
  'seller: bad cursor',
  fc
    .tuple(
      fc.constantFrom('instances', 'messages'),
      fc.oneof(
        anyText(100, 1).map((s) => ({ build: () => s, lenient: false })),
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ build: () => Buffer.from(b).toString('base64url'), lenient: false })),
        fc.jsonValue({ maxDepth: 4 }).map((v) => ({ build: () => b64url(v), lenient: false })),
        fc.constantFrom('not json', '{', 'null', '[]', '{"list":"instances"}', '{"list":"messages"}', '{"list":"messages","day":"2025-02-30"}').map((s) => ({ build: () => b64url(s), lenient: false })),
        fc
          .tuple(
            fc.oneof(fc.constant('2025-01-01T00:00:00.000Z'), anyText(30), loneSurrogate, fc.constantFrom('2025-02-30T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '')),
            fc.oneof(anyText(20, 1), loneSurrogate, fc.constantFrom('x', '#', '%', '\u0000')),
            fc.constantFrom('consistent pk', 'other pk', 'extra key', 'number listAt', 'no sk'),
          )
          .map(([at, instanceId, variant]) => ({
            build: () => {
              let pk: string;
              try {
                pk = `INSTANCE#${encodeURIComponent(instanceId)}`;
              } catch {
                pk = `INSTANCE#${instanceId}`;
              }
              const key: Record<string, unknown> = { listKind: 'INSTANCE', listAt: `${at}#${instanceId}`, pk: variant === 'other pk' ? 'INSTANCE#other' : pk, sk: '#INSTANCE' };
              if (variant === 'extra key') key.extra = 'x';
              if (variant === 'number listAt') key.listAt = 5;
              if (variant === 'no sk') delete key.sk;
              return b64url({ list: 'instances', key });
            },
            lenient: true,
          })),
        fc
          .tuple(
            fc.oneof(fc.constant('2025-01-01'), anyText(12), loneSurrogate, fc.constantFrom('2025-02-30', '0000-00-00', '99999-01-01', '2025-1-1', '')),
            fc.oneof(anyText(30), loneSurrogate, fc.constant('T00:00:00.000Z#x')),
            fc.boolean(),
          )
          .map(([day, rest, withKey]) => ({
            build: () => b64url({ list: 'messages', day, ...(withKey ? { key: { pk: `MSG#${day}`, sk: `${day}${rest}` } } : {}) }),
            lenient: true,
          })),
        fc.integer({ min: 2_049, max: 20_000 }).map((n) => ({ build: () => 'A'.repeat(n), lenient: false })),
        fc.tuple(fc.nat(), fc.nat()).map(([position, start]) => ({ build: (real: string | undefined, other: string | undefined) => tamper(real ?? other ?? 'AAAA', position, start), lenient: true })),
        fc.constant({ build: (_real: string | undefined, other: string | undefined) => other ?? 'e30', lenient: false }),
      ),
    )
    .map(([listing, cursor]) => (ctx: BuildContext) => {
      const real = listing === 'instances' ? ctx.fixture.cursors.instances : ctx.fixture.cursors.messages;
      const other = listing === 'instances' ? ctx.fixture.cursors.messages : ctx.fixture.cursors.instances;
      const value = cursor.build(real, other);
      return {
        event: sellerEvent({ method: 'GET', path: `/seller/${listing}`, authorization: bearer(ctx.fixture.sellerKeys.full), query: { cursor: value, limit: '2' } }),
        expect: { statuses: cursor.lenient ? [200, 400] : [400] },
        ids: [],
      };
    }),
);

function tamper(cursor: string, position: number, start: number): string {
  return flip(cursor, position % cursor.length, Array.from(KEY_CHARS), start, () => true) ?? `${cursor}A`;
}

/** Usage request bodies that are not JSON: 400 (413 past the size limit). */
const sellerBadJson = sellerRecipe(
  'seller: bad JSON',
  fc
    .tuple(
      fc.oneof(
        anyText(500).filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
        fc.constantFrom('', '{', '{"records":[', '{"records":[{}],}', "{'records':[]}", '{"records":NaN}', '\ufeff{"records":[]}', '{"records":[]}}', 'undefined', '{"a":1}{"b":2}', '[1,]'),
        fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((b) => Buffer.from(b).toString('latin1')).filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
      ),
      fc.boolean(),
    )
    .map(([text, base64]) => (ctx: BuildContext) => ({
      event: sellerEvent({
        method: 'POST',
        path: '/seller/usage',
        authorization: bearer(ctx.fixture.sellerKeys.full),
        body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text,
        base64,
      }),
      expect: { statuses: [400] },
      ids: [],
    })),
);

/** Usage request bodies of the wrong shape: 422. */
const sellerWrongTypes = sellerRecipe(
  'seller: wrong types',
  fc
    .oneof(
      fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
      fc.dictionary(anyText(10, 1).filter((k) => k !== 'records'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), fc.constant([])).map((records) => ({ records })),
      fc.tuple(fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 20 }), anyText(10, 1).filter((k) => k !== 'records')).map(([records, extra]) => ({ records, [extra]: 1 })),
    )
    .map((value) => (ctx: BuildContext) => ({
      event: sellerEvent({ method: 'POST', path: '/seller/usage', authorization: bearer(ctx.fixture.sellerKeys.full), body: JSON.stringify(value) }),
      expect: { statuses: [422] },
      ids: idsOf(value),
    })),
);

/** More than 1000 records, or a body past the seller API's size limit: 413. */
const sellerHugeArrays = sellerRecipe(
  'seller: huge arrays and bodies',
  fc
    .tuple(fc.constantFrom('records', 'records of valid shape', 'bytes'), fc.integer({ min: 1_001, max: 50_000 }), fc.integer({ min: 1, max: 500_000 }), fc.nat())
    .map(([shape, count, extra, pick]) => (ctx: BuildContext) => {
      const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
      let body: string;
      if (shape === 'records') body = JSON.stringify({ records: Array.from({ length: count }, (_, i) => i) });
      else if (shape === 'records of valid shape') {
        const record = usageRecord(seeded.instanceId, ctx.nowMs);
        body = JSON.stringify({ records: Array.from({ length: Math.min(count, 4_000) }, () => record) });
      } else {
        body = JSON.stringify({ records: [{ ...usageRecord(seeded.instanceId, ctx.nowMs), pad: 'x'.repeat(ctx.fixture.sellerMaxBodyBytes + extra) }] });
      }
      return {
        event: sellerEvent({ method: 'POST', path: '/seller/usage', authorization: bearer(ctx.fixture.sellerKeys.full), body }),
        expect: { statuses: [413] },
        ids: [seeded.instanceId],
      };
    }),
);

/** One thing wrong with a usage record that would otherwise be accepted. */
const brokenRecord: fc.Arbitrary<(record: Record<string, unknown>, nowMs: number) => unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => () => v),
  fc.constantFrom('instanceId', 'beginTime', 'endTime', 'value').map((field) => (r: Record<string, unknown>) => withField(r, field, DELETE)),
  fc.tuple(fc.constantFrom('instanceId', 'beginTime', 'endTime', 'value', 'clientRef'), smallWrongType).map(([field, v]) => (r: Record<string, unknown>) => ({ ...r, [field]: v })),
  fc.constantFrom('0', '-1', '1.00001', '1e3', ' 1', '1 ', 'NaN', '', '0x10', '+1', '1,5', '0.00000', '1234567890123', '١', '1.', '.5', '0.0000').map((value) => (r: Record<string, unknown>) => ({ ...r, value })),
  fc.oneof(notIsoTime, fc.constantFrom('shift 30m', 'shift 1ms', 'local offset', 'no Z', 'future', 'too old')).map((how) => (r: Record<string, unknown>, nowMs: number) => {
    const hour = 3_600_000;
    const begin = Math.floor(nowMs / hour) * hour - hour;
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');
    switch (how) {
      case 'shift 30m':
        return { ...r, beginTime: iso(begin + hour / 2), endTime: iso(begin + 1.5 * hour) };
      case 'shift 1ms':
        return { ...r, beginTime: new Date(begin + 1).toISOString() };
      case 'local offset':
        return { ...r, beginTime: iso(begin).replace('Z', '+00:00') };
      case 'no Z':
        return { ...r, beginTime: iso(begin).replace('Z', '') };
      case 'future':
        return { ...r, beginTime: iso(begin + 3 * hour), endTime: iso(begin + 4 * hour) };
      case 'too old':
        return { ...r, beginTime: iso(begin - 22 * 24 * hour), endTime: iso(begin - 22 * 24 * hour + hour) };
      default:
        return { ...r, beginTime: how };
    }
  }),
  fc.oneof(anyText(20).filter((s) => !/^\d{4}-/.test(s)), fc.constant('2099-01-01T00:00:00Z')).map((endTime) => (r: Record<string, unknown>) => ({ ...r, endTime })),
  fc.oneof(fc.constant('unknown'), loneSurrogate, overLong(64), fc.constant('')).map((kind) => (r: Record<string, unknown>) => ({ ...r, instanceId: kind === 'unknown' ? `${String(r.instanceId)}-unknown` : kind })),
  fc.oneof(fc.constantFrom('', 'has space', 'semi;colon', 'ü', '#'), overLong(128)).map((clientRef) => (r: Record<string, unknown>) => ({ ...r, clientRef })),
  fc.tuple(anyText(10, 1).filter((k) => !['instanceId', 'beginTime', 'endTime', 'value', 'clientRef'].includes(k)), fc.jsonValue({ maxDepth: 1 })).map(([k, v]) => (r: Record<string, unknown>) => ({ ...r, [k]: v })),
);

/** A well-formed usage request whose every record is wrong: 200, every record `rejected`, nothing written. */
const sellerGarbageRecords = sellerRecipe(
  'seller: garbage usage records',
  fc.tuple(fc.array(fc.tuple(brokenRecord, fc.nat()), { minLength: 1, maxLength: 60 }), fc.boolean()).map(([breakers, withRefs]) => (ctx: BuildContext) => {
    const records = breakers.map(([breakRecord, pick], i) => {
      const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
      const record = { ...usageRecord(seeded.instanceId, ctx.nowMs), ...(withRefs ? { clientRef: `${ctx.tag}-${i}` } : {}) };
      return breakRecord(record, ctx.nowMs);
    });
    return {
      event: sellerEvent({ method: 'POST', path: '/seller/usage', authorization: bearer(ctx.fixture.sellerKeys.full), body: JSON.stringify({ records }) }),
      expect: { allRejected: records.length },
      ids: idsOf(records),
    };
  }),
);

// ---------------------------------------------------------------------------------------------------------------
// Supervision and statement input

/** One request of the supervision/statement recipe and the statuses it may get. */
interface SellerTry {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: string;
  base64?: boolean;
  statuses: readonly number[];
  /** Ids and months the request names (see CaseBase.ids). */
  ids: string[];
}
type TryBuild = (ctx: BuildContext) => SellerTry;

type Line = { orderId: string; orderLineId: string };
const supervisionPath = (line: Line, tail: 'proofs' | 'transitions') =>
  `/seller/supervision/${encodeURIComponent(line.orderId)}/${encodeURIComponent(line.orderLineId)}/${tail}`;

/** An order line without a supervision flow: a seeded instance's (the marketplace sent it) or one never sent. */
function unsupervisedLine(ctx: BuildContext, pick: number): Line {
  if (pick % 3 === 0) return { orderId: `${ctx.tag}-o`, orderLineId: `${ctx.tag}-o-000001` };
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  return { orderId: seeded.orderId, orderLineId: seeded.orderLineId };
}

/** The fixture's supervised order line, or (`elsewhere`) one without a flow: for requests refused before the lookup. */
const anyLine = (ctx: BuildContext, elsewhere: boolean, pick: number): Line => (elsewhere ? unsupervisedLine(ctx, pick) : ctx.fixture.supervised);

/** A value for a field, or DELETE to leave the field out; some depend on the stack's limits. */
type Broken = { label: string; value: (fixture: Fixture) => unknown };
const fixedValue = (label: string) => (value: unknown): Broken => ({ label, value: () => value });
const missingOrNull = fc.constantFrom<unknown>(DELETE, null).map(fixedValue('missing or null'));

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A well-formed proof id (26 Crockford base32 characters) of a proof that does not exist. */
const proofIdArb = fc.string({ unit: charsOf(CROCKFORD), minLength: 26, maxLength: 26 });
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A SHA-256 in one of its two accepted forms: 64 hex digits (either case) or 44 base64 characters. */
const sha256Arb = fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('hex', 'HEX', 'base64')).map(([seed, form]) => {
  const hex = hexDigest(seed);
  return form === 'hex' ? hex : form === 'HEX' ? hex.toUpperCase() : Buffer.from(hex, 'hex').toString('base64');
});

/** Text that is no SHA-256 in either form. */
const badSha256: fc.Arbitrary<Broken> = fc.oneof(
  smallWrongType.map(fixedValue('wrong type')),
  missingOrNull,
  fc
    .tuple(fc.integer({ min: 0, max: 200 }).filter((n) => n !== 64), fc.string({ maxLength: 8 }))
    .map(([n, seed]) => hexDigest(seed).repeat(4).slice(0, n))
    .map(fixedValue('hex of the wrong length')),
  fc
    .tuple(fc.nat({ max: 63 }), fc.constantFrom('g', 'G', 'x', ' ', '-', 'é', '\u0000', '０'), fc.string({ maxLength: 8 }))
    .map(([at, c, seed]) => {
      const hex = hexDigest(seed);
      return hex.slice(0, at) + c + hex.slice(at + 1);
    })
    .map(fixedValue('64 characters, not all hex')),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.constantFrom('no padding', 'double padding', 'base64url', 'non-canonical', 'prefixed', 'spaced', 'wrapped'))
    .map(([seed, how]) => {
      const hex = hexDigest(seed);
      const b64 = Buffer.from(hex, 'hex').toString('base64');
      switch (how) {
        case 'no padding':
          return b64.slice(0, 43);
        case 'double padding':
          return `${b64.slice(0, 42)}==`;
        case 'base64url':
          // Forced to hold - or _ (so it differs from the base64 form).
          return `${b64.slice(0, 10).replace(/[+/]/g, 'A')}-_${b64.slice(12, 43).replace(/[+/]/g, 'A')}`;
        case 'non-canonical': {
          // The last character's two low bits are padding: setting one leaves the bytes and breaks the encoding.
          const last = B64.indexOf(b64[42]!);
          return `${b64.slice(0, 42)}${B64[last ^ 1]!}=`;
        }
        case 'prefixed':
          return `sha256:${hex}`;
        case 'spaced':
          return hex.replace(/(.{8})/g, '$1 ').trim();
        default:
          return `"${hex}"`;
      }
    })
    .map(fixedValue('malformed digest')),
  anyText(80).filter((s) => !/^[0-9a-fA-F]{64}$/.test(s) && !/^[A-Za-z0-9+/]{43}=$/.test(s)).map(fixedValue('random text')),
  loneSurrogate.map(fixedValue('lone surrogate')),
);

/** A delivery-proof request a supervised order line would accept (the recipe sends it only where there is none). */
const validProof = fc
  .tuple(
    fc.constantFrom(...PROOF_KINDS),
    fc.constantFrom('deployment.pdf', 'screenshot.png', '验收报告.pdf', 'SOW v2 (signed).docx', 'logs.zip', 'x', '.env.pdf', 'a'.repeat(255)),
    fc.constantFrom(...PROOF_CONTENT_TYPES, ' Application/PDF ', 'IMAGE/PNG'),
    fc.integer({ min: 1, max: 1_000_000 }),
    sha256Arb,
    fc.option(fc.constantFrom('2026-01-01T08:00:00+08:00', '2026-10-31T16:00:00Z', '2026-11-01T00:00:00.123Z'), { nil: undefined }),
  )
  .map(
    ([kind, fileName, contentType, size, sha256, serviceStartAt]) =>
      (fixture: Fixture): Body => ({ kind, fileName, contentType, size: Math.min(size, fixture.proofMaxBytes), sha256, ...(serviceStartAt ? { serviceStartAt } : {}) }),
  );

const PROOF_FIELDS = ['kind', 'fileName', 'contentType', 'size', 'sha256', 'serviceStartAt'];

/** One field of a proof request the flow refuses (422), whatever the order line. */
const brokenProofField: fc.Arbitrary<{ field: string } & Broken> = fc.oneof(
  fc
    .oneof(
      smallWrongType.map(fixedValue('wrong type')),
      missingOrNull,
      fc
        .constantFrom('Deployment', 'deployment ', ' requirement', 'appeal_evidence', 'license_screenshot', 'licence-screenshot', 'proof', '', '__proto__', 'toString', 'ｄｅｐｌｏｙｍｅｎｔ', 'deployment\u0000')
        .map(fixedValue('unknown kind')),
      anyText(30).filter((s) => !(PROOF_KINDS as readonly string[]).includes(s)).map(fixedValue('unknown kind')),
      loneSurrogate.map(fixedValue('lone surrogate')),
    )
    .map((b) => ({ field: 'kind', ...b })),
  fc
    .oneof(
      smallWrongType.map(fixedValue('wrong type')),
      missingOrNull,
      fc.constant('').map(fixedValue('empty')),
      overLong(255).map(fixedValue('over 255 characters')),
      fc
        .tuple(
          fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
          fc.constantFrom('/', '\\', '\u0000', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u009f', '\u202a', '\u202e', '\u2066', '\u2069'),
          fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
        )
        .map(([a, c, b]) => a + c + b)
        .map(fixedValue('path separator or control character')),
      fc.constantFrom('.', '..', '../../etc/passwd', 'C:\\proofs\\a.pdf', '/a.pdf', 'invoice\u202efdp.exe').map(fixedValue('not a plain file name')),
      loneSurrogate.map(fixedValue('lone surrogate')),
    )
    .map((b) => ({ field: 'fileName', ...b })),
  fc
    .oneof(
      smallWrongType.map(fixedValue('wrong type')),
      missingOrNull,
      fc
        .constantFrom(
          '',
          ' ',
          'text/html',
          'image/svg+xml',
          'application/x-msdownload',
          'application/javascript',
          'text/javascript',
          'application/x-sh',
          'text/csv',
          'application/octet-stream',
          'image/gif',
          'application/pdf; charset=binary',
          'application/pdf\u0000',
          'application/pdf,image/png',
          'pdf',
          '*/*',
          'application/*',
          'multipart/form-data',
        )
        .map(fixedValue('content type not accepted')),
      anyText(60).filter((s) => !isProofContentType(s.trim().toLowerCase())).map(fixedValue('content type not accepted')),
      overLong(200).map(fixedValue('over-long')),
      loneSurrogate.map(fixedValue('lone surrogate')),
    )
    .map((b) => ({ field: 'contentType', ...b })),
  fc
    .oneof(
      fc.constantFrom<unknown>(0, -1, -1024, 0.5, 1.5, 1e-9, '1024', '', true, [], {}, [1024]).map(fixedValue('zero, negative, fractional or not a number')),
      missingOrNull,
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || d < 1).map(fixedValue('zero, negative or fractional')),
      fc.integer({ min: 1, max: 1_000_000_000 }).map((n): Broken => ({ label: 'over the maximum', value: (f) => f.proofMaxBytes + n })),
      fc.constantFrom(1e21, Number.MAX_SAFE_INTEGER, 2 ** 64).map(fixedValue('over the maximum')),
    )
    .map((b) => ({ field: 'size', ...b })),
  badSha256.map((b) => ({ field: 'sha256', ...b })),
  fc
    .oneof(
      fc
        .constantFrom<unknown>(
          'yesterday',
          '2026-01-01',
          '2026-01-01T00:00:00',
          '2026-13-01T00:00:00Z',
          '2026-02-30T00:00:00Z',
          '2026-01-01 00:00:00Z',
          '2026-01-01T24:00:00Z',
          '2026-01-01T00:00:00+25:00',
          '1735689600000',
          '',
          1735689600000,
          null,
          true,
          '２０２６-01-01T00:00:00Z',
        )
        .map(fixedValue('not an ISO date-time with an offset')),
      notIsoTime.map(fixedValue('not an ISO date-time with an offset')),
    )
    .map((b) => ({ field: 'serviceStartAt', ...b })),
  fc
    .tuple(
      fc.oneof(fc.constantFrom('proofId', 'key', 'state', 'round', 'orderId', 'bucket', 'url', 'verifiedAt', '__proto__'), anyText(12, 1).filter((k) => !PROOF_FIELDS.includes(k))),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([field, value]) => ({ field, label: 'unknown field', value: () => value })),
);

/** One thing wrong with a proof request; malformed JSON, or no object: refused before the order line is looked up. */
const proofRequestTries: fc.Arbitrary<TryBuild> = fc.oneof(
  fc
    .tuple(validProof, fc.array(brokenProofField, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.nat())
    .map(([valid, broken, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
      let body = valid(ctx.fixture);
      for (const b of broken) body = withField(body, b.field, b.value(ctx.fixture));
      const line = anyLine(ctx, elsewhere, pick);
      return { method: 'POST', path: supervisionPath(line, 'proofs'), body: JSON.stringify(body), statuses: [422], ids: [line.orderId, line.orderLineId] };
    }),
  fc
    .tuple(fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)), fc.boolean(), fc.nat())
    .map(([value, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
      const line = anyLine(ctx, elsewhere, pick);
      return { method: 'POST', path: supervisionPath(line, 'proofs'), body: JSON.stringify(value), statuses: [422], ids: [line.orderId, line.orderLineId] };
    }),
);

const ACTIONS = ['startReview', 'accept', 'reject', 'openAppeal', 'closeAppeal'] as const;
type Action = (typeof ACTIONS)[number];
const reasonArb = fc.oneof(fc.constantFrom('the buyer signed the acceptance', '验收不通过：缺少部署文档', ' trimmed '), fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ''));

/**
 * A valid decision of each kind. On the fixture's supervised line (AWAITING_DELIVERY, no appeal) every one is refused:
 * 409 for a decision the state does not allow, 422 for an appeal citing proofs that are not verified (`evidence`
 * is never empty there: an appeal without evidence would be recorded).
 */
const validTransition = fc
  .tuple(
    fc.constantFrom(...ACTIONS),
    reasonArb,
    fc.option(fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.trim() !== ''), { nil: undefined }),
    fc.array(proofIdArb, { minLength: 1, maxLength: 20 }),
    fc.option(fc.constantFrom('seller', 'buyer'), { nil: undefined }),
    fc.option(fc.constantFrom(...APPEAL_OUTCOMES), { nil: undefined }),
  )
  .map(([action, reason, note, evidence, appellant, outcome]) => {
    const noted = note !== undefined ? { note } : {};
    const body: Body =
      action === 'startReview' || action === 'accept'
        ? { action, ...noted }
        : action === 'reject'
          ? { action, reason, ...noted }
          : action === 'openAppeal'
            ? { action, reason, evidence, ...(appellant ? { appellant } : {}), ...noted }
            : { action, reason, ...(outcome ? { outcome } : {}), ...noted };
    return { action, body, onSupervised: action === 'openAppeal' ? 422 : 409 };
  });

/** A field another decision takes, valid there: refused on this one (each decision's fields are exact). */
const MISPLACED_FIELDS: readonly [Action, string, unknown][] = [
  ['accept', 'reason', 'fine'],
  ['accept', 'evidence', []],
  ['startReview', 'reason', 'x'],
  ['reject', 'evidence', []],
  ['reject', 'outcome', 'upheld'],
  ['reject', 'appellant', 'seller'],
  ['closeAppeal', 'evidence', []],
  ['closeAppeal', 'appellant', 'buyer'],
  ['openAppeal', 'outcome', 'upheld'],
];

/** One thing wrong with a decision: refused (422) by its schema, before the order line is looked up. */
const brokenTransition: fc.Arbitrary<(body: Body, action: Action) => Body> = fc.oneof(
  fc
    .oneof(
      smallWrongType,
      fc.constantFrom<unknown>(DELETE, null, 'Accept', 'approve', 'proofSubmitted', 'created', 'open_appeal', 'openappeal', 'accept ', '', '__proto__', 'toString', 'ａｃｃｅｐｔ'),
      anyText(20).filter((s) => !(ACTIONS as readonly string[]).includes(s)),
      loneSurrogate,
    )
    .map((value) => (body: Body) => withField(body, 'action', value)),
  fc
    .oneof(fc.constantFrom<unknown>(DELETE, null), smallWrongType, blank, overLong(2000))
    .map((value) => (body: Body, action: Action) => withField(action === 'startReview' || action === 'accept' ? { ...body, action: 'reject' } : body, 'reason', value)),
  fc.oneof(fc.constant<unknown>(null), smallWrongType, blank, overLong(2000)).map((value) => (body: Body) => ({ ...body, note: value })),
  fc
    .oneof(
      fc.oneof(proofIdArb, fc.integer(), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }), fc.constant(null)),
      fc.array(proofIdArb, { minLength: 21, maxLength: 100 }),
      fc
        .tuple(
          fc.array(proofIdArb, { maxLength: 5 }),
          fc.oneof(
            proofIdArb.map((id) => id.toLowerCase()),
            proofIdArb.map((id) => id.slice(1)),
            proofIdArb.map((id) => `${id}0`),
            fc.tuple(proofIdArb, fc.nat({ max: 25 }), fc.constantFrom('I', 'L', 'O', 'U', 'i', '-', ' ')).map(([id, at, c]) => id.slice(0, at) + c + id.slice(at + 1)),
            fc.constantFrom<unknown>('', ' ', 5, null, ['x'], 'proofs/o/l/x'),
            anyText(30).filter((s) => !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(s)),
          ),
        )
        .map(([good, bad]) => [...good, bad]),
    )
    .map((value) => (body: Body) => ({ ...body, action: 'openAppeal', reason: typeof body.reason === 'string' ? body.reason : 'appeal', evidence: value })),
  fc
    .oneof(fc.constantFrom<unknown>('accepted', 'Upheld', 'upheld ', '', 'won', 0, true), anyText(12).filter((s) => !(APPEAL_OUTCOMES as readonly string[]).includes(s)))
    .map((value) => (body: Body) => ({ action: 'closeAppeal', reason: typeof body.reason === 'string' ? body.reason : 'decided', outcome: value })),
  fc
    .oneof(fc.constantFrom<unknown>('huawei', 'Seller', 'marketplace', 'system', '', 1), anyText(12).filter((s) => s !== 'seller' && s !== 'buyer'))
    .map((value) => () => ({ action: 'openAppeal', reason: 'appeal', evidence: [], appellant: value })),
  fc
    .tuple(fc.constantFrom(...MISPLACED_FIELDS), reasonArb)
    .map(([[action, field, value], reason]) => () => {
      const base: Body = action === 'accept' || action === 'startReview' ? { action } : action === 'openAppeal' ? { action, reason, evidence: [] } : { action, reason };
      return { ...base, [field]: value };
    }),
  fc
    .tuple(anyText(12, 1).filter((k) => !['action', 'reason', 'note', 'evidence', 'outcome', 'appellant'].includes(k)), fc.jsonValue({ maxDepth: 1 }))
    .map(([k, v]) => (body: Body) => ({ ...body, [k]: v })),
);

const transitionTries: fc.Arbitrary<TryBuild> = fc.oneof(
  // Valid decisions the fixture's flow refuses (409; 422 for an appeal citing proofs that are not verified).
  {
    arbitrary: validTransition.map((t) => (ctx: BuildContext): SellerTry => {
      const line = ctx.fixture.supervised;
      return { method: 'POST', path: supervisionPath(line, 'transitions'), body: JSON.stringify(t.body), statuses: [t.onSupervised], ids: [line.orderId, line.orderLineId] };
    }),
    weight: 4,
  },
  // Valid decisions on an order line without a flow: 404.
  {
    arbitrary: fc.tuple(validTransition, fc.nat()).map(([t, pick]) => (ctx: BuildContext): SellerTry => {
      const line = unsupervisedLine(ctx, pick);
      return { method: 'POST', path: supervisionPath(line, 'transitions'), body: JSON.stringify(t.body), statuses: [404], ids: [line.orderId, line.orderLineId] };
    }),
    weight: 2,
  },
  // An appeal without evidence on an order line without a flow: 404 (on the supervised line it would be recorded).
  {
    arbitrary: fc.tuple(reasonArb, fc.nat()).map(([reason, pick]) => (ctx: BuildContext): SellerTry => {
      const line = unsupervisedLine(ctx, pick);
      return { method: 'POST', path: supervisionPath(line, 'transitions'), body: JSON.stringify({ action: 'openAppeal', reason }), statuses: [404], ids: [line.orderId, line.orderLineId] };
    }),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(validTransition, fc.array(brokenTransition, { minLength: 1, maxLength: 2 }), fc.boolean(), fc.nat())
      .map(([t, breakers, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
        let body = t.body;
        for (const b of breakers) body = b(body, t.action);
        const line = anyLine(ctx, elsewhere, pick);
        return { method: 'POST', path: supervisionPath(line, 'transitions'), body: JSON.stringify(body), statuses: [422], ids: [line.orderId, line.orderLineId] };
      }),
    weight: 4,
  },
  {
    arbitrary: fc
      .tuple(fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)), fc.boolean(), fc.nat())
      .map(([value, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
        const line = anyLine(ctx, elsewhere, pick);
        return { method: 'POST', path: supervisionPath(line, 'transitions'), body: JSON.stringify(value), statuses: [422], ids: [line.orderId, line.orderLineId] };
      }),
    weight: 1,
  },
);

/** An id as a path segment: percent-encoded as a client would, with the decoded text the router validates. */
const idSegment: fc.Arbitrary<{ segment: string; decoded: string | undefined }> = fc.oneof(
  fc.oneof(anyText(60, 1), fc.constantFrom('é', 'é', '中文订单', '😀'.repeat(64), '😀'.repeat(65), '\u0000', 'a\nb', '\u007f', '\u202eevil', '\ufeffid', '#SUPERVISION', 'a#b', 'a/b', '..', '.', ' ', '%', '%41')).map((s) => ({ segment: encodeURIComponent(s), decoded: s })),
  fc.integer({ min: 129, max: 3_000 }).map((n) => ({ segment: 'o'.repeat(n), decoded: 'o'.repeat(n) })),
  fc.integer({ min: 129, max: 600 }).map((n) => ({ segment: encodeURIComponent('😀'.repeat(n)), decoded: '😀'.repeat(n) })),
  fc.integer({ min: 100, max: 128 }).map((n) => ({ segment: 'o'.repeat(n), decoded: 'o'.repeat(n) })),
  fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4', '%ED%A0%80', '%C0%AF', '%FF%FE', 'a%', '%%41').map((segment) => ({ segment, decoded: undefined })),
);

/**
 * Odd order and order line ids in the path: 400 when not ids the routes take (bad encoding, empty, over 128 characters,
 * counted in code points), else 404 (no flow).
 */
const idTries: fc.Arbitrary<TryBuild> = fc
  .tuple(idSegment, fc.constantFrom('orderId', 'orderLineId', 'both'), idSegment, fc.constantFrom('GET proofs', 'POST proofs', 'POST transitions'), validProof, validTransition)
  .map(([a, which, b, route, proof, transition]) => (ctx: BuildContext): SellerTry => {
    const own = { segment: encodeURIComponent(`${ctx.tag}-o`), decoded: `${ctx.tag}-o` };
    const [order, orderLine] = which === 'orderId' ? [a, own] : which === 'orderLineId' ? [own, a] : [a, b];
    const valid = (s: { decoded: string | undefined }) => s.decoded !== undefined && [...s.decoded].length >= 1 && [...s.decoded].length <= 128;
    const tail = route === 'POST transitions' ? 'transitions' : 'proofs';
    const body = route === 'POST proofs' ? JSON.stringify(proof(ctx.fixture)) : route === 'POST transitions' ? JSON.stringify(transition.body) : undefined;
    return {
      method: route === 'GET proofs' ? 'GET' : 'POST',
      path: `/seller/supervision/${order.segment}/${orderLine.segment}/${tail}`,
      ...(body !== undefined ? { body } : {}),
      statuses: valid(order) && valid(orderLine) ? [404] : [400],
      ids: [order.decoded ?? order.segment, orderLine.decoded ?? orderLine.segment],
    };
  });

/** A valid delivery-proof request, and a GET, for an order line without a supervision flow: 404. */
const noFlowTries: fc.Arbitrary<TryBuild> = fc.tuple(validProof, fc.nat(), fc.boolean()).map(([proof, pick, get]) => (ctx: BuildContext): SellerTry => {
  const line = unsupervisedLine(ctx, pick);
  return get
    ? { method: 'GET', path: supervisionPath(line, 'proofs'), statuses: [404], ids: [line.orderId, line.orderLineId] }
    : { method: 'POST', path: supervisionPath(line, 'proofs'), body: JSON.stringify(proof(ctx.fixture)), statuses: [404], ids: [line.orderId, line.orderLineId] };
});

/** Bodies that are not JSON (400), in text or base64. */
const notJson: fc.Arbitrary<string> = fc.oneof(
  anyText(500).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  fc.constantFrom('', '{', '{"kind":', '{"action":"accept",}', "{'action':'accept'}", '{"size":NaN}', '\ufeff{}', '{"a":1}}', 'undefined', '{"a":1}{"b":2}', '[1,]', '{"sha256":"a"\u0000}'),
  fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((b) => Buffer.from(b).toString('latin1')).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

// Months: one that has not started (2100-01 to 9999-12), one never run (1980-01 to 1999-12, which nothing here settles),
// one outside the supported range (0000-01 to 1969-12).
const monthArb = (from: number, to: number) => fc.tuple(fc.integer({ min: from, max: to }), fc.integer({ min: 1, max: 12 })).map(([y, m]) => monthOf(y, m));
const notStartedMonth = monthArb(2100, 9999);
const neverRunMonth = monthArb(1980, 1999);
const unsupportedMonth = monthArb(0, 1969);

/** A period path segment that is not YYYY-MM once decoded (400), or not percent-encoding at all (400). */
const badPeriodSegment: fc.Arbitrary<string> = fc.oneof(
  fc
    .constantFrom(
      '2026-13',
      '2026-1',
      '2026-00',
      '2026-0',
      '26-01',
      '202601',
      '2026_01',
      '2026-01-01',
      '2026-1-1',
      '2026-012',
      '12026-01',
      '-2026-01',
      '+2026-01',
      '2026-1a',
      'x',
      '.',
      '..',
      'latest',
      '2026-０1',
      '２０２６-０１',
      '2026\u221201',
      '2026\u201301',
      ' 2026-01',
      '2026-01 ',
      '2026-01\n',
      '2026-01\u0000',
      '../x',
      '2026-01/run',
      '2026-01?x',
      '2026-01#x',
      '\u202e10-6202',
    )
    .map(encodeURIComponent),
  fc.constantFrom('2026-01;x', '%2E%2E%2Fx', '2026%2D01x', '%', '%ZZ', '2026-0%', '%ED%A0%80', '%C0%AF', '%FF').map((s) => s),
  fc.integer({ min: 8, max: 5_000 }).map((n) => '2'.repeat(n)),
  fc.integer({ min: 1, max: 1_000 }).map((n) => `2026-01${'0'.repeat(n)}`),
  anyText(40, 1).filter((s) => !/^\d{4}-(0[1-9]|1[0-2])$/.test(s)).map(encodeURIComponent),
);

const PERIOD_ROUTES = ['GET statement', 'POST run', 'POST close', 'POST reconciliation', 'GET reconciliation'] as const;
type PeriodRoute = (typeof PERIOD_ROUTES)[number];

/** A request on a month's route; a bill upload gets `body`, or a valid one. */
function periodTry(route: PeriodRoute, segment: string, statuses: readonly number[], ids: string[], body?: string): SellerTry {
  const base = `/seller/statements/${segment}`;
  switch (route) {
    case 'GET statement':
      return { method: 'GET', path: base, statuses, ids };
    case 'POST run':
      return { method: 'POST', path: `${base}/run`, ...(body !== undefined ? { body } : {}), statuses, ids };
    case 'POST close':
      return { method: 'POST', path: `${base}/close`, ...(body !== undefined ? { body } : {}), statuses, ids };
    case 'GET reconciliation':
      return { method: 'GET', path: `${base}/reconciliation`, statuses, ids };
    default:
      return { method: 'POST', path: `${base}/reconciliation`, body: body ?? JSON.stringify({ size: 4096, sha256: hexDigest(segment) }), statuses, ids };
  }
}

const validBill = fc.tuple(fc.integer({ min: 1, max: BILL_MAX_BYTES }), sha256Arb).map(([size, sha256]) => ({ size, sha256 }));

/** One thing wrong with a bill upload request: 422 (before the month is looked up). */
const brokenBill: fc.Arbitrary<(body: Body, fixture: Fixture) => unknown> = fc.oneof(
  fc
    .oneof(
      fc.constantFrom<unknown>(0, -1, -4096, 0.5, 1.5, '4096', '', true, [], {}, DELETE, null, BILL_MAX_BYTES + 1, 1e21),
      fc.integer({ min: BILL_MAX_BYTES + 1, max: BILL_MAX_BYTES * 100 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || d < 1),
    )
    .map((value) => (body: Body) => withField(body, 'size', value)),
  badSha256.map((b) => (body: Body, fixture: Fixture) => withField(body, 'sha256', b.value(fixture))),
  fc
    .tuple(fc.oneof(fc.constantFrom('contentType', 'key', 'period', 'uploadId', '__proto__'), anyText(12, 1).filter((k) => k !== 'size' && k !== 'sha256')), fc.jsonValue({ maxDepth: 1 }))
    .map(([k, v]) => (body: Body) => ({ ...body, [k]: v })),
  fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => () => v),
);

const statementTries: fc.Arbitrary<TryBuild> = fc.oneof(
  // Not YYYY-MM: 400 on every month route.
  fc.tuple(fc.constantFrom(...PERIOD_ROUTES), badPeriodSegment).map(([route, segment]) => () => periodTry(route, segment, [400], [])),
  // No month at all, or the month's separators unencoded: no route (404).
  fc
    .tuple(fc.constantFrom<PeriodRoute>('POST run', 'POST close', 'POST reconciliation', 'GET reconciliation'), fc.constantFrom('', '2026/01', '../2026-01', '2026-01/x'))
    .map(([route, segment]) => () => periodTry(route, segment, [404], [])),
  // YYYY-MM outside the supported range (before 1970-01): refused, as a malformed month (400) or by settlement (422).
  fc.tuple(fc.constantFrom(...PERIOD_ROUTES), unsupportedMonth).map(([route, month]) => () => periodTry(route, month, [400], [month])),
  // A month never run: nothing to read (404), close (409) or reconcile against (409). Never run itself: that would start it.
  fc
    .tuple(fc.constantFrom<PeriodRoute>('GET statement', 'POST close', 'POST reconciliation', 'GET reconciliation'), neverRunMonth, fc.option(notJson, { nil: undefined }))
    .map(([route, month, garbage]) => () => periodTry(route, month, route.startsWith('GET') ? [404] : [409], [month], route === 'POST close' ? garbage : undefined)),
  fc.tuple(neverRunMonth, validBill).map(([month, bill]) => () => periodTry('POST reconciliation', month, [409], [month], JSON.stringify(bill))),
  // A month that has not started: a run is refused (422), with any body (the route takes none).
  fc
    .tuple(fc.constantFrom(...PERIOD_ROUTES), notStartedMonth, fc.option(notJson, { nil: undefined }))
    .map(([route, month, garbage]) => () => periodTry(route, month, route === 'POST run' ? [422] : route.startsWith('GET') ? [404] : [409], [month], route === 'POST reconciliation' ? undefined : garbage)),
  // The month after next in the statements' time zone (tests settle such months: not an id of this run).
  fc.option(notJson, { nil: undefined }).map((garbage) => (ctx: BuildContext) => {
    const month = nextPeriod(nextPeriod(periodOf(new Date(ctx.nowMs).toISOString(), ctx.fixture.statementTimeZone)));
    return periodTry('POST run', month, [422], [], garbage);
  }),
  // Bill uploads that are not JSON (400) or not the right shape (422).
  fc.tuple(fc.oneof(neverRunMonth, notStartedMonth), notJson, fc.boolean()).map(([month, text, base64]) => () => ({
    ...periodTry('POST reconciliation', month, [400], [month], base64 ? Buffer.from(text, 'utf8').toString('base64') : text),
    ...(base64 ? { base64: true } : {}),
  })),
  fc
    .tuple(fc.oneof(neverRunMonth, notStartedMonth), validBill, fc.array(brokenBill, { minLength: 1, maxLength: 2 }))
    .map(([month, bill, breakers]) => (ctx: BuildContext) => {
      let body: unknown = bill;
      for (const b of breakers) body = b(isRecord(body) ? body : {}, ctx.fixture);
      return periodTry('POST reconciliation', month, [422], [month], JSON.stringify(body));
    }),
);

/** Statement listings the route refuses (400), and cursors it did not issue (400; forged ones of the right shape may be read). */
const statementListTries: fc.Arbitrary<TryBuild> = fc
  .oneof(
    fc.tuple(anyText(20, 1).filter((k) => k !== 'limit' && k !== 'cursor'), anyText(20)).map(([k, v]) => ({ query: { [k]: v }, statuses: [400] })),
    badLimit(1, 100).map((limit) => ({ query: { limit }, statuses: [400] })),
    fc.oneof(fc.constant(''), fc.integer({ min: 2_049, max: 10_000 }).map((n) => 'A'.repeat(n)), anyText(100, 1)).map((cursor) => ({ query: { cursor }, statuses: [400] })),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ query: { cursor: Buffer.from(b).toString('base64url') }, statuses: [400] })),
    fc
      .constantFrom<unknown>('not json', null, [], {}, { list: 'statements' }, { list: 'instances', key: {} }, { list: 'statements', key: { listKind: 'INSTANCE', listAt: 'x', pk: 'x', sk: '#HEADER' } }, {
        list: 'statements',
        key: { listKind: STATEMENT_LIST_KIND, listAt: '2026-01', pk: 'STATEMENT#2026-01', sk: '#VERSION' },
      }, { list: 'statements', key: { listKind: STATEMENT_LIST_KIND, listAt: '2026-01', pk: 'STATEMENT#2026-01', sk: '#HEADER', extra: 'x' } }, { list: 'statements', key: { listKind: STATEMENT_LIST_KIND, listAt: '', pk: 'STATEMENT#2026-01', sk: '#HEADER' } }, { list: 'statements', key: { listKind: STATEMENT_LIST_KIND, listAt: 5, pk: 'STATEMENT#2026-01', sk: '#HEADER' } })
      .map((v) => ({ query: { cursor: b64url(v) }, statuses: [400] })),
    fc
      .tuple(
        fc.oneof(neverRunMonth, notStartedMonth, anyText(30, 1), loneSurrogate, fc.constantFrom('2026-13', '9999-12', '0000-00', '#', 'x'.repeat(1024))),
        fc.oneof(fc.constant('consistent'), anyText(30, 1), loneSurrogate, fc.constantFrom('STATEMENT#', 'INSTANCE#x', '#HEADER', 'x'.repeat(1024))),
      )
      .map(([listAt, pk]) => ({
        query: { cursor: b64url({ list: 'statements', key: { listKind: STATEMENT_LIST_KIND, listAt, pk: pk === 'consistent' ? `STATEMENT#${listAt}` : pk, sk: '#HEADER' } }), limit: '2' },
        statuses: [200, 400],
      })),
  )
  .map(({ query, statuses }) => (): SellerTry => ({ method: 'GET', path: '/seller/statements', query, statuses, ids: [] }));

/** Bodies that are not JSON (400) on the supervision routes, or past the size limit (413) there and on the bill upload. */
const supervisionBodyTries: fc.Arbitrary<TryBuild> = fc.oneof(
  fc.tuple(notJson, fc.constantFrom<'proofs' | 'transitions'>('proofs', 'transitions'), fc.boolean(), fc.boolean(), fc.nat()).map(([text, tail, base64, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
    const line = anyLine(ctx, elsewhere, pick);
    return {
      method: 'POST',
      path: supervisionPath(line, tail),
      body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text,
      ...(base64 ? { base64: true } : {}),
      statuses: [400],
      ids: [line.orderId, line.orderLineId],
    };
  }),
  fc
    .tuple(fc.constantFrom('proofs', 'transitions', 'reconciliation'), validProof, fc.integer({ min: 1, max: 300_000 }), fc.constantFrom('x', '中', '😀'), fc.boolean(), fc.nat())
    .map(([where, proof, extra, pad, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
      const line = anyLine(ctx, elsewhere, pick);
      const base: Body = where === 'proofs' ? proof(ctx.fixture) : where === 'transitions' ? { action: 'closeAppeal', reason: 'x' } : { size: 1, sha256: hexDigest('x') };
      const body = JSON.stringify({ ...base, pad: pad.repeat(Math.ceil((ctx.fixture.sellerMaxBodyBytes + extra) / Buffer.byteLength(pad))) });
      return where === 'reconciliation'
        ? periodTry('POST reconciliation', NEVER_RUN_MONTH, [413], [NEVER_RUN_MONTH], body)
        : { method: 'POST', path: supervisionPath(line, where), body, statuses: [413], ids: [line.orderId, line.orderLineId] };
    }),
);

/**
 * Bad input on the supervision and statement routes, with a key of every scope. Nothing of it may change state: no
 * valid proof request or decision is sent where a flow would take it, no valid run, close or bill upload is sent for a
 * month that would take it (a run of a started month would start; only months not started are run).
 */
const sellerSupervisionStatements = sellerRecipe(
  'seller: bad supervision/statement input',
  fc
    .oneof(
      { arbitrary: proofRequestTries, weight: 5 },
      { arbitrary: transitionTries, weight: 6 },
      { arbitrary: idTries, weight: 3 },
      { arbitrary: noFlowTries, weight: 1 },
      { arbitrary: supervisionBodyTries, weight: 2 },
      { arbitrary: statementTries, weight: 6 },
      { arbitrary: statementListTries, weight: 2 },
    )
    .map((build) => (ctx: BuildContext) => {
      const t = build(ctx);
      return {
        event: sellerEvent({
          method: t.method,
          path: t.path,
          authorization: bearer(ctx.fixture.sellerKeys.full),
          ...(t.query ? { query: t.query } : {}),
          body: t.body,
          ...(t.base64 ? { base64: true } : {}),
        }),
        expect: { statuses: t.statuses },
        ids: t.ids,
      };
    }),
);

// ---------------------------------------------------------------------------------------------------------------
// All generators

export const GENERATORS: { recipe: fc.Arbitrary<Recipe>; weight: number }[] = [
  { recipe: produceInvalidFields, weight: 12 },
  { recipe: produceUnicode, weight: 5 },
  { recipe: produceDeepJson, weight: 3 },
  { recipe: produceRandomBytes, weight: 5 },
  { recipe: produceOversized, weight: 2 },
  { recipe: produceBadSignature, weight: 6 },
  { recipe: produceMutated, weight: 8 },
  { recipe: v1BadQuery, weight: 4 },
  { recipe: v1SignedInvalid, weight: 4 },
  { recipe: v1Mutated, weight: 4 },
  { recipe: sellerBadAuth, weight: 6 },
  { recipe: sellerBadPaths, weight: 4 },
  { recipe: sellerBadPathParams, weight: 3 },
  { recipe: sellerBadQuery, weight: 7 },
  { recipe: sellerBadCursor, weight: 5 },
  { recipe: sellerBadJson, weight: 4 },
  { recipe: sellerWrongTypes, weight: 4 },
  { recipe: sellerHugeArrays, weight: 2 },
  { recipe: sellerGarbageRecords, weight: 5 },
  { recipe: sellerSupervisionStatements, weight: 14 },
];

export const recipes: fc.Arbitrary<Recipe> = fc.oneof(...GENERATORS.map(({ recipe, weight }) => ({ arbitrary: recipe, weight })));

/** Recipes in chunks (each from its own seed, so a run of N is the first N of any longer run with the same seed). */
export function* recipeStream(seed: number, runs: number, chunk = 200): Generator<Recipe> {
  for (let done = 0, n = 0; done < runs; n++) {
    const size = Math.min(chunk, runs - done);
    for (const recipe of fc.sample(recipes, { seed: (seed + n * 7919) | 0, numRuns: size })) yield recipe;
    done += size;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sending and judging

export interface Outcome {
  case: Case;
  correlationId: string;
  ok: boolean;
  /** The handler threw, or answered 5xx, 000005 or something that is not JSON. */
  crash: boolean;
  problem?: string;
  status?: number;
  body?: string;
  resultCode?: string;
  serverErrors?: string[];
}

/** Server error log lines by correlation id, while the log is captured. */
const serverErrors = new Map<string, string[]>();

/**
 * Silences the functions' logs (10 000 refusals would bury the report) and keeps their error lines, by correlation id,
 * to show beside a failing input. Returns the function that puts the log back.
 */
export function captureServerLog(): () => void {
  const saved = { ...log };
  log.info = () => {};
  log.warn = () => {};
  log.error = (message, extra) => {
    const id = typeof extra?.correlationId === 'string' ? extra.correlationId : '?';
    const lines = serverErrors.get(id) ?? [];
    if (lines.length < 5) lines.push(`${message} ${JSON.stringify(extra ?? {}).slice(0, 400)}`);
    serverErrors.set(id, lines);
  };
  return () => Object.assign(log, saved);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function judgeProduce(c: ProduceCase, res: APIGatewayProxyStructuredResultV2, accessKey: string): Pick<Outcome, 'ok' | 'crash' | 'problem' | 'resultCode'> {
  const body = typeof res.body === 'string' ? res.body : '';
  const json = parseJson(body);
  if (res.statusCode !== 200) return { ok: false, crash: (res.statusCode ?? 0) >= 500, problem: `HTTP ${res.statusCode}` };
  if (!isRecord(json) || typeof json.resultCode !== 'string' || typeof json.resultMsg !== 'string') return { ok: false, crash: true, problem: 'not a JSON answer with resultCode and resultMsg' };
  const resultCode = json.resultCode;
  if (resultCode === '000005') return { ok: false, crash: true, problem: 'answered 000005', resultCode };
  if (!c.expect.includes(resultCode)) return { ok: false, crash: false, problem: `answered ${resultCode}, expected ${c.expect.join(' or ')}`, resultCode };
  const headers = (res.headers ?? {}) as Record<string, unknown>;
  if (!String(headers['Content-Type'] ?? '').startsWith('application/json')) return { ok: false, crash: false, problem: 'Content-Type is not JSON', resultCode };
  if (headers['Body-Sign'] !== bodySignHeader(accessKey, body)) return { ok: false, crash: false, problem: 'Body-Sign missing or wrong', resultCode };
  return { ok: true, crash: false, resultCode };
}

function judgeSeller(c: SellerCase, res: APIGatewayProxyStructuredResultV2): Pick<Outcome, 'ok' | 'crash' | 'problem'> {
  const status = res.statusCode ?? 0;
  const json = parseJson(typeof res.body === 'string' ? res.body : '');
  if (status >= 500) return { ok: false, crash: true, problem: `HTTP ${status}` };
  if (!isRecord(json)) return { ok: false, crash: false, problem: `HTTP ${status} without a JSON object` };
  if ('allRejected' in c.expect) {
    const n = c.expect.allRejected;
    const results = Array.isArray(json.results) ? (json.results as unknown[]) : [];
    const allRejected = results.length === n && results.every((r, i) => isRecord(r) && r.status === 'rejected' && r.index === i && isRecord(r.reason) && typeof r.reason.code === 'string');
    if (status !== 200 || json.accepted !== 0 || json.duplicates !== 0 || json.retry !== 0 || json.rejected !== n || !allRejected) {
      return { ok: false, crash: false, problem: `HTTP ${status}, expected 200 with all ${n} records rejected` };
    }
    return { ok: true, crash: false };
  }
  if (!c.expect.statuses.includes(status)) return { ok: false, crash: false, problem: `HTTP ${status}, expected ${c.expect.statuses.join(' or ')}` };
  if (status === 200) return { ok: true, crash: false };
  const error = json.error;
  if (!isRecord(error) || typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '') {
    return { ok: false, crash: false, problem: `HTTP ${status} without {"error": {"code", "message"}}` };
  }
  if ((ERROR_STATUS as Record<string, number>)[error.code] !== status) return { ok: false, crash: false, problem: `error code ${error.code} with HTTP ${status}` };
  return { ok: true, crash: false };
}

/** Builds the request of a recipe now, sends it to the real handler, and judges the answer. */
export async function runRecipe(recipe: Recipe, fixture: Fixture, tag: string): Promise<Outcome> {
  const c = recipe.build({ fixture, nowMs: Date.now(), tag });
  const correlationId = tag;
  let res: APIGatewayProxyStructuredResultV2;
  try {
    res = await handlers[c.target](c.event, lambdaContext(correlationId, c.target));
  } catch (error) {
    return { case: c, correlationId, ok: false, crash: true, problem: `handler threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` };
  }
  const verdict = c.target === 'produce' ? judgeProduce(c, res, fixture.accessKey) : judgeSeller(c, res);
  const errors = serverErrors.get(correlationId);
  serverErrors.delete(correlationId);
  return {
    case: c,
    correlationId,
    ...verdict,
    status: res.statusCode ?? 0,
    body: typeof res.body === 'string' ? res.body : '',
    ...(errors ? { serverErrors: errors } : {}),
  };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
/** JSON string escapes show control characters and lone surrogates. */
const shown = (s: string, n: number) => JSON.stringify(clip(s, n));

/** A failing input, readable and short. */
export function describeOutcome(o: Outcome): string {
  const e = o.case.event;
  const lines = [
    `[${o.case.generator}] ${o.problem ?? ''}`,
    `  ${e.requestContext.http.method} ${shown(e.rawPath, 200)}${e.rawQueryString ? ` ?${shown(e.rawQueryString, 400)}` : ''}`,
  ];
  const auth = e.headers?.authorization ?? e.headers?.Authorization;
  if (auth !== undefined) lines.push(`  authorization: ${shown(auth, 120)}`);
  if (e.body !== undefined) lines.push(`  body${e.isBase64Encoded ? ' (base64)' : ''}: ${shown(e.body, 400)}`);
  lines.push(`  answer: HTTP ${o.status ?? '-'} ${shown(o.body ?? '', 300)}`);
  for (const line of o.serverErrors ?? []) lines.push(`  server log: ${line}`);
  lines.push(`  correlation id: ${o.correlationId}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Counting

export interface Counts {
  tried: number;
  correct: number;
  wrong: number;
  crashes: number;
}

export class Tally {
  readonly byTarget = new Map<Target, Counts>();
  readonly byGenerator = new Map<string, Counts & { target: Target }>();
  readonly failures: Outcome[] = [];
  /** Result codes (production interface) and statuses (seller API) given, per generator. */
  readonly answers = new Map<string, Map<string, number>>();

  add(o: Outcome): void {
    const bump = (c: Counts) => {
      c.tried++;
      if (o.ok) c.correct++;
      else c.wrong++;
      if (o.crash) c.crashes++;
    };
    const target = this.byTarget.get(o.case.target) ?? { tried: 0, correct: 0, wrong: 0, crashes: 0 };
    this.byTarget.set(o.case.target, target);
    bump(target);
    const gen = this.byGenerator.get(o.case.generator) ?? { target: o.case.target, tried: 0, correct: 0, wrong: 0, crashes: 0 };
    this.byGenerator.set(o.case.generator, gen);
    bump(gen);
    const answer = o.case.target === 'produce' ? (o.resultCode ?? `HTTP ${o.status ?? '-'}`) : String(o.status ?? '-');
    const seen = this.answers.get(o.case.generator) ?? new Map<string, number>();
    this.answers.set(o.case.generator, seen);
    seen.set(answer, (seen.get(answer) ?? 0) + 1);
    if (!o.ok) this.failures.push(o);
  }

  total(): Counts {
    const all = { tried: 0, correct: 0, wrong: 0, crashes: 0 };
    for (const c of this.byTarget.values()) {
      all.tried += c.tried;
      all.correct += c.correct;
      all.wrong += c.wrong;
      all.crashes += c.crashes;
    }
    return all;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// State

export type { Item };
export type Snapshot = Map<string, Item>;

const itemKey = (item: Item) => `${String(item.pk)}\n${String(item.sk)}`;

/** Every item of a table, by pk and sk (consistent reads, in parallel segments). */
export async function scanTable(client: DynamoDBClient, table: string, segments = 4): Promise<Snapshot> {
  const out: Snapshot = new Map();
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, Segment: segment, TotalSegments: segments, ConsistentRead: true, ExclusiveStartKey: start }));
        for (const raw of page.Items ?? []) {
          const item = unmarshall(raw);
          out.set(itemKey(item), item);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }),
  );
  return out;
}

export interface StateChange {
  kind: 'created' | 'changed' | 'deleted';
  pk: string;
  sk: string;
  item: Item;
}

/** A seller API key's lastUsedAt records that the key was used, which authenticating a refused request does. */
function comparable(item: Item): Item {
  if (String(item.pk).startsWith('APIKEY#')) {
    const { lastUsedAt: _l, ...rest } = item;
    return rest;
  }
  return item;
}

/** The NONCE# partition key a claimed nonce has (lib/store/keys.ts). */
export function noncePk(accessKey: string, nonce: string): string {
  return keys.nonce(keyId(accessKey), nonce).pk;
}

/**
 * The main table's changes between two snapshots, except what a refusal may write:
 *   - a nonce claim (NONCE#…) for a validly signed call whose parameters were refused (`allowedNonces`: partition
 *     keys); nonces that existed before are left out too (they only expire);
 *   - a seller API key's lastUsedAt (authenticating the request that was then refused is a use of the key).
 * `relevant` narrows the comparison to the items a run could have touched (on a table others write to as well).
 */
export function mainTableChanges(before: Snapshot, after: Snapshot, allowedNonces: ReadonlySet<string>, relevant: (item: Item) => boolean = () => true): { changes: StateChange[]; nonceClaims: number } {
  const changes: StateChange[] = [];
  let nonceClaims = 0;
  for (const [key, item] of after) {
    const pk = String(item.pk);
    const old = before.get(key);
    if (pk.startsWith('NONCE#')) {
      if (old) continue;
      if (allowedNonces.has(pk)) nonceClaims++;
      else if (relevant(item)) changes.push({ kind: 'created', pk, sk: String(item.sk), item });
      continue;
    }
    if (!relevant(item) && !(old && relevant(old))) continue;
    if (!old) changes.push({ kind: 'created', pk, sk: String(item.sk), item });
    else if (!isDeepStrictEqual(comparable(old), comparable(item))) changes.push({ kind: 'changed', pk, sk: String(item.sk), item });
  }
  for (const [key, item] of before) {
    if (after.has(key) || String(item.pk).startsWith('NONCE#') || !relevant(item)) continue;
    changes.push({ kind: 'deleted', pk: String(item.pk), sk: String(item.sk), item });
  }
  return { changes, nonceClaims };
}

/**
 * The message-log records of the run against the answers given (law 6): exactly one per production-interface call,
 * with the result code it was answered; nothing else. `records` are the audit items the run's calls could have made.
 */
export function auditProblems(records: Item[], answered: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const r of records) {
    const id = String(r.correlationId);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const code = answered.get(id);
    if (code === undefined) problems.push(`message-log record ${String(r.pk)} ${String(r.sk)} is for no call of this run`);
    else if (r.resultCode !== code) problems.push(`message-log record of ${id} says ${String(r.resultCode)}, the call was answered ${code}`);
  }
  for (const [id, n] of seen) if (n > 1) problems.push(`${n} message-log records for ${id}`);
  let missing = 0;
  for (const id of answered.keys()) if (!seen.has(id) && missing++ < 5) problems.push(`no message-log record for ${id}`);
  if (missing > 5) problems.push(`… ${missing} calls without a message-log record in all`);
  return problems;
}

/** The message-log records whose correlation id starts with `prefix`, in the day partitions from `fromMs` to `toMs`. */
export async function auditRecordsOf(client: DynamoDBClient, table: string, prefix: string, fromMs: number, toMs: number): Promise<Item[]> {
  const days = new Set<string>();
  for (let t = fromMs - 86_400_000; t <= toMs + 86_400_000; t += 3_600_000) days.add(new Date(t).toISOString().slice(0, 10));
  const filter = { expression: 'begins_with(correlationId, :prefix)', values: { ':prefix': prefix } };
  const out: Item[] = [];
  for (const day of days) out.push(...(await queryPartition(client, table, `MSG#${day}`, filter)));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The run's own instances, keys and cursors

async function send(target: Target, event: APIGatewayProxyEventV2, correlationId: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await handlers[target](event, lambdaContext(correlationId, target));
  const json = parseJson(typeof res.body === 'string' ? res.body : '');
  return { status: res.statusCode ?? 0, json: isRecord(json) ? json : {} };
}

/**
 * Creates what the generators aim at, through the real handlers and stores: `instances` ACTIVE instances renewed to
 * a far expiry as `productId`, a supervision flow awaiting delivery on an order line of the first, three seller API
 * keys (every scope; LIMITED_KEY_SCOPES only; revoked), and one real cursor of each listing.
 */
export async function prepareFixture(options: { prefix: string; accessKey: string; productId: string; instances?: number }): Promise<Fixture> {
  const { prefix, accessKey } = options;
  if (!/^[A-Za-z0-9-]{1,40}$/.test(prefix)) throw new Error(`prefix must be 1 to 40 of A-Z a-z 0-9 -, got ${JSON.stringify(prefix)}`);
  const cfg = config();
  const instances: Fixture['instances'] = [];
  for (let i = 0; i < (options.instances ?? 3); i++) {
    const orderId = `${prefix}-seed${i}`;
    const created = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: `${prefix}-seed${i}`, testFlag: '0' };
    const renewal = { activity: 'refreshInstance', scene: 'RENEWAL', orderId: `${orderId}-r`, orderLineId: `${orderId}-r-000001`, instanceId: created.businessId, productId: options.productId, expireTime: '20991231235959' };
    for (const [n, body] of [created, renewal].entries()) {
      const { raw, query } = signedV2(accessKey, body, Date.now(), `${prefix}-seed-${i}-${n}`);
      const answer = await send('produce', produceEvent(raw, query), `${prefix}-seed-${i}-${n}`);
      if (answer.json.resultCode !== '000000') throw new Error(`seeding ${body.activity} answered ${JSON.stringify(answer.json)}`);
    }
    instances.push({ instanceId: created.businessId, orderId, orderLineId: created.orderLineId });
  }
  const store = apiKeyStore(dynamoClient(), cfg.MAIN_TABLE);
  const now = Date.now();
  const full = (await store.create({ name: `${prefix}-full`, scopes: [...SCOPES], now })).secret;
  const limited = (await store.create({ name: `${prefix}-limited`, scopes: [...LIMITED_KEY_SCOPES], now })).secret;
  const revokedKey = await store.create({ name: `${prefix}-revoked`, scopes: [...SCOPES], now });
  await store.revoke(revokedKey.key.keyId, now);

  // The supervised order line: a flow as the worker creates it for a supervised product's new order.
  const supervised = { orderId: `${prefix}-sup`, orderLineId: `${prefix}-sup-000001`, instanceId: instances[0]!.instanceId };
  const flows = supervisionStore(dynamoClient(), { main: cfg.MAIN_TABLE });
  const flow = newSupervision({ ...supervised, productId: options.productId, enablingCloud: false, requiredKinds: ['deployment'] }, new Date(now).toISOString());
  const created = await flows.commit(flows.createWrites(flow.record, flow.entry));
  if (!created.ok) throw new Error(`seeding the supervision flow of ${supervised.orderId}/${supervised.orderLineId} failed: ${JSON.stringify(created)}`);

  const cursor = async (path: string) => {
    const page = await send('seller', sellerEvent({ method: 'GET', path, authorization: bearer(full), query: { limit: '1' } }), `${prefix}-cursor`);
    return typeof page.json.nextCursor === 'string' ? page.json.nextCursor : undefined;
  };
  const fixture: Fixture = {
    prefix,
    accessKey,
    maxBodyBytes: cfg.MAX_BODY_BYTES,
    sellerMaxBodyBytes: cfg.SELLER_MAX_BODY_BYTES,
    proofMaxBytes: cfg.PROOF_MAX_BYTES,
    statementTimeZone: cfg.SETTLEMENT_TIME_ZONE,
    instances,
    supervised,
    sellerKeys: { full, limited, revoked: revokedKey.secret },
    cursors: {},
  };
  const instancesCursor = await cursor('/seller/instances');
  const messagesCursor = await cursor('/seller/messages');
  if (instancesCursor) fixture.cursors.instances = instancesCursor;
  if (messagesCursor) fixture.cursors.messages = messagesCursor;
  return fixture;
}
