/**
 * The deployable shape, checked on the CloudFormation that `serverless package` writes, and the
 * environment `serverless offline --stage local` hands the functions (`serverless print`).
 *
 * The project is copied to a temporary directory (node_modules linked) and packaged there for stage
 * prod and stage dev, so the test never touches the working tree's `.esbuild/` or `.serverless/`
 * (a running `npm start` keeps its build). No AWS credentials are used or needed.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#lib/config.ts';
import { WORKER_HEAP_MB } from '#lib/settlement/worker.ts';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const FUNCTIONS = [
  'produce',
  'provision',
  'sweep',
  'seller',
  'usagePush',
  'probe',
  'proofReceived',
  'settlement',
  'settlementWorker',
] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const LOGICAL: Record<FunctionName, string> = {
  produce: 'Produce',
  provision: 'Provision',
  sweep: 'Sweep',
  seller: 'Seller',
  usagePush: 'UsagePush',
  probe: 'Probe',
  proofReceived: 'ProofReceived',
  settlement: 'Settlement',
  settlementWorker: 'SettlementWorker',
};
/** The role of each function: its own, except the two halves of settlement, which share one. */
const ROLE: Record<FunctionName, string> = {
  ...(Object.fromEntries(FUNCTIONS.map((f) => [f, `${LOGICAL[f]}Role`])) as Record<FunctionName, string>),
  settlementWorker: 'SettlementRole',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface Resource {
  Type: string;
  Properties: JsonObject;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
}
interface Template {
  Resources: Record<string, Resource>;
}
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: Json[];
  Condition?: JsonObject;
  owner: string;
}

/** Values the deployer's shell might hold; packaging must not depend on them (or leak them). */
const PASS_THROUGH = [
  'BODY_SIGN',
  'APP_FRONTEND_URL_TEMPLATE',
  'APP_ADMIN_URL_TEMPLATE',
  'APP_USER_NAME_TEMPLATE',
  'APP_MEMO',
  'CHANGE_CHECK_POLICY',
  'RELEASE_UNKNOWN_ANSWER',
  'SIGNATURE_WINDOW_SECONDS',
  'NONCE_TTL_SECONDS',
  'TEST_INSTANCE_TTL_DAYS',
  'MAX_BODY_BYTES',
  'PROVISIONING_MODE',
  'LOG_LEVEL',
  'MAIN_TABLE',
  'AUDIT_TABLE',
  'PROVISIONING_QUEUE_URL',
  'KOOGALLERY_PREVIOUS_ACCESS_KEY',
];
const LEAK_CANARY = 'plain-access-key-must-not-reach-aws';

function packagingEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('AWS_') || PASS_THROUGH.includes(key)) continue;
    env[key] = value;
  }
  // A plain key in the deployer's shell is for the local stack only; it must not end up on AWS.
  for (const name of ['KOOGALLERY_ACCESS_KEY', 'KOOGALLERY_AK', 'KOOGALLERY_SK', 'WEBHOOK_SECRET']) env[name] = LEAK_CANARY;
  env.SLS_TELEMETRY_DISABLED = '1';
  env.SLS_NOTIFICATIONS_MODE = 'off';
  return env;
}

let work: string;
let prodDir: string;
let prod: Template;
let dev: Template;
/** provider.environment as serverless-offline sees it on stage local: without and with the local stack's overrides. */
let localDefault: JsonObject;
let localOverridden: JsonObject;
const LOCAL_OVERRIDES = {
  PROVISIONING_QUEUE_URL: 'http://127.0.0.1:4999/000000000000/koogallery-isv-local-provisioning',
  MAIN_TABLE: 'main-from-the-local-stack',
  KOOGALLERY_ACCESS_KEY: 'local-key',
};

async function packageStage(stage: string): Promise<string> {
  const out = join(work, `package-${stage}`);
  await run(join(repoRoot, 'node_modules/.bin/serverless'), ['package', '--stage', stage, '--package', out], {
    cwd: join(work, 'project'),
    env: packagingEnv(),
    timeout: 150_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return out;
}

/** `serverless print` of provider.environment on stage local (no packaging, no .esbuild). */
async function localEnvironment(extra: Record<string, string>): Promise<JsonObject> {
  const { stdout } = await run(
    join(repoRoot, 'node_modules/.bin/serverless'),
    ['print', '--stage', 'local', '--format', 'json', '--path', 'provider.environment'],
    { cwd: join(work, 'project'), env: { ...packagingEnv(), ...extra }, timeout: 60_000 },
  );
  return JSON.parse(stdout) as JsonObject;
}

const readTemplate = (dir: string): Template =>
  JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'koogallery-infra-'));
  const project = join(work, 'project');
  const skip = new Set(['node_modules', '.git', '.serverless', '.esbuild', '.local', 'coverage', '.vitest.json', '.env']);
  cpSync(repoRoot, project, {
    recursive: true,
    filter: (src) => {
      const rel = src.slice(repoRoot.length + 1);
      return rel === '' || !skip.has(rel.split(/[\\/]/)[0] ?? '');
    },
  });
  symlinkSync(join(repoRoot, 'node_modules'), join(project, 'node_modules'), 'dir');
  const printed = Promise.all([localEnvironment({}), localEnvironment(LOCAL_OVERRIDES)]);
  printed.catch(() => {}); // awaited below; do not report it as unhandled if packaging fails first
  // One after the other: both runs copy their artifacts through the copy's .serverless/ folder.
  prodDir = await packageStage('prod');
  const devDir = await packageStage('dev');
  [localDefault, localOverridden] = await printed;
  prod = readTemplate(prodDir);
  dev = readTemplate(devDir);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

// ---------- helpers over the template ----------

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: Json | undefined): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function resource(t: Template, id: string): Resource {
  const r = t.Resources[id];
  if (!r) throw new Error(`resource ${id} missing from the template`);
  return r;
}

function fn(t: Template, name: FunctionName): Resource {
  return resource(t, `${LOGICAL[name]}LambdaFunction`);
}

/** Every Allow/Deny statement of every policy document in the template (roles, policies, resource policies). */
function statements(t: Template): Statement[] {
  const found: Statement[] = [];
  const visit = (node: Json, owner: string) => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, owner));
    if (!isObject(node)) return;
    if ('Effect' in node && ('Action' in node || 'NotAction' in node)) {
      expect(node.NotAction, `${owner}: NotAction is not allowed`).toBeUndefined();
      expect(node.NotResource, `${owner}: NotResource is not allowed`).toBeUndefined();
      found.push({
        Effect: node.Effect as Statement['Effect'],
        Action: asArray(node.Action).map(String),
        Resource: asArray(node.Resource),
        Condition: isObject(node.Condition) ? node.Condition : undefined,
        owner,
      });
      return;
    }
    Object.values(node).forEach((n) => visit(n, owner));
  };
  for (const [id, r] of Object.entries(t.Resources)) visit(r.Properties ?? {}, id);
  return found;
}

function roleStatements(t: Template, roleId: string): Statement[] {
  const role = resource(t, roleId);
  expect(role.Type).toBe('AWS::IAM::Role');
  return statements({ Resources: { [roleId]: { ...role, Properties: { Policies: role.Properties.Policies ?? [] } } } });
}

/** Renders Fn::Join / Ref / Fn::GetAtt to a readable string so ARNs can be compared exactly. */
function render(v: Json): string {
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    if ('Ref' in v) return `{${String(v.Ref)}}`;
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `{${getAtt.map(String).join('.')}}`;
    const join = v['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return join[1].map(render).join(join[0]);
    }
  }
  return JSON.stringify(v);
}

const ALL_ACTIONS = (s: Statement) => s.Action;

/** Reads the file names out of a zip's central directory. */
function zipEntries(file: string): string[] {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file} is not a zip`);
  const count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLength = buf.readUInt16LE(offset + 28);
    const extraLength = buf.readUInt16LE(offset + 30);
    const commentLength = buf.readUInt16LE(offset + 32);
    names.push(buf.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

// ---------- the checks ----------

describe('functions', () => {
  it('runs every function on nodejs22.x / arm64 with its own role', () => {
    const roles = new Set<string>();
    for (const name of FUNCTIONS) {
      const p = fn(prod, name).Properties;
      expect(p.Runtime, name).toBe('nodejs22.x');
      expect(p.Architectures, name).toEqual(['arm64']);
      expect(p.Role, name).toEqual({ 'Fn::GetAtt': [ROLE[name], 'Arn'] });
      expect(resource(prod, ROLE[name]).Type).toBe('AWS::IAM::Role');
      roles.add(render(p.Role as Json));
    }
    expect(roles.size).toBe(FUNCTIONS.length - 1);
    expect(prod.Resources.IamRoleLambdaExecution, 'no shared default role').toBeUndefined();
  });

  it('has the agreed timeouts and memory', () => {
    expect(fn(prod, 'produce').Properties).toMatchObject({ Timeout: 6, MemorySize: 1024 });
    expect(fn(prod, 'provision').Properties).toMatchObject({ Timeout: 30, MemorySize: 512 });
    expect(fn(prod, 'sweep').Properties).toMatchObject({ Timeout: 60, MemorySize: 512 });
    // The HTTP API's integration limit is 30 s.
    expect(fn(prod, 'seller').Properties).toMatchObject({ Timeout: 29, MemorySize: 1024 });
    expect(fn(prod, 'usagePush').Properties).toMatchObject({ Timeout: 300, MemorySize: 512 });
    expect(fn(prod, 'probe').Properties).toMatchObject({ Timeout: 30, MemorySize: 256 });
    expect(fn(prod, 'proofReceived').Properties).toMatchObject({ Timeout: 60, MemorySize: 512 });
    expect(fn(prod, 'settlement').Properties).toMatchObject({ Timeout: 60, MemorySize: 512 });
    expect(fn(prod, 'settlementWorker').Properties).toMatchObject({ Timeout: 300, MemorySize: 1024 });
    // The heap limit the settlement benchmark measures with.
    expect(((fn(prod, 'settlementWorker').Properties.Environment as JsonObject).Variables as JsonObject).NODE_OPTIONS).toBe(
      `--max-old-space-size=${WORKER_HEAP_MB}`,
    );
  });

  it('keeps logs for 30 days', () => {
    for (const name of FUNCTIONS) {
      expect(resource(prod, `${LOGICAL[name]}LogGroup`).Properties.RetentionInDays, name).toBe(30);
    }
  });

  it('routes POST /koogallery/produce on the HTTP API to produce', () => {
    const routes = Object.values(prod.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    const route = routes.find((r) => r.Properties.RouteKey === 'POST /koogallery/produce');
    expect(route, 'route POST /koogallery/produce').toBeDefined();
    const integrationId = render(route!.Properties.Target as Json).replace(/^integrations\/\{|\}$/g, '');
    expect(render(resource(prod, integrationId).Properties.IntegrationUri as Json)).toBe('{ProduceLambdaFunction.Arn}');
  });

  it('feeds provision and the settlement worker from their queues with partial batch failures', () => {
    const mappings = Object.values(prod.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(2);
    expect(mappings.map((m) => m.Properties)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          BatchSize: 10,
          EventSourceArn: { 'Fn::GetAtt': ['ProvisioningQueue', 'Arn'] },
          FunctionName: { 'Fn::GetAtt': ['ProvisionLambdaFunction', 'Arn'] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
        expect.objectContaining({
          BatchSize: 1,
          EventSourceArn: { 'Fn::GetAtt': ['SettlementQueue', 'Arn'] },
          FunctionName: { 'Fn::GetAtt': ['SettlementWorkerLambdaFunction', 'Arn'] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      ]),
    );
    const settlementQueue = resource(prod, 'SettlementQueue').Properties;
    expect(settlementQueue.RedrivePolicy).toMatchObject({
      deadLetterTargetArn: { 'Fn::GetAtt': ['SettlementDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(settlementQueue.VisibilityTimeout as number).toBeGreaterThanOrEqual(
      6 * (fn(prod, 'settlementWorker').Properties.Timeout as number),
    );
  });

  it('runs the outbox sweep every 5 minutes, the safety sweep hourly, the usage push at minute 5 and the probe twice a day', () => {
    const rules = Object.values(prod.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const schedules = rules.map((rule) => {
      const targets = asArray(rule.Properties.Targets).filter(isObject);
      expect(targets).toHaveLength(1);
      const input = targets[0]!.Input;
      return [
        render(targets[0]!.Arn ?? null),
        rule.Properties.ScheduleExpression,
        input === undefined ? undefined : JSON.parse(String(input)),
      ];
    });
    expect(schedules).toEqual([
      ['{SweepLambdaFunction.Arn}', 'rate(5 minutes)', { job: 'outbox' }],
      ['{SweepLambdaFunction.Arn}', 'rate(1 hour)', { job: 'safety' }],
      ['{UsagePushLambdaFunction.Arn}', 'cron(5 * * * ? *)', undefined],
      ['{ProbeLambdaFunction.Arn}', 'cron(0 1,7 * * ? *)', undefined],
      // 02:00 on the 1st in Asia/Shanghai.
      ['{SettlementLambdaFunction.Arn}', 'cron(0 18 L * ? *)', undefined],
    ]);
  });

  it('routes GET and POST /seller/{proxy+} to the seller API', () => {
    const routes = Object.values(prod.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => String(r.Properties.RouteKey))
      .sort();
    expect(routes).toEqual(['GET /koogallery/produce', 'GET /seller/{proxy+}', 'POST /koogallery/produce', 'POST /seller/{proxy+}']);
  });

  it('gives the functions their configuration, with AWS values on AWS stages', () => {
    for (const name of FUNCTIONS) {
      const vars = (fn(prod, name).Properties.Environment as JsonObject).Variables as JsonObject;
      expect(vars, name).toMatchObject({
        STAGE: 'prod',
        MAIN_TABLE: 'koogallery-isv-prod-main',
        AUDIT_TABLE: 'koogallery-isv-prod-audit',
        PROVISIONING_QUEUE_URL: { Ref: 'ProvisioningQueue' },
        KOOGALLERY_ACCESS_KEY_PARAMETER: '/koogallery-isv/prod/access-key',
        KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER: '/koogallery-isv/prod/previous-access-key',
        KOOGALLERY_AK_PARAMETER: '/koogallery-isv/prod/openapi-ak',
        KOOGALLERY_SK_PARAMETER: '/koogallery-isv/prod/openapi-sk',
        WEBHOOK_SECRET_PARAMETER: '/koogallery-isv/prod/webhook-secret',
        POWERTOOLS_SERVICE_NAME: 'koogallery-isv',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      // Plain secrets are a local-stack convenience: on AWS they are empty whatever the shell held.
      expect(JSON.stringify(vars), name).not.toContain(LEAK_CANARY);
      expect(vars.KOOGALLERY_ACCESS_KEY ?? '', name).toBe('');
    }
  });

  it('gives an environment that lib/config accepts when the deployer sets nothing', () => {
    // What Lambda would hand the handler: intrinsics resolved, pass-through settings left empty.
    for (const name of FUNCTIONS) {
      const vars = (fn(prod, name).Properties.Environment as JsonObject).Variables as JsonObject;
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(vars)) {
        env[key] = typeof value === 'string' ? value : 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/q';
      }
      expect(() => parseConfig(env), name).not.toThrow();
    }
  });

  it('names the tables and queues after service and stage', () => {
    expect(resource(prod, 'MainTable').Properties.TableName).toBe('koogallery-isv-prod-main');
    expect(resource(prod, 'AuditTable').Properties.TableName).toBe('koogallery-isv-prod-audit');
    expect(resource(prod, 'ProvisioningQueue').Properties.QueueName).toBe('koogallery-isv-prod-provisioning');
    expect(resource(prod, 'ProvisioningDeadLetterQueue').Properties.QueueName).toBe('koogallery-isv-prod-provisioning-dlq');
  });

  it('packages one small zip per function, the handler bundled with its SDK clients', () => {
    for (const name of FUNCTIONS) {
      const zip = join(prodDir, `${name}.zip`);
      expect(existsSync(zip), `${name}.zip`).toBe(true);
      expect(statSync(zip).size, `${name}.zip size`).toBeLessThan(10 * 1024 * 1024);
      const entries = zipEntries(zip);
      expect(entries, name).toContain(`functions/${name}.cjs`);
      expect(
        entries.filter((e) => e.startsWith('node_modules/')),
        name,
      ).toEqual([]);
    }
  });
});

describe('stage local (serverless-offline)', () => {
  it('hands the functions plain strings only: no CloudFormation intrinsics', () => {
    for (const env of [localDefault, localOverridden]) {
      for (const [key, value] of Object.entries(env)) expect(typeof value, key).toBe('string');
    }
  });

  it('defaults to the fauxqs queue URL and the stage-local table names', () => {
    expect(localDefault).toMatchObject({
      STAGE: 'local',
      MAIN_TABLE: 'koogallery-isv-local-main',
      AUDIT_TABLE: 'koogallery-isv-local-audit',
      PROVISIONING_QUEUE_URL: 'http://sqs.us-east-1.localhost:4566/000000000000/koogallery-isv-local-provisioning',
    });
  });

  it('takes the queue URL, table names and plain access key the local stack passes in', () => {
    expect(localOverridden).toMatchObject(LOCAL_OVERRIDES);
  });

  it('reads no SSM parameter locally, so the handler falls back to KOOGALLERY_ACCESS_KEY', () => {
    expect(localOverridden.KOOGALLERY_ACCESS_KEY_PARAMETER).toBe('');
    expect(localOverridden.KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER).toBe('');
  });
});

describe('data stores', () => {
  it('files bucket: private, TLS only, encrypted, versioned, unfinished uploads aborted, proofs/ notifying the proof check', () => {
    const bucket = resource(prod, 'FilesBucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.Properties.BucketEncryption).toMatchObject({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const rules = ((bucket.Properties.LifecycleConfiguration as JsonObject).Rules as JsonObject[]) ?? [];
    expect(rules.some((r) => (r.AbortIncompleteMultipartUpload as JsonObject | undefined)?.DaysAfterInitiation === 1 && !r.Prefix)).toBe(
      true,
    );
    const lambdas = ((bucket.Properties.NotificationConfiguration as JsonObject).LambdaConfigurations as JsonObject[]) ?? [];
    expect(lambdas).toEqual([
      {
        Event: 's3:ObjectCreated:*',
        Function: { 'Fn::GetAtt': ['ProofReceivedLambdaFunction', 'Arn'] },
        Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'proofs/' }] } },
      },
    ]);
    // TLS only: every request without TLS is denied, to everyone.
    const policy = statements(prod).filter((s) => s.owner === 'FilesBucketPolicy');
    expect(policy).toHaveLength(1);
    expect(policy[0]).toMatchObject({ Effect: 'Deny', Action: ['s3:*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(policy[0]!.Resource.map(render)).toEqual(['arn:aws:s3:::{FilesBucket}', 'arn:aws:s3:::{FilesBucket}/*']);
    // No Allow in the bucket's own policy: access comes from the functions' roles only.
    expect(statements(prod).filter((s) => s.owner === 'FilesBucketPolicy' && s.Effect === 'Allow')).toEqual([]);
    // Only S3, from this account and this bucket, may invoke the proof check.
    expect(resource(prod, 'ProofReceivedS3Permission').Properties).toMatchObject({
      Principal: 's3.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  it('main table: on demand, PITR, TTL on expiresAt, deletion protection on prod', () => {
    const p = resource(prod, 'MainTable').Properties;
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(resource(prod, 'MainTable').DeletionPolicy).toBe('Retain');
  });

  it('audit table: PITR and deletion protection on prod', () => {
    const p = resource(prod, 'AuditTable').Properties;
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(resource(prod, 'AuditTable').DeletionPolicy).toBe('Retain');
  });

  it('dev stage tables can be deleted', () => {
    expect(resource(dev, 'MainTable').Properties.DeletionProtectionEnabled).toBe(false);
    expect(resource(dev, 'AuditTable').Properties.DeletionProtectionEnabled).toBe(false);
    expect(resource(dev, 'MainTable').Properties.TableName).toBe('koogallery-isv-dev-main');
  });

  it('provisioning queue: 5 receives then the DLQ, visibility >= 6 x provision timeout', () => {
    const q = resource(prod, 'ProvisioningQueue').Properties;
    expect(q.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['ProvisioningDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    const timeout = fn(prod, 'provision').Properties.Timeout as number;
    expect(q.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * timeout);
  });
});

describe('IAM: least privilege', () => {
  it('grants no wildcard actions and attaches no managed policies', () => {
    const allowed = statements(prod).filter((s) => s.Effect === 'Allow');
    expect(allowed.length).toBeGreaterThan(0);
    for (const s of allowed) {
      for (const action of s.Action) expect(action, `${s.owner}: ${action}`).not.toContain('*');
    }
    for (const [id, r] of Object.entries(prod.Resources)) {
      if (r.Type === 'AWS::IAM::Role') expect(r.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it('scopes data actions to named resources (no * resources; S3 objects only under a named prefix)', () => {
    const bucket = 'arn:aws:s3:::koogallery-isv-prod-files-{AWS::AccountId}-{AWS::Region}';
    const objectPrefixes = ['proofs/*', 'quarantine/*', 'bills/*', 'statements/*', 'statements/*/reconciliation/*', 'settlement-runs/*'];
    for (const s of statements(prod).filter((x) => x.Effect === 'Allow')) {
      const data = s.Action.some((a) => /^(dynamodb|sqs|ssm|s3):/.test(a));
      if (!data) continue;
      for (const r of s.Resource) {
        const arn = render(r);
        if (s.Action.every((a) => a.startsWith('s3:'))) {
          expect([bucket, ...objectPrefixes.map((p) => `${bucket}/${p}`)], `${s.owner}: ${arn}`).toContain(arn);
        } else {
          expect(arn, `${s.owner}: ${s.Action.join(',')}`).not.toContain('*');
        }
      }
    }
  });

  it('lets every writer only put to the audit table', () => {
    const touchingAudit = statements(prod).filter((s) => s.Resource.some((r) => /AuditTable|koogallery-isv-prod-audit/.test(render(r))));
    // produce and usagePush write the message log, the seller API reads it; provision and sweep hold no grant on it.
    expect(touchingAudit.map((s) => s.owner).sort()).toEqual(['ProduceRole', 'SellerRole', 'UsagePushRole']);
    for (const s of touchingAudit) {
      expect(s.Effect).toBe('Allow');
      expect(s.Action, s.owner).toEqual([s.owner === 'SellerRole' ? 'dynamodb:Query' : 'dynamodb:PutItem']);
    }
    // Nothing reaches the audit table through a broader resource either.
    for (const s of statements(prod)) {
      if (!s.Action.some((a) => a.startsWith('dynamodb:'))) continue;
      for (const r of s.Resource) {
        // The main table or one of its named indexes; the audit table only as itself (checked above).
        expect(render(r), s.owner).toMatch(/^(\{MainTable\.Arn\}(\/index\/[\w.-]+)?|\{AuditTable\.Arn\})$/);
      }
    }
  });

  it('gives each role exactly its agreed DynamoDB and SQS actions', () => {
    const actionsOn = (roleId: string, target: string) =>
      roleStatements(prod, roleId)
        .filter((s) => s.Resource.some((r) => render(r) === `{${target}.Arn}`))
        .flatMap(ALL_ACTIONS)
        .sort();
    expect(actionsOn('ProduceRole', 'MainTable')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(actionsOn('ProvisionRole', 'MainTable')).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);
    expect(actionsOn('SweepRole', 'MainTable')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn('SellerRole', 'MainTable')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn('UsagePushRole', 'MainTable')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
    expect(actionsOn('ProofReceivedRole', 'MainTable')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn('SettlementRole', 'MainTable')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    // Indexes are read with Query only: `due` by the sweep and the usage push, `list` by the seller API, `bill` by
    // settlement and by the seller API (closing a month checks its inputs).
    const onIndex = statements(prod).filter((s) => s.Resource.some((r) => render(r).includes('/index/')));
    expect(onIndex.map((s) => [s.owner, s.Action, s.Resource.map(render)])).toEqual([
      ['SweepRole', ['dynamodb:Query'], ['{MainTable.Arn}/index/due']],
      ['SellerRole', ['dynamodb:Query'], ['{MainTable.Arn}/index/list', '{MainTable.Arn}/index/bill']],
      ['UsagePushRole', ['dynamodb:Query'], ['{MainTable.Arn}/index/due']],
      ['SettlementRole', ['dynamodb:Query'], ['{MainTable.Arn}/index/bill']],
    ]);
    expect(actionsOn('SellerRole', 'SettlementQueue')).toEqual(['sqs:SendMessage']);
    expect(actionsOn('SettlementRole', 'SettlementQueue')).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    expect(actionsOn('ProduceRole', 'ProvisioningQueue')).toEqual(['sqs:SendMessage']);
    expect(actionsOn('SweepRole', 'ProvisioningQueue')).toEqual(['sqs:SendMessage']);
    expect(actionsOn('ProvisionRole', 'ProvisioningQueue')).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ]);
  });

  it('lets each function write only its own log group', () => {
    for (const role of new Set(Object.values(ROLE))) {
      const owners = FUNCTIONS.filter((f) => ROLE[f] === role);
      const logs = roleStatements(prod, role).filter((s) => s.Action.some((a) => a.startsWith('logs:')));
      expect(logs.flatMap((s) => s.Resource).map(render), role).toEqual(owners.map((f) => `{${LOGICAL[f]}LogGroup.Arn}`));
      expect(logs.flatMap(ALL_ACTIONS).sort(), role).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    }
  });

  it('grants S3 by prefix: proofs to the seller API and the proof check, statements to settlement', () => {
    const s3Of = (roleId: string) =>
      roleStatements(prod, roleId)
        .filter((s) => s.Action.some((a) => a.startsWith('s3:')))
        .flatMap((s) =>
          s.Action.map(
            (a) =>
              `${a} ${s.Resource.map(render)
                .map((r) => r.replace(/^arn:aws:s3:::[^/]+/, ''))
                .join(' ')}`,
          ),
        )
        .sort();
    expect(s3Of('SellerRole')).toEqual([
      's3:GetObject /proofs/* /bills/* /statements/*',
      's3:PutObject /proofs/* /bills/* /statements/*/reconciliation/*',
    ]);
    expect(s3Of('ProofReceivedRole')).toEqual([
      's3:DeleteObject /proofs/*',
      's3:GetObject /proofs/*',
      's3:ListBucket ',
      's3:PutObject /quarantine/*',
    ]);
    expect(s3Of('SettlementRole')).toEqual([
      's3:AbortMultipartUpload /statements/* /settlement-runs/*',
      's3:DeleteObject /settlement-runs/*',
      's3:GetObject /statements/* /settlement-runs/*',
      's3:ListBucket ',
      's3:PutObject /statements/* /settlement-runs/*',
    ]);
    for (const roleId of ['ProduceRole', 'ProvisionRole', 'SweepRole', 'UsagePushRole', 'ProbeRole'])
      expect(s3Of(roleId), roleId).toEqual([]);
  });

  it('gives each function only the secrets it uses, by exact ARN, and decrypts only via SSM', () => {
    const prefix = 'arn:{AWS::Partition}:ssm:{AWS::Region}:{AWS::AccountId}:parameter/koogallery-isv/prod';
    const secretsOf = (roleId: string) => {
      const ssm = roleStatements(prod, roleId).filter((s) => s.Action.some((a) => a.startsWith('ssm:')));
      expect(
        ssm.flatMap(ALL_ACTIONS).every((a) => a === 'ssm:GetParameter'),
        roleId,
      ).toBe(true);
      return ssm
        .flatMap((s) => s.Resource)
        .map(render)
        .sort();
    };
    expect(secretsOf('ProduceRole')).toEqual([`${prefix}/access-key`, `${prefix}/previous-access-key`]);
    expect(secretsOf('ProvisionRole')).toEqual([`${prefix}/openapi-ak`, `${prefix}/openapi-sk`, `${prefix}/webhook-secret`]);
    expect(secretsOf('SweepRole')).toEqual([]);
    expect(secretsOf('SellerRole')).toEqual([]);
    expect(secretsOf('ProbeRole')).toEqual([`${prefix}/access-key`, `${prefix}/previous-access-key`]);
    expect(secretsOf('UsagePushRole')).toEqual([
      `${prefix}/access-key`,
      `${prefix}/openapi-ak`,
      `${prefix}/openapi-sk`,
      `${prefix}/previous-access-key`,
    ]);

    for (const roleId of ['ProduceRole', 'ProvisionRole', 'UsagePushRole', 'ProbeRole']) {
      const kms = roleStatements(prod, roleId).filter((s) => s.Action.some((a) => a.startsWith('kms:')));
      expect(kms.flatMap(ALL_ACTIONS), roleId).toEqual(['kms:Decrypt']);
      for (const s of kms) {
        const via = (s.Condition?.StringEquals as JsonObject | undefined)?.['kms:ViaService'];
        expect(via, 'kms:ViaService condition').toBeDefined();
        expect(render(via as Json)).toBe('ssm.{AWS::Region}.amazonaws.com');
      }
    }
    for (const roleId of ['SweepRole', 'SellerRole']) {
      expect(roleStatements(prod, roleId).filter((s) => s.Action.some((a) => a.startsWith('kms:')))).toEqual([]);
    }
  });

  it('gives the probe no data access at all', () => {
    const data = roleStatements(prod, 'ProbeRole').filter((s) => s.Action.some((a) => /^(dynamodb|sqs|s3):/.test(a)));
    expect(data).toEqual([]);
  });

  it('alarms when the availability probe fails', () => {
    const alarm = resource(prod, 'ProbeFailureAlarm').Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(alarm.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: 'ProbeLambdaFunction' } }]);
  });

  it('alarms when a lifecycle event reaches the dead-letter queue', () => {
    const alarm = resource(prod, 'ProvisioningDeadLetterAlarm').Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(alarm.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ProvisioningDeadLetterQueue', 'QueueName'] } }]);
  });

  it('alarms when a settlement message reaches its dead-letter queue and when the proof check fails', () => {
    const settlement = resource(prod, 'SettlementDeadLetterAlarm').Properties;
    expect(settlement).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(settlement.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['SettlementDeadLetterQueue', 'QueueName'] } }]);
    const proofs = resource(prod, 'ProofCheckFailureAlarm').Properties;
    expect(proofs).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 0, AlarmActions: [{ Ref: 'AlarmTopic' }] });
    expect(proofs.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: 'ProofReceivedLambdaFunction' } }]);
  });
});
