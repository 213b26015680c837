import { createHash, randomUUID } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, supervisionSettings } from '#lib/config.ts';
import type { Instance, OrderTerms } from '#lib/instances/model.ts';
import type { Log } from '#lib/log.ts';
import { handleSellerRequest, type RouterContext } from '#lib/seller-api/router.ts';
import { supervisionRoutes, type SupervisionRouteDeps } from '#lib/seller-api/routes/supervision.ts';
import { billingRecorder } from '#lib/settlement/billingFacts.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import type { SupervisionRecord } from '#lib/supervision/model.ts';
import { newProofId, proofObjectKey, quarantineKey, type ProofKind } from '#lib/supervision/proofs.ts';
import { supervisionDeps } from '#lib/supervision/deps.ts';
import type { SupervisionDeps } from '#lib/supervision/ports.ts';
import { proofReceived, type ReceivedOutcome } from '#lib/supervision/proofCheck.ts';
import type { SupervisionViewAnswer } from '#lib/supervision/view.ts';
import { newSupervision } from '#lib/supervision/stateMachine.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../scripts/local/emulators.ts';
import { startS3Gateway, type S3Gateway } from '../../scripts/local/s3-gateway.ts';
import { env, uniqueId } from '../helpers/produce.ts';
import { storedInstance } from '../helpers/instances.ts';
import { keys, sellerKey } from '../helpers/seller.ts';
import { hashApiKey, keyIdOf } from '#lib/seller-api/apiKeys.ts';

/** The name of the key a secret belongs to. */
async function keyName(secret: string): Promise<string> {
  const verdict = await keys().authenticate(secret, Date.now());
  if (!verdict.ok) throw new Error('not a key');
  return verdict.key.name;
}

/**
 * Service supervision end to end against DynamoDB Local and fauxqs behind the local S3 front: the seller API's
 * routes (real router, key auth, validation), presigned POST uploads checked by the front as S3 checks them, the
 * front's ObjectCreated events delivered to the proof check, the state machine's path with appeals, and the order
 * line becoming billable on acceptance.
 */

const PRODUCT = `SUPERVISED-${Date.now()}`;
const ENABLING_PRODUCT = `SUPERVISED-EC-${Date.now()}`;
const PLAIN_PRODUCT = `PLAIN-${Date.now()}`;
const MAX_BYTES = 64 * 1024;
const BUCKET = process.env.FILES_BUCKET || 'koogallery-isv-test-filesbucket';

const logged: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
const recordingLog: Log = {
  info: (message, extra) => logged.push({ level: 'info', message, ...(extra ? { extra } : {}) }),
  warn: (message, extra) => logged.push({ level: 'warn', message, ...(extra ? { extra } : {}) }),
  error: (message, extra) => logged.push({ level: 'error', message, ...(extra ? { extra } : {}) }),
};

let gateway: S3Gateway;
let deps: SupervisionDeps;
/** Added to the clock of the flows (upload windows), not of the S3 front. */
let flowSkewMs = 0;
/** Added to the S3 front's clock (policy expiry, event times). */
let gatewaySkewMs = 0;
const delivered: S3Event[] = [];
const outcomes: ReceivedOutcome[] = [];
let context: RouterContext<SupervisionRouteDeps>;
let writeKey: string;
let readKey: string;

beforeAll(async () => {
  gateway = await startS3Gateway({
    upstream: env('AWS_ENDPOINT_URL_S3'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    now: () => Date.now() + gatewaySkewMs,
    log: () => {},
    notifications: [
      {
        bucket: BUCKET,
        prefix: 'proofs/',
        deliver: async (event) => {
          delivered.push(event);
          outcomes.push(...(await proofReceived(event, deps)));
        },
      },
    ],
  });
  const cfg = parseConfig({
    ...process.env,
    FILES_BUCKET: BUCKET,
    S3_FORCE_PATH_STYLE: 'true',
    SUPERVISED_PRODUCTS: `${PRODUCT},${ENABLING_PRODUCT}`,
    SUPERVISION_ENABLING_CLOUD_PRODUCTS: ENABLING_PRODUCT,
    SUPERVISION_REQUIRED_KINDS: 'acceptance',
    PROOF_MAX_BYTES: String(MAX_BYTES),
  });
  deps = {
    ...supervisionDeps(cfg, { endpoint: gateway.endpoint, region: LOCAL_REGION, log: recordingLog }),
    now: () => Date.now() + flowSkewMs,
  };
  context = {
    routes: supervisionRoutes,
    authenticate: (secret, now) => keys().authenticate(secret, now),
    deps: { supervision: deps },
    now: Date.now,
    maxBodyBytes: 1_048_576,
    actions: sellerActionLog(dynamoClient(), env('AUDIT_TABLE')),
    log: recordingLog,
  };
  writeKey = await sellerKey('proofs:write', 'supervision:decide', 'instances:read');
  readKey = await sellerKey('instances:read');
});

afterAll(async () => {
  await gateway?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function api(
  method: 'GET' | 'POST',
  path: string,
  options: { key?: string | null; body?: unknown; raw?: string; query?: Record<string, string> } = {},
): Promise<Answer> {
  const key = options.key === undefined ? writeKey : options.key;
  const response = await handleSellerRequest(
    {
      method,
      path,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      query: options.query ?? {},
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
      correlationId: randomUUID(),
    },
    context,
  );
  return { status: response.status, json: JSON.parse(response.body) as Record<string, unknown> };
}

const base = (line: Line) => `/seller/supervision/${encodeURIComponent(line.orderId)}/${encodeURIComponent(line.orderLineId)}`;

interface Line {
  orderId: string;
  orderLineId: string;
  instance: Instance;
}

/** An instance of a product provisioned as the worker does it: order line claim, then the recorder's writes. */
async function provisioned(productId: string): Promise<Line> {
  const at = new Date().toISOString();
  const instance = await storedInstance('sup', { productId }, at);
  const { orderId, orderLineId } = instance;
  const order: OrderTerms = { orderId, orderLineId, productId, amount: '100.00', currency: 'CNY', chargingMode: 'PERIOD' };
  const cfg = parseConfig({
    ...process.env,
    SUPERVISED_PRODUCTS: `${PRODUCT},${ENABLING_PRODUCT}`,
    SUPERVISION_ENABLING_CLOUD_PRODUCTS: ENABLING_PRODUCT,
  });
  const tables = { main: env('MAIN_TABLE') };
  const recorder = billingRecorder({
    billing: billingStore(dynamoClient(), tables),
    supervision: supervisionStore(dynamoClient(), tables),
    supervisionSettings: supervisionSettings(cfg),
    timeZone: 'Asia/Shanghai',
    currency: 'CNY',
  });
  const billing = await recorder.orderWrites(instance, order, 'newInstance', undefined, at);
  expect((await deps.store.commit(billing)).ok).toBe(true);
  return { orderId, orderLineId, instance };
}

/** A flow created directly through the store, for required kinds the configuration does not give. */
async function flowWith(requiredKinds: ProofKind[]): Promise<Line> {
  const line = await provisioned(PLAIN_PRODUCT);
  const created = newSupervision(
    {
      orderId: line.orderId,
      orderLineId: line.orderLineId,
      instanceId: line.instance.instanceId,
      productId: PLAIN_PRODUCT,
      enablingCloud: false,
      requiredKinds,
    },
    new Date().toISOString(),
  );
  expect((await deps.store.commit(deps.store.createWrites(created.record, created.entry))).ok).toBe(true);
  return line;
}

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR png body of a screenshot')]);
const pdf = (text = 'acceptance document') => Buffer.from(`%PDF-1.4\n% ${text} ${randomUUID()}\n%%EOF\n`);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Requested {
  proofId: string;
  key: string;
  upload: { url: string; fields: Record<string, string>; expiresAt: string };
}

function requestBody(
  bytes: Buffer,
  fields: Partial<{ kind: ProofKind; fileName: string; contentType: string; size: number; sha256: string; serviceStartAt: string }> = {},
) {
  return {
    kind: 'acceptance',
    fileName: 'acceptance.pdf',
    contentType: 'application/pdf',
    size: bytes.length,
    sha256: sha256(bytes),
    ...fields,
  };
}

async function requestUpload(line: Line, body: Record<string, unknown>): Promise<Requested> {
  const answer = await api('POST', `${base(line)}/proofs`, { body });
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return answer.json as unknown as Requested;
}

/** POSTs the form with `file`, as a browser would; waits for the front's event to be handled. */
async function post(
  requested: Requested,
  file: Buffer,
  contentType: string,
  fieldChanges: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...requested.upload.fields, ...fieldChanges })) form.append(name, value);
  form.append('file', new Blob([file], { type: contentType }), 'upload.bin');
  const response = await fetch(requested.upload.url, { method: 'POST', body: form });
  const text = await response.text();
  await gateway.idle();
  return { status: response.status, text };
}

/** Request, upload, check: the proof's id. */
async function upload(line: Line, bytes: Buffer, fields: Parameters<typeof requestBody>[1] = {}): Promise<string> {
  const requested = await requestUpload(line, requestBody(bytes, fields));
  const stored = await post(requested, bytes, fields.contentType ?? 'application/pdf');
  expect(stored.status, stored.text).toBe(204);
  return requested.proofId;
}

/** Puts an object directly (as a holder of bucket credentials could), through the front so its event is sent. */
async function putDirectly(key: string, bytes: Buffer, contentType = 'application/pdf'): Promise<void> {
  await deps.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes, ContentType: contentType }));
  await gateway.idle();
}

async function exists(key: string): Promise<boolean> {
  try {
    await deps.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function view(line: Line): Promise<SupervisionViewAnswer> {
  const answer = await api('GET', `${base(line)}/proofs`, { key: readKey });
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  return answer.json as unknown as SupervisionViewAnswer;
}

const proofOf = (v: SupervisionViewAnswer, proofId: string) => v.proofs.find((p) => p.proofId === proofId);

async function transition(line: Line, body: unknown): Promise<Answer> {
  return api('POST', `${base(line)}/transitions`, { body });
}

async function state(line: Line): Promise<SupervisionRecord> {
  const record = await deps.store.get(line.orderId, line.orderLineId);
  expect(record).toBeDefined();
  return record!;
}

// ---------------------------------------------------------------------------------------------------------------

describe('a delivery proof uploaded end to end', () => {
  it('is verified from its bytes and moves the flow to PROOF_SUBMITTED with the declared service start', async () => {
    const line = await provisioned(PRODUCT);
    expect((await state(line)).state).toBe('AWAITING_DELIVERY');
    const bytes = pdf();
    const requested = await requestUpload(line, requestBody(bytes, { serviceStartAt: '2026-02-01T08:00:00+08:00' }));

    // The server chose the key under the order line's prefix; the form signs exactly it.
    expect(requested.key).toBe(proofObjectKey(line.orderId, line.orderLineId, requested.proofId));
    expect(requested.upload.fields.key).toBe(requested.key);
    expect(requested.upload.url.startsWith(gateway.endpoint)).toBe(true);
    expect(Date.parse(requested.upload.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect((await view(line)).proofs[0]).toMatchObject({ proofId: requested.proofId, state: 'AWAITING_UPLOAD', round: 1 });

    const stored = await post(requested, bytes, 'application/pdf');
    expect(stored.status).toBe(204);

    const after = await view(line);
    const proof = proofOf(after, requested.proofId)!;
    expect(proof).toMatchObject({ state: 'VERIFIED', kind: 'acceptance', size: bytes.length, sha256: sha256(bytes) });
    expect(after.supervision).toMatchObject({ state: 'PROOF_SUBMITTED', round: 1, serviceStartAt: '2026-02-01T00:00:00.000Z' });
    expect(after.currentRound).toEqual({ round: 1, requiredKinds: ['acceptance'], verifiedKinds: ['acceptance'], missingKinds: [] });
    expect(after.history.map((h) => [h.actor, h.action, h.from, h.to])).toEqual([
      ['system', 'created', undefined, 'AWAITING_DELIVERY'],
      ['system', 'proofSubmitted', 'AWAITING_DELIVERY', 'PROOF_SUBMITTED'],
    ]);
    expect(after.history[1]!.proofIds).toEqual([requested.proofId]);

    // The download link is short-lived and gives the bytes back.
    expect(proof.downloadUrl).toContain('X-Amz-Expires=300');
    const downloaded = await fetch(proof.downloadUrl!);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('waits for every required kind of the round', async () => {
    const line = await flowWith(['requirement', 'acceptance']);
    const acceptance = await upload(line, pdf());
    let v = await view(line);
    expect(proofOf(v, acceptance)!.state).toBe('VERIFIED');
    expect(v.supervision.state).toBe('AWAITING_DELIVERY');
    expect(v.currentRound.missingKinds).toEqual(['requirement']);

    const requirement = await upload(line, pdf('SOW'), { kind: 'requirement', fileName: 'sow.pdf' });
    v = await view(line);
    expect(v.supervision.state).toBe('PROOF_SUBMITTED');
    expect(v.history.at(-1)!.proofIds).toEqual([acceptance, requirement]);
  });

  it('answers a repeated event with nothing changed', async () => {
    const line = await provisioned(PRODUCT);
    const proofId = await upload(line, pdf());
    const event = delivered.find((e) => e.Records[0]!.s3.object.key.includes(proofId))!;
    const before = await view(line);
    expect(before.supervision.state).toBe('PROOF_SUBMITTED');

    const again = await proofReceived(event, deps);
    expect(again).toEqual([{ key: proofObjectKey(line.orderId, line.orderLineId, proofId), outcome: 'duplicate', proofId }]);
    const both = await Promise.all([proofReceived(event, deps), proofReceived(event, deps)]);
    expect(both.flat().map((o) => o.outcome)).toEqual(['duplicate', 'duplicate']);

    const after = await view(line);
    expect(after.supervision).toEqual(before.supervision);
    expect(after.history).toEqual(before.history);
    expect(after.proofs.map(({ downloadUrl: _u, downloadExpiresAt: _e, ...p }) => p)).toEqual(
      before.proofs.map(({ downloadUrl: _u, downloadExpiresAt: _e, ...p }) => p),
    );
  });
});

describe('uploads that are not the declared proof', () => {
  it('wrong checksum: the front refuses the form upload (BadDigest); bytes put directly are rejected and quarantined', async () => {
    const line = await provisioned(PRODUCT);
    const declared = pdf();
    const requested = await requestUpload(line, requestBody(declared));
    const other = Buffer.from(declared);
    other[other.length - 2] = 0x21;

    const refused = await post(requested, other, 'application/pdf');
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('BadDigest');
    expect(proofOf(await view(line), requested.proofId)!.state).toBe('AWAITING_UPLOAD');
    expect(await exists(requested.key)).toBe(false);

    await putDirectly(requested.key, other);
    const v = await view(line);
    expect(proofOf(v, requested.proofId)).toMatchObject({
      state: 'REJECTED',
      rejection: { reason: 'CHECKSUM_MISMATCH' },
      quarantineKey: quarantineKey(requested.key),
    });
    expect(proofOf(v, requested.proofId)!.downloadUrl).toBeUndefined();
    expect(await exists(requested.key)).toBe(false);
    expect(await exists(quarantineKey(requested.key))).toBe(true);
    expect(v.supervision.state).toBe('AWAITING_DELIVERY');
    expect(v.history).toHaveLength(1);
  });

  it('wrong size: a larger file is refused by the policy; a shorter object is rejected', async () => {
    const line = await provisioned(PRODUCT);
    const declared = pdf();
    const requested = await requestUpload(line, requestBody(declared));
    const larger = Buffer.concat([declared, Buffer.from('more')]);
    const refused = await post(requested, larger, 'application/pdf');
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('EntityTooLarge');

    await putDirectly(requested.key, declared.subarray(0, declared.length - 3));
    expect(proofOf(await view(line), requested.proofId)).toMatchObject({ state: 'REJECTED', rejection: { reason: 'SIZE_MISMATCH' } });
    expect(await exists(quarantineKey(requested.key))).toBe(true);
  });

  it('a PDF declared, PNG bytes sent: the sniffed type does not match, the proof is rejected', async () => {
    const line = await provisioned(PRODUCT);
    const requested = await requestUpload(line, requestBody(PNG, { contentType: 'application/pdf', fileName: 'acceptance.pdf' }));
    const stored = await post(requested, PNG, 'application/pdf');
    expect(stored.status).toBe(204);
    const v = await view(line);
    expect(proofOf(v, requested.proofId)).toMatchObject({ state: 'REJECTED', rejection: { reason: 'TYPE_MISMATCH' } });
    expect(v.supervision.state).toBe('AWAITING_DELIVERY');
    expect(await exists(requested.key)).toBe(false);
  });

  it('an expired form is refused by the front; an object arriving after the upload window is rejected', async () => {
    const line = await provisioned(PRODUCT);
    const bytes = pdf();
    const requested = await requestUpload(line, requestBody(bytes));
    gatewaySkewMs = 16 * 60_000;
    try {
      const refused = await post(requested, bytes, 'application/pdf');
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('Policy expired');
    } finally {
      gatewaySkewMs = 0;
    }
    expect(proofOf(await view(line), requested.proofId)!.state).toBe('AWAITING_UPLOAD');

    // Requested 30 minutes ago (by the flows' clock): its window closed long ago, grace included.
    flowSkewMs = -30 * 60_000;
    let late: Requested;
    try {
      late = await requestUpload(line, requestBody(bytes));
    } finally {
      flowSkewMs = 0;
    }
    await putDirectly(late.key, bytes);
    expect(proofOf(await view(line), late.proofId)).toMatchObject({ state: 'REJECTED', rejection: { reason: 'UPLOAD_EXPIRED' } });
    expect((await state(line)).state).toBe('AWAITING_DELIVERY');
  });

  it('a changed key is refused by the policy; objects nobody asked for are quarantined and change nothing', async () => {
    const line = await provisioned(PRODUCT);
    const other = await provisioned(PRODUCT);
    const bytes = pdf();
    const requested = await requestUpload(line, requestBody(bytes));
    const elsewhere = proofObjectKey(other.orderId, other.orderLineId, requested.proofId);
    const refused = await post(requested, bytes, 'application/pdf', { key: elsewhere });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Policy Condition failed');
    expect(await exists(elsewhere)).toBe(false);

    const before = await view(other);
    const unknownProof = proofObjectKey(other.orderId, other.orderLineId, newProofId());
    await putDirectly(unknownProof, bytes);
    await putDirectly(`proofs/${other.orderId}/not-a-proof-key`, bytes);
    await putDirectly(elsewhere, bytes);
    expect(
      outcomes.filter((o) => [unknownProof, `proofs/${other.orderId}/not-a-proof-key`, elsewhere].includes(o.key)).map((o) => o.outcome),
    ).toEqual(['quarantined', 'quarantined', 'quarantined']);
    for (const key of [unknownProof, `proofs/${other.orderId}/not-a-proof-key`, elsewhere]) {
      expect(await exists(key)).toBe(false);
      expect(await exists(quarantineKey(key))).toBe(true);
    }
    const after = await view(other);
    expect(after.supervision).toEqual(before.supervision);
    expect(after.proofs).toEqual([]);
    expect(proofOf(await view(line), requested.proofId)!.state).toBe('AWAITING_UPLOAD');

    // Keys outside proofs/ (statements, quarantine) are not the check's business.
    const statement: S3Event = JSON.parse(JSON.stringify(delivered.at(-1))) as S3Event;
    statement.Records[0]!.s3.object.key = 'statements/2026-01/v1/statement.csv';
    expect(await proofReceived(statement, deps)).toEqual([
      { key: 'statements/2026-01/v1/statement.csv', outcome: 'ignored', reason: 'not under proofs/' },
    ]);
  });
});

describe('upload requests refused', () => {
  it('422 for a type, size, checksum or name not accepted, and nothing is recorded', async () => {
    const line = await provisioned(PRODUCT);
    const bytes = pdf();
    const cases: [Record<string, unknown>, RegExp][] = [
      [requestBody(bytes, { contentType: 'text/html' }), /contentType is not accepted/],
      [requestBody(bytes, { contentType: 'application/x-msdownload', fileName: 'setup.exe' }), /contentType is not accepted/],
      [requestBody(bytes, { size: MAX_BYTES + 1 }), new RegExp(`size must be at most ${MAX_BYTES}`)],
      [requestBody(bytes, { size: 0 }), /size/],
      [requestBody(bytes, { sha256: 'abc' }), /sha256 must be 64 hex/],
      [requestBody(bytes, { fileName: '../etc/passwd' }), /fileName/],
      // Would make every later download link fail to encode.
      [requestBody(bytes, { fileName: 'report\ud800.pdf' }), /well-formed Unicode/],
      [requestBody(bytes, { kind: 'selfie' as ProofKind }), /kind/],
      [requestBody(bytes, { serviceStartAt: 'yesterday' }), /serviceStartAt/],
      [{ ...requestBody(bytes), key: 'proofs/mine' }, /key/],
      [{ kind: 'acceptance' }, /fileName/],
    ];
    for (const [body, message] of cases) {
      const answer = await api('POST', `${base(line)}/proofs`, { body });
      expect(answer.status, JSON.stringify(body)).toBe(422);
      expect((answer.json.error as { message: string }).message).toMatch(message);
    }
    expect((await view(line)).proofs).toEqual([]);
  });

  it('404 for an unknown order line and for a product that is not supervised, with a clear message', async () => {
    const body = requestBody(pdf());
    const unknown = { orderId: uniqueId('CS'), orderLineId: 'CS-nothing-000001' } as Line;
    for (const [method, suffix, payload] of [
      ['POST', '/proofs', body],
      ['GET', '/proofs', undefined],
      ['POST', '/transitions', { action: 'accept' }],
    ] as const) {
      const answer = await api(method, `${base(unknown)}${suffix}`, { body: payload });
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({ error: { code: 'not_found', message: `no order line ${unknown.orderId}/${unknown.orderLineId}` } });
    }

    const plain = await provisioned(PLAIN_PRODUCT);
    const answer = await api('POST', `${base(plain)}/proofs`, { body });
    expect(answer.status).toBe(404);
    expect((answer.json.error as { message: string }).message).toMatch(/has no service supervision: its product is not supervised/);
    expect(await deps.store.get(plain.orderId, plain.orderLineId)).toBeUndefined();
  });

  it('authenticates and checks scopes', async () => {
    const line = await provisioned(PRODUCT);
    expect((await api('POST', `${base(line)}/proofs`, { key: null, body: requestBody(pdf()) })).status).toBe(401);
    expect((await api('POST', `${base(line)}/proofs`, { key: readKey, body: requestBody(pdf()) })).status).toBe(403);
    expect((await api('POST', `${base(line)}/transitions`, { key: readKey, body: { action: 'accept' } })).status).toBe(403);
    const usageOnly = await sellerKey('usage:write');
    expect((await api('GET', `${base(line)}/proofs`, { key: usageOnly })).status).toBe(403);
    expect((await view(line)).proofs).toEqual([]);
  });
});

describe("decisions are the seller's", () => {
  /** The audit records of a key's actions on an order line, over the last hour. */
  const auditOf = async (secret: string, line: Line) =>
    (
      await sellerActionLog(dynamoClient(), env('AUDIT_TABLE')).list({
        from: new Date(Date.now() - 3_600_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
        actor: keyIdOf(hashApiKey(secret)),
        target: { name: 'orderLineId', value: line.orderLineId },
      })
    ).items;

  it('accept needs supervision:decide: proofs:write alone is refused and changes nothing; the history names the deciding key', async () => {
    const line = await provisioned(PRODUCT);
    await upload(line, pdf());
    const uploader = await sellerKey('proofs:write', 'instances:read');
    const refused = await api('POST', `${base(line)}/transitions`, { key: uploader, body: { action: 'accept' } });
    expect(refused.status).toBe(403);
    expect((refused.json.error as { message: string }).message).toBe('this API key lacks the scope "supervision:decide"');
    expect((await state(line)).state).toBe('PROOF_SUBMITTED');
    const billing = billingStore(dynamoClient(), { main: env('MAIN_TABLE') });
    expect((await billing.getFacts(line.orderId, line.orderLineId))!.facts.supervision).toEqual({});
    const refusedRecords = await auditOf(uploader, line);
    expect(refusedRecords).toHaveLength(1);
    expect(refusedRecords[0]).toMatchObject({
      actor: { kind: 'key', keyId: keyIdOf(hashApiKey(uploader)), name: await keyName(uploader) },
      action: 'supervision.accept',
      target: { orderId: line.orderId, orderLineId: line.orderLineId },
      result: { outcome: 'refused', status: 403, errorCode: 'forbidden' },
    });

    const decider = await sellerKey('supervision:decide');
    const accepted = await api('POST', `${base(line)}/transitions`, { key: decider, body: { action: 'accept', note: 'buyer confirmed' } });
    expect(accepted.status).toBe(200);
    const by = { kind: 'key', keyId: keyIdOf(hashApiKey(decider)), name: await keyName(decider) };
    expect(accepted.json.entry).toMatchObject({ actor: 'seller', by, action: 'accept' });
    expect((await view(line)).history.at(-1)).toMatchObject({ actor: 'seller', by, action: 'accept', to: 'ACCEPTED' });
    expect((await billing.getFacts(line.orderId, line.orderLineId))!.facts.supervision).toMatchObject({ acceptedBy: by });
    const records = await auditOf(decider, line);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ actor: by, action: 'supervision.accept', result: { outcome: 'ok', status: 200 } });
  });
});

describe('the flow with a rejection and an appeal', () => {
  it('AWAITING_DELIVERY → PROOF_SUBMITTED → REJECTED → PROOF_SUBMITTED → appeal → ACCEPTED, billable once accepted', async () => {
    const line = await provisioned(PRODUCT);
    const billing = billingStore(dynamoClient(), { main: env('MAIN_TABLE') });
    expect((await billing.getFacts(line.orderId, line.orderLineId))!.facts.supervision).toEqual({});

    const first = await upload(line, pdf('round 1'));
    expect((await state(line)).state).toBe('PROOF_SUBMITTED');

    const rejected = await transition(line, { action: 'reject', reason: 'the acceptance document is not signed' });
    expect(rejected.status).toBe(200);
    expect(rejected.json.supervision).toMatchObject({ state: 'REJECTED', round: 2, rejections: 1 });
    const writer = { kind: 'key', keyId: keyIdOf(hashApiKey(writeKey)), name: await keyName(writeKey) };
    expect(rejected.json.entry).toMatchObject({
      actor: 'seller',
      by: writer,
      action: 'reject',
      from: 'PROOF_SUBMITTED',
      to: 'REJECTED',
      round: 1,
    });
    // A repeat is harmless.
    expect((await transition(line, { action: 'reject', reason: 'again' })).json).toMatchObject({ unchanged: true });
    // Accepting a rejected round is not possible.
    expect((await transition(line, { action: 'accept' })).status).toBe(409);

    const second = await upload(line, pdf('round 2, signed'), { serviceStartAt: '2026-03-01T00:00:00Z' });
    let v = await view(line);
    expect(v.supervision).toMatchObject({ state: 'PROOF_SUBMITTED', round: 2 });
    expect(v.history.at(-1)).toMatchObject({ action: 'proofSubmitted', proofIds: [second], round: 2 });
    expect(proofOf(v, first)!.round).toBe(1);

    // The seller appeals (the buyer is idle), with a letter of commitment as evidence.
    const letter = await upload(line, pdf('letter of commitment'), { kind: 'appeal-evidence', fileName: 'letter.pdf' });
    const opened = await transition(line, { action: 'openAppeal', reason: 'buyer unreachable for 5 days', evidence: [letter] });
    expect(opened.status).toBe(200);
    expect(opened.json.entry).toMatchObject({
      actor: 'seller',
      by: writer,
      appellant: 'seller',
      action: 'openAppeal',
      from: 'PROOF_SUBMITTED',
      to: 'PROOF_SUBMITTED',
      evidence: [letter],
    });

    // Frozen: no acceptance, no delivery proof; appeal evidence is still welcome.
    const accept = await transition(line, { action: 'accept' });
    expect(accept.status).toBe(409);
    expect((accept.json.error as { message: string }).message).toMatch(/appeal .* is open/);
    const deliveryProof = await api('POST', `${base(line)}/proofs`, { body: requestBody(pdf()) });
    expect(deliveryProof.status).toBe(409);
    await upload(line, pdf('more evidence'), { kind: 'appeal-evidence', fileName: 'more.pdf' });
    expect((await billing.getFacts(line.orderId, line.orderLineId))!.facts.supervision).toEqual({});

    const closed = await transition(line, {
      action: 'closeAppeal',
      reason: 'operations manager asked the buyer to decide',
      outcome: 'upheld',
    });
    expect(closed.status).toBe(200);
    expect(closed.json.entry).toMatchObject({ actor: 'seller', by: writer, action: 'closeAppeal', outcome: 'upheld' });
    expect((closed.json.supervision as SupervisionRecord).appeal).toBeUndefined();

    const accepted = await transition(line, { action: 'accept', note: 'buyer confirmed' });
    expect(accepted.status).toBe(200);
    const record = accepted.json.supervision as SupervisionRecord;
    expect(record).toMatchObject({ state: 'ACCEPTED', serviceStartAt: '2026-03-01T00:00:00.000Z', acceptedBy: writer });
    expect((await transition(line, { action: 'accept' })).json).toMatchObject({ unchanged: true });

    v = await view(line);
    expect(v.effectiveServiceStart).toBe('2026-03-01T00:00:00.000Z');
    expect(v.history.map((h) => `${h.actor}:${h.action}:${h.from ?? '-'}→${h.to}`)).toEqual([
      'system:created:-→AWAITING_DELIVERY',
      'system:proofSubmitted:AWAITING_DELIVERY→PROOF_SUBMITTED',
      'seller:reject:PROOF_SUBMITTED→REJECTED',
      'system:proofSubmitted:REJECTED→PROOF_SUBMITTED',
      'seller:openAppeal:PROOF_SUBMITTED→PROOF_SUBMITTED',
      'seller:closeAppeal:PROOF_SUBMITTED→PROOF_SUBMITTED',
      'seller:accept:PROOF_SUBMITTED→ACCEPTED',
    ]);
    // Every decision names the key that recorded it; the system's entries name none.
    expect(v.history.map((h) => h.by?.kind ?? '-')).toEqual(['-', '-', 'key', '-', 'key', 'key', 'key']);
    expect(v.history.at(-1)!.by).toEqual(writer);
    expect(v.history.map((h) => h.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    // Settlement sees the line once accepted, with the declared service start.
    const facts = (await billing.getFacts(line.orderId, line.orderLineId))!.facts;
    expect(facts.supervision).toEqual({ completedAt: record.acceptedAt, serviceStartAt: '2026-03-01T00:00:00.000Z', acceptedBy: writer });

    // After acceptance only appeal evidence is accepted.
    const late = await api('POST', `${base(line)}/proofs`, { body: requestBody(pdf()) });
    expect(late.status).toBe(409);
    expect((late.json.error as { message: string }).message).toMatch(/accepted/);
    expect((await api('POST', `${base(line)}/proofs`, { body: requestBody(pdf(), { kind: 'appeal-evidence' }) })).status).toBe(200);
  });

  it('a proof verified while an appeal froze the flow counts once the appeal is closed', async () => {
    const line = await provisioned(PRODUCT);
    const bytes = pdf();
    const requested = await requestUpload(line, requestBody(bytes));
    const opened = await transition(line, { action: 'openAppeal', reason: 'buyer gave no requirement', appellant: 'buyer' });
    expect(opened.json.entry).toMatchObject({ actor: 'seller', appellant: 'buyer', action: 'openAppeal', to: 'AWAITING_DELIVERY' });

    expect((await post(requested, bytes, 'application/pdf')).status).toBe(204);
    let v = await view(line);
    expect(proofOf(v, requested.proofId)!.state).toBe('VERIFIED');
    expect(v.supervision).toMatchObject({ state: 'AWAITING_DELIVERY', appeal: { reason: 'buyer gave no requirement' } });

    const closed = await transition(line, { action: 'closeAppeal', reason: 'requirement confirmed', outcome: 'withdrawn' });
    expect(closed.json.supervision).toMatchObject({ state: 'PROOF_SUBMITTED' });
    v = await view(line);
    expect(v.history.slice(-2).map((h) => `${h.actor}:${h.action}`)).toEqual(['seller:closeAppeal', 'system:proofSubmitted']);
  });

  it('an enabling-cloud order is accepted after Huawei review', async () => {
    const line = await provisioned(ENABLING_PRODUCT);
    expect((await state(line)).enablingCloud).toBe(true);
    await upload(line, pdf());
    const early = await transition(line, { action: 'accept' });
    expect(early.status).toBe(409);
    expect((early.json.error as { message: string }).message).toMatch(/after Huawei review/);

    expect((await transition(line, { action: 'startReview' })).json.supervision).toMatchObject({ state: 'HUAWEI_REVIEW' });
    const accepted = await transition(line, { action: 'accept' });
    expect(accepted.json.entry).toMatchObject({
      actor: 'seller',
      by: { kind: 'key', keyId: keyIdOf(hashApiKey(writeKey)) },
      from: 'HUAWEI_REVIEW',
      to: 'ACCEPTED',
    });
    const facts = (await billingStore(dynamoClient(), { main: env('MAIN_TABLE') }).getFacts(line.orderId, line.orderLineId))!.facts;
    expect(facts.supervision?.completedAt).toBe((accepted.json.supervision as SupervisionRecord).acceptedAt);
  });

  it('startReview is refused for an ordinary order, and concurrent acceptances write once', async () => {
    const line = await provisioned(PRODUCT);
    await upload(line, pdf());
    expect((await transition(line, { action: 'startReview' })).status).toBe(409);

    const answers = await Promise.all([1, 2, 3].map(() => transition(line, { action: 'accept' })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => a.json.unchanged === false)).toHaveLength(1);
    const v = await view(line);
    expect(v.history.filter((h) => h.action === 'accept')).toHaveLength(1);
    expect(v.supervision.state).toBe('ACCEPTED');
  });
});

describe('flows listed by state', () => {
  type Listed = { items: SupervisionRecord[]; nextCursor?: string };

  async function page(query: Record<string, string>, key: string | null = readKey): Promise<Answer> {
    return api('GET', '/seller/supervision', { key, query });
  }

  /** Pages through one state's list (newest first) until every wanted flow was seen; their order in the list. */
  async function findInList(listState: string, wanted: Line[]): Promise<{ orderLineIds: string[]; pages: number }> {
    const ids = new Set(wanted.map((line) => line.orderLineId));
    const seen: SupervisionRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await page({ state: listState, limit: '2', ...(cursor ? { cursor } : {}) });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      const listed = answer.json as unknown as Listed;
      expect(listed.items.length).toBeLessThanOrEqual(2);
      seen.push(...listed.items);
      cursor = listed.nextCursor;
      pages += 1;
    } while (cursor && seen.filter((r) => ids.has(r.orderLineId)).length < ids.size && pages < 500);
    for (const record of seen) expect(record.state).toBe(listState);
    const times = seen.map((r) => r.updatedAt);
    expect(times).toEqual([...times].sort().reverse());
    return { orderLineIds: seen.filter((r) => ids.has(r.orderLineId)).map((r) => r.orderLineId), pages };
  }

  it('lists each state newest first, a page at a time, and a flow moves to its new state', async () => {
    const lines: Line[] = [];
    for (let i = 0; i < 3; i++) lines.push(await provisioned(PRODUCT));
    const waiting = await findInList('AWAITING_DELIVERY', lines);
    expect(waiting.orderLineIds).toEqual(lines.map((l) => l.orderLineId).reverse());
    expect(waiting.pages).toBeGreaterThan(1);

    const first = (await page({ state: 'AWAITING_DELIVERY', limit: '1' })).json as unknown as Listed;
    expect(first.items[0]).toMatchObject({ state: 'AWAITING_DELIVERY', version: expect.any(Number), round: 1 });
    expect(Object.keys(first.items[0]!)).not.toEqual(expect.arrayContaining(['listKind', 'listAt', 'pk', 'sk']));

    // The proof check moves the oldest to PROOF_SUBMITTED: it leaves the waiting list and heads the submitted one.
    await upload(lines[0]!, pdf());
    expect((await state(lines[0]!)).state).toBe('PROOF_SUBMITTED');
    expect((await findInList('AWAITING_DELIVERY', lines)).orderLineIds).toEqual([lines[2]!.orderLineId, lines[1]!.orderLineId]);
    const submitted = (await page({ state: 'PROOF_SUBMITTED', limit: '100' })).json as unknown as Listed;
    expect(submitted.items.map((r) => r.orderLineId)).toContain(lines[0]!.orderLineId);

    // A decision moves it again.
    expect((await transition(lines[0]!, { action: 'accept' })).status).toBe(200);
    expect((await findInList('ACCEPTED', [lines[0]!])).orderLineIds).toEqual([lines[0]!.orderLineId]);
    const stillSubmitted = (await page({ state: 'PROOF_SUBMITTED', limit: '100' })).json as unknown as Listed;
    expect(stillSubmitted.items.map((r) => r.orderLineId)).not.toContain(lines[0]!.orderLineId);
  });

  it('refuses a bad state, limit or cursor (400), a key without instances:read (403), no key (401)', async () => {
    await provisioned(PRODUCT);
    await provisioned(PRODUCT);
    const cursorOf = async (listState: string) => ((await page({ state: listState, limit: '1' })).json as unknown as Listed).nextCursor!;
    const waitingCursor = await cursorOf('AWAITING_DELIVERY');
    expect(waitingCursor).toEqual(expect.any(String));
    const uploadOnly = await sellerKey('proofs:write');
    const cases: [string, Answer, number][] = [
      ['unknown state', await page({ state: 'WAITING' }), 400],
      ['lower-case state', await page({ state: 'accepted' }), 400],
      ['no state', await page({}), 400],
      ['limit 0', await page({ state: 'ACCEPTED', limit: '0' }), 400],
      ['limit 101', await page({ state: 'ACCEPTED', limit: '101' }), 400],
      ['limit not a number', await page({ state: 'ACCEPTED', limit: 'ten' }), 400],
      ['unknown parameter', await page({ state: 'ACCEPTED', order: 'x' }), 400],
      ['garbage cursor', await page({ state: 'AWAITING_DELIVERY', cursor: 'not-a-cursor' }), 400],
      ['cursor of another state', await page({ state: 'ACCEPTED', cursor: waitingCursor }), 400],
      ['no instances:read', await page({ state: 'ACCEPTED' }, uploadOnly), 403],
      ['no key', await page({ state: 'ACCEPTED' }, null), 401],
    ];
    for (const [name, answer, status] of cases) {
      expect(answer.status, name).toBe(status);
      expect(answer.json.error, name).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    // The cursor still works for the state it was issued for.
    expect((await page({ state: 'AWAITING_DELIVERY', limit: '1', cursor: waitingCursor })).status).toBe(200);
  });
});

describe('bad input on every route changes nothing', () => {
  it('malformed JSON, unknown actions, missing or extra fields, bad ids', async () => {
    const line = await provisioned(PRODUCT);
    const before = await view(line);
    const cases: [string, Answer, number][] = [
      ['proofs: malformed JSON', await api('POST', `${base(line)}/proofs`, { raw: '{"kind": ' }), 400],
      ['proofs: not an object', await api('POST', `${base(line)}/proofs`, { raw: '[1,2]' }), 422],
      ['proofs: empty body', await api('POST', `${base(line)}/proofs`, { raw: '' }), 400],
      ['transitions: malformed JSON', await api('POST', `${base(line)}/transitions`, { raw: '{"action":' }), 400],
      ['transitions: unknown action', await transition(line, { action: 'approve' }), 422],
      ['transitions: no action', await transition(line, {}), 422],
      ['transitions: reject without reason', await transition(line, { action: 'reject' }), 422],
      ['transitions: blank reason', await transition(line, { action: 'reject', reason: '   ' }), 422],
      ['transitions: extra field', await transition(line, { action: 'accept', actor: 'system' }), 422],
      ['transitions: appeal without reason', await transition(line, { action: 'openAppeal' }), 422],
      ['transitions: evidence not a proof id', await transition(line, { action: 'openAppeal', reason: 'r', evidence: ['x'] }), 422],
      [
        'transitions: evidence of no verified proof',
        await transition(line, { action: 'openAppeal', reason: 'r', evidence: [newProofId()] }),
        422,
      ],
      ['transitions: bad outcome', await transition(line, { action: 'closeAppeal', reason: 'r', outcome: 'won' }), 422],
      ['transitions: close with no appeal', await transition(line, { action: 'closeAppeal', reason: 'r' }), 409],
      ['transitions: accept before proofs', await transition(line, { action: 'accept' }), 409],
      ['path: overlong id', await api('GET', `/seller/supervision/${'x'.repeat(200)}/${line.orderLineId}/proofs`, { key: readKey }), 400],
      ['path: bad encoding', await api('GET', `/seller/supervision/%E0%A4%A/${line.orderLineId}/proofs`, { key: readKey }), 400],
    ];
    for (const [name, answer, status] of cases) {
      expect(answer.status, name).toBe(status);
      expect(answer.json.error, name).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    const after = await view(line);
    expect(after.supervision).toEqual(before.supervision);
    expect(after.history).toEqual(before.history);
    expect(after.proofs).toEqual([]);
  });

  it('logs carry ids, never the API key or upload signatures', () => {
    const text = JSON.stringify(logged);
    expect(text).not.toContain(writeKey);
    expect(text).not.toContain(readKey);
    expect(text).not.toMatch(/X-Amz-Signature|x-amz-signature|Policy/);
  });
});
