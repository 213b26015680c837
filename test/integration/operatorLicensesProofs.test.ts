import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { parseConfig } from '#lib/config.ts';
import { sellerContext } from '#lib/seller-api/deps.ts';
import { keys } from '#lib/store/keys.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { supervisionDeps } from '#lib/supervision/deps.ts';
import type { SupervisionDeps } from '#lib/supervision/ports.ts';
import { proofReceived } from '#lib/supervision/proofCheck.ts';
import { newSupervision } from '#lib/supervision/stateMachine.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../scripts/local/emulators.ts';
import { startS3Gateway, type S3Gateway } from '../../scripts/local/s3-gateway.ts';
import type { OperatorActionRecord } from '../../scripts/operator/context.ts';
import { runKoogallery, type RunOptions } from '../../scripts/operator/main.ts';
import { storedInstance } from '../helpers/instances.ts';
import { testStackFile } from '../helpers/operator.ts';
import { env, uniqueId } from '../helpers/produce.ts';

/**
 * `koogallery licenses` and `koogallery proofs` against DynamoDB Local and fauxqs behind the local S3 front (whose
 * ObjectCreated events reach the proof check, as on AWS): each command, its refusals (bad input changes nothing) and
 * the record each change leaves.
 */

const PRODUCT = `CLI-SUPERVISED-${Date.now()}`;
const BUCKET = process.env.FILES_BUCKET || 'koogallery-isv-test-filesbucket';
const OPERATOR = 'local:ops@test-host';
const silent = { info: () => {}, warn: () => {}, error: () => {} };

const dir = mkdtempSync(join(tmpdir(), 'koogallery-cli-records-'));
const stackFile = join(dir, 'stack.json');
let gateway: S3Gateway;
let deps: SupervisionDeps;

beforeAll(async () => {
  const settings = {
    FILES_BUCKET: BUCKET,
    S3_FORCE_PATH_STYLE: 'true',
    SUPERVISED_PRODUCTS: PRODUCT,
    SUPERVISION_REQUIRED_KINDS: 'acceptance',
    PROOF_MAX_BYTES: String(64 * 1024),
    TEST_INSTANCE_TTL_DAYS: '3',
  };
  gateway = await startS3Gateway({
    upstream: env('AWS_ENDPOINT_URL_S3'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    log: () => {},
    notifications: [{ bucket: BUCKET, prefix: 'proofs/', deliver: async (event) => void (await proofReceived(event, deps)) }],
  });
  deps = supervisionDeps(parseConfig({ ...process.env, ...settings }), { endpoint: gateway.endpoint, region: LOCAL_REGION, log: silent });
  testStackFile(stackFile, { s3: gateway.endpoint, env: settings });
});

afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  code: number;
  out: string;
  err: string;
  records: OperatorActionRecord[];
}

async function cli(argv: string[], options: RunOptions = {}): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const records: OperatorActionRecord[] = [];
  const code = await runKoogallery(argv, {
    stackFile,
    io: { out: (l) => out.push(l), err: (l) => err.push(l) },
    record: async (r) => void records.push(r),
    principal: async () => OPERATOR,
    ...options,
  });
  return { code, out: out.join('\n'), err: err.join('\n'), records };
}

const outcomes = (ran: Ran) => ran.records.map((r) => [r.action, r.target, r.result]);

/** Every item under the license's partition (license, history), for "nothing changed" checks. */
async function licenseItems(code: string): Promise<Record<string, unknown>[]> {
  const out = await dynamoClient().send('Query', {
    TableName: env('MAIN_TABLE'),
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: marshall({ ':pk': keys.license(code).pk }),
    ConsistentRead: true,
  });
  return (out.Items ?? []).map((item) => unmarshall(item));
}

describe('koogallery licenses', () => {
  it('registers a code (its history names the operator), shows it, and refuses to register it again', async () => {
    const code = uniqueId('PL');
    const order = uniqueId('CS');
    const registered = await cli([
      'licenses',
      'register',
      code,
      '--order',
      order,
      '--line',
      `${order}-000001`,
      '--product',
      'P-1',
      '--expire',
      '20270101000000',
    ]);
    expect(registered.err).toBe('');
    expect(registered.code).toBe(0);
    expect(registered.out).toMatch(new RegExp(`^registered license ${code}\\n\\nlicense\\s+${code}\\nstate\\s+ACTIVE`));
    expect(outcomes(registered)).toEqual([['licenses.register', code, 'done']]);

    const shown = await cli(['licenses', 'show', code]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(new RegExp(`order\\s+${order} / ${order}-000001`));
    expect(shown.out).toMatch(new RegExp(`seller \\(${OPERATOR}\\)\\s+license\\.registered\\s+-\\s+ACTIVE\\s+${order}`));
    expect(shown.records).toEqual([]);
    const json = JSON.parse((await cli(['licenses', 'show', code, '--json'])).out) as { license: object; history: object[] };
    expect(json.license).toMatchObject({ license: code, state: 'ACTIVE', test: false, productId: 'P-1', expireTime: '20270101000000' });
    expect(json.history).toEqual([expect.objectContaining({ actor: 'seller', by: { kind: 'operator', principal: OPERATOR } })]);

    const before = await licenseItems(code);
    const again = await cli(['licenses', 'register', code, '--product', 'P-2']);
    expect(again.code).toBe(1);
    expect(again.err).toBe(`error: license "${code}" is already registered; it was not changed (see: koogallery licenses show ${code})`);
    expect(outcomes(again)).toEqual([['licenses.register', code, 'refused']]);
    expect(await licenseItems(code)).toEqual(before);

    const unknown = await cli(['licenses', 'show', 'PL-none']);
    expect([unknown.code, unknown.err]).toEqual([1, 'error: license "PL-none" is not registered: koogallery licenses register PL-none']);
  });

  it('a test code expires after the stack’s TEST_INSTANCE_TTL_DAYS', async () => {
    const code = uniqueId('PL');
    const now = Date.now();
    const ran = await cli(['licenses', 'register', code, '--test', '--json'], { now: () => now });
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.out)).toMatchObject({ license: code, test: true });
    const items = await licenseItems(code);
    expect(items).toHaveLength(2);
    for (const item of items) expect(item.expiresAt).toBe(Math.floor(now / 1000) + 3 * 24 * 3600);
  });

  const bad: [string, string[], RegExp][] = [
    ['no code', [], /^error: licenses register needs an argument/],
    ['a blank code', ['   '], /^error: <code>: must be 1 to 128 characters/],
    ['a malformed --expire', ['--expire', 'tomorrow'], /^error: --expire: must be yyyyMMddHHmmss/],
    ['an impossible --expire', ['--expire', '20271301000000'], /^error: --expire: is not a valid date and time/],
    ['an order line without its order', ['--line', 'CS-1-000001'], /^error: --line: an order line needs its order/],
    ['an unknown option', ['--owner', 'me'], /^error: Unknown option '--owner'/],
    ['--expire without a value', ['--expire'], /^error: Option '--expire <value>' argument missing/],
  ];
  for (const [name, extra, message] of bad) {
    it(`refuses ${name} with exit code 2 and the usage; nothing is registered`, async () => {
      const code = uniqueId('PL-bad');
      const argv = name === 'no code' || name === 'a blank code' ? [...extra] : [code, ...extra];
      const ran = await cli(['licenses', 'register', ...argv]);
      expect(ran.code).toBe(2);
      expect(ran.err).toMatch(message);
      expect(ran.err).toMatch(/usage: koogallery licenses register <code>/);
      expect(await licenseItems(code)).toEqual([]);
    });
  }

  it('writes the registration to the audit table as the operator’s action (the default recorder)', async () => {
    const code = uniqueId('PL');
    const from = new Date(Date.now() - 1_000).toISOString();
    expect((await cli(['licenses', 'register', code], { record: undefined })).code).toBe(0);
    const found = await sellerActionLog(dynamoClient(), env('AUDIT_TABLE')).list({
      from,
      to: new Date(Date.now() + 1_000).toISOString(),
      actor: OPERATOR,
      action: 'licenses.register',
    });
    expect(found.items.map((i) => [i.target, i.result, i.channel])).toContainEqual([{ id: code }, { outcome: 'ok' }, 'operator']);
  });
});

/** An ACTIVE instance of the supervised product with its supervision awaiting an acceptance proof. */
async function supervisedLine(): Promise<{ orderId: string; orderLineId: string }> {
  const instance = await storedInstance('cli-sup', { productId: PRODUCT });
  const { orderId, orderLineId, instanceId } = instance;
  const created = newSupervision(
    { orderId, orderLineId, instanceId, productId: PRODUCT, enablingCloud: false, requiredKinds: ['acceptance'] },
    new Date().toISOString(),
  );
  expect((await deps.store.commit(deps.store.createWrites(created.record, created.entry))).ok).toBe(true);
  return { orderId, orderLineId };
}

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR png body of a screenshot')]);
const file = (name: string, bytes: Buffer | string): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const pdf = (name: string) => file(name, `%PDF-1.4\n% ${name} ${randomUUID()}\n%%EOF\n`);

describe('koogallery proofs', () => {
  it('uploads a proof, waits for its check, and lists the order line with it; the upload is recorded', async () => {
    const line = await supervisedLine();
    const path = pdf('acceptance.pdf');
    const ran = await cli(['proofs', 'upload', path, '--order', line.orderId, '--line', line.orderLineId, '--kind', 'acceptance']);
    // stderr holds at most the progress lines of a slow upload or check.
    expect(ran.err).not.toMatch(/error|warning/);
    expect(ran.code).toBe(0);
    expect(ran.out).toMatch(/^verified proof \S+ \(acceptance\.pdf: \d+ bytes, application\/pdf, sha256 [0-9a-f]{64}\)\n/);
    expect(ran.out).toContain('supervision is PROOF_SUBMITTED (round 1)');
    expect(outcomes(ran)).toEqual([['proofs.upload', `${line.orderId}/${line.orderLineId}/acceptance.pdf`, 'done']]);
    expect(ran.records[0]!.actor).toBe(OPERATOR);

    const listed = await cli(['proofs', 'list', '--order', line.orderId, '--line', line.orderLineId]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/state\s+PROOF_SUBMITTED \(round 1\)/);
    expect(listed.out).toMatch(/\d\s+acceptance\s+VERIFIED\s+acceptance\.pdf/);
    const json = JSON.parse((await cli(['proofs', 'list', '--order', line.orderId, '--line', line.orderLineId, '--json'])).out) as {
      proofs: { state: string }[];
    };
    expect(json.proofs.map((p) => p.state)).toEqual(['VERIFIED']);
  });

  it('a rejected proof and an unknown order line are refused (exit code 1) and recorded so', async () => {
    const line = await supervisedLine();
    const opts = ['--order', line.orderId, '--line', line.orderLineId, '--kind', 'acceptance'];
    const forced = await cli(['proofs', 'upload', file('screenshot.png', PNG), ...opts, '--content-type', 'application/pdf']);
    expect(forced.code).toBe(1);
    expect(forced.err).toMatch(/^error: proof \S+ rejected: TYPE_MISMATCH/);
    expect(forced.records.map((r) => r.result)).toEqual(['refused']);

    const unknown = await cli(['proofs', 'upload', pdf('x.pdf'), '--order', 'CS-none', '--line', 'CS-none-1', '--kind', 'acceptance']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^error: .*CS-none/);
    expect(unknown.records.map((r) => r.result)).toEqual(['refused']);
    expect((await cli(['proofs', 'list', '--order', 'CS-none', '--line', 'CS-none-1'])).code).toBe(1);
  });

  const bad: [string, (path: string) => string[], RegExp][] = [
    ['no file', () => [], /^error: proofs upload needs an argument/],
    ['no --line', (p) => [p, '--order', 'CS-1', '--kind', 'acceptance'], /^error: --line is required/],
    ['no --kind', (p) => [p, '--order', 'CS-1', '--line', 'CS-1-1'], /^error: --kind is required \(one of .*acceptance/],
    ['an unknown kind', (p) => [p, '--order', 'CS-1', '--line', 'CS-1-1', '--kind', 'selfie'], /^error: input\.kind: /],
    [
      'a malformed --service-start',
      (p) => [p, '--order', 'CS-1', '--line', 'CS-1-1', '--kind', 'acceptance', '--service-start', 'soon'],
      /serviceStartAt/,
    ],
    [
      'a bad --timeout',
      (p) => [p, '--order', 'CS-1', '--line', 'CS-1-1', '--kind', 'acceptance', '--timeout', '0'],
      /^error: --timeout must be/,
    ],
    [
      'a file that is not there',
      () => [join(dir, 'absent.pdf'), '--order', 'CS-1', '--line', 'CS-1-1', '--kind', 'acceptance'],
      /^error: cannot read /,
    ],
    [
      'a file of no known type',
      () => [file('notes.txt', 'plain text'), '--order', 'CS-1', '--line', 'CS-1-1', '--kind', 'acceptance'],
      /give --content-type/,
    ],
  ];
  for (const [name, argv, message] of bad) {
    it(`refuses ${name} with exit code 2; nothing is recorded as uploaded`, async () => {
      const ran = await cli(['proofs', 'upload', ...argv(pdf('p.pdf'))]);
      expect(ran.code).toBe(2);
      expect(ran.err).toMatch(message);
      expect(ran.err).toMatch(/usage: koogallery proofs upload <file>/);
      expect(ran.records.filter((r) => r.result === 'done')).toEqual([]);
    });
  }
});

describe('the flows the CLI runs log through the CLI’s logger', () => {
  it('supervision too: no JSON log line from an upload request lands on stdout, between the answers', () => {
    const cfg = parseConfig({ ...process.env, FILES_BUCKET: BUCKET });
    expect(sellerContext(cfg, silent).deps.supervision.log).toBe(silent);
  });
});

describe('the npm aliases', () => {
  const npm = promisify(execFile);
  it('`npm run licenses` and `npm run proofs` run those areas of the CLI (help needs no stack)', async () => {
    const licenses = await npm('npm', ['run', '--silent', 'licenses', '--', '--help']);
    expect(licenses.stdout).toContain('koogallery licenses register <code>');
    expect(licenses.stdout).not.toContain('koogallery keys create');
    const proofs = await npm('npm', ['run', '--silent', 'proofs', '--', 'upload', '--help']);
    expect(proofs.stdout).toMatch(/^Usage: koogallery proofs upload <file> --order <orderId>/);
  }, 60_000);
});
