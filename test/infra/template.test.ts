/**
 * The deployable shape, checked on the CloudFormation that `serverless package` writes, and the
 * environment `serverless offline --stage local` hands the functions (`serverless print`).
 *
 * The project is copied to a temporary directory (node_modules linked) and packaged there for stage
 * prod with the default stage parameters, and for stage dev with a custom domain and another reserved
 * concurrency (`--param`), so the test never touches the working tree's `.esbuild/` or `.serverless/`
 * (a running `npm start` keeps its build). No AWS credentials are used or needed.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXTENSION_DEFAULT_PORT, EXTENSION_TIMEOUT_MS } from '#lib/aws/parametersExtension.ts';
import { parseConfig } from '#lib/config.ts';
import { allowAllChanges } from '#lib/instances/changePolicy.ts';
import { handleProduceCall } from '#lib/instances/produceCall.ts';
import { safetySweep } from '#lib/instances/safetySweep.ts';
import type { Log } from '#lib/log.ts';
import { SECRET_CACHE_SECONDS } from '#lib/parameterReader.ts';
import { WORKER_HEAP_MB } from '#lib/settlement/worker.ts';
import { usagePushMetrics } from '#lib/usage/metrics.ts';
import { fakeStores } from '../fakes/index.ts';
import { PRODUCE_SETTINGS } from '../helpers/produce.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';

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
  'sso',
  'kit',
  'console',
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
  sso: 'Sso',
  kit: 'Kit',
  console: 'Console',
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
  Condition?: string;
}
interface Template {
  Resources: Record<string, Resource>;
  Conditions?: JsonObject;
  Outputs?: Record<string, JsonObject>;
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
  'SETTLEMENT_SCHEDULE',
  'SETTLEMENT_TIME_ZONE',
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
/** Stage dev, packaged with DEV_PARAMS. */
let dev: Template;
/** The settlement schedule as `serverless print` resolves it with SETTLEMENT_OVERRIDES in the shell. */
let settlementOverridden: Json;
/** Each function's events on stage local: what serverless-offline schedules. */
let localSchedules: Record<string, Json>;
const DEV_PARAMS = {
  domainName: 'isv.example.com',
  certificateArn: 'arn:aws:acm:ap-southeast-1:123456789012:certificate/0f3c9a51-example',
  produceReservedConcurrency: '20',
};
const SETTLEMENT_OVERRIDES = { SETTLEMENT_TIME_ZONE: 'Europe/Berlin', SETTLEMENT_SCHEDULE: 'cron(30 3 1 * ? *)' };
/** provider.environment as serverless-offline sees it on stage local: without and with the local stack's overrides. */
let localDefault: JsonObject;
let localOverridden: JsonObject;
const LOCAL_OVERRIDES = {
  PROVISIONING_QUEUE_URL: 'http://127.0.0.1:4999/000000000000/koogallery-isv-local-provisioning',
  MAIN_TABLE: 'main-from-the-local-stack',
  KOOGALLERY_ACCESS_KEY: 'local-key',
};

async function packageStage(stage: string, params: Record<string, string> = {}): Promise<string> {
  const out = join(work, `package-${stage}`);
  const paramArgs = Object.entries(params).map(([key, value]) => `--param=${key}=${value}`);
  await run(join(repoRoot, 'node_modules/.bin/serverless'), ['package', '--stage', stage, '--package', out, ...paramArgs], {
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

/** `serverless print` of one path of the resolved configuration on `stage`, with `extra` in the shell. */
async function printed(stage: string, path: string, extra: Record<string, string> = {}): Promise<Json> {
  const { stdout } = await run(
    join(repoRoot, 'node_modules/.bin/serverless'),
    ['print', '--stage', stage, '--format', 'json', '--path', path],
    { cwd: join(work, 'project'), env: { ...packagingEnv(), ...extra }, timeout: 60_000 },
  );
  return JSON.parse(stdout) as Json;
}

/** Each function's events as serverless-offline gets them (stage local). */
async function localEvents(): Promise<Record<string, Json>> {
  const functions = (await printed('local', 'functions')) as Record<string, JsonObject>;
  return Object.fromEntries(Object.entries(functions).map(([key, f]) => [key, f.events ?? []]));
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
  const prints = Promise.all([
    localEnvironment({}),
    localEnvironment(LOCAL_OVERRIDES),
    printed('prod', 'functions.settlement.events', SETTLEMENT_OVERRIDES),
    localEvents(),
  ]);
  prints.catch(() => {}); // awaited below; do not report it as unhandled if packaging fails first
  // One after the other: both runs copy their artifacts through the copy's .serverless/ folder.
  prodDir = await packageStage('prod');
  const devDir = await packageStage('dev', DEV_PARAMS);
  [localDefault, localOverridden, settlementOverridden, localSchedules] = await prints;
  prod = readTemplate(prodDir);
  dev = readTemplate(devDir);
}, 300_000);

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

/** The content of one file of a zip (stored or deflated), found through the central directory. */
function zipFile(file: string, name: string): string {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(offset + 10);
    const compressedSize = buf.readUInt32LE(offset + 20);
    const nameLength = buf.readUInt16LE(offset + 28);
    const extraLength = buf.readUInt16LE(offset + 30);
    const commentLength = buf.readUInt16LE(offset + 32);
    const localHeader = buf.readUInt32LE(offset + 42);
    if (buf.toString('utf8', offset + 46, offset + 46 + nameLength) === name) {
      const start = localHeader + 30 + buf.readUInt16LE(localHeader + 26) + buf.readUInt16LE(localHeader + 28);
      const data = buf.subarray(start, start + compressedSize);
      return (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${name} is not in ${file}`);
}

/** Evaluates a CloudFormation condition expression (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) of `t`. */
function condition(t: Template, expr: Json): boolean {
  if (!isObject(expr)) throw new Error(`not a condition: ${JSON.stringify(expr)}`);
  if (typeof expr.Condition === 'string') return condition(t, t.Conditions?.[expr.Condition] ?? null);
  const [fn, args] = Object.entries(expr)[0] ?? [];
  const list = asArray(args);
  if (fn === 'Fn::Equals') return JSON.stringify(list[0]) === JSON.stringify(list[1]);
  if (fn === 'Fn::Not') return !condition(t, list[0] ?? null);
  if (fn === 'Fn::And') return list.every((c) => condition(t, c));
  if (fn === 'Fn::Or') return list.some((c) => condition(t, c));
  throw new Error(`unsupported condition ${String(fn)}`);
}
const conditionHolds = (t: Template, name: string) => condition(t, { Condition: name });

/** A value with its Fn::If resolved as CloudFormation would in `t`. */
function resolveIf(t: Template, v: Json): Json {
  const ifArgs = isObject(v) ? v['Fn::If'] : undefined;
  if (!Array.isArray(ifArgs)) return v;
  return resolveIf(t, (conditionHolds(t, String(ifArgs[0])) ? ifArgs[1] : ifArgs[2]) ?? null);
}

/** Resources of `t` that CloudFormation creates: without a condition, or with one that holds. */
const created = (t: Template, id: string) => {
  const r = t.Resources[id];
  return r !== undefined && (r.Condition === undefined || conditionHolds(t, r.Condition));
};

/**
 * Whether a CloudWatch Logs JSON filter pattern made of `$.field = "value"` terms joined by && matches a log event.
 * (The patterns in resources/alarms.yml are of this form; anything else fails the test.)
 */
function filterMatches(pattern: string, event: Record<string, unknown>): boolean {
  const body = /^\{\s*(.*?)\s*\}$/.exec(pattern.trim())?.[1];
  if (!body) throw new Error(`not a JSON filter pattern: ${pattern}`);
  return body.split('&&').every((term) => {
    const m = /^\(?\s*\$\.([\w.]+)\s*=\s*"([^"]*)"\s*\)?$/.exec(term.trim());
    if (!m) throw new Error(`unsupported filter term: ${term}`);
    const value = m[1]!.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], event);
    return String(value) === m[2];
  });
}

/**
 * A Log that writes through a real Powertools logger (as lib/log.ts does on Lambda), and the JSON lines it printed:
 * what the log group receives, and what a metric filter sees.
 */
function printedLogLines<T>(act: (log: Log) => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const logger = new Logger({ serviceName: 'koogallery-isv', logLevel: 'INFO' });
  const log: Log = {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return act(log)
    .then((result) => ({
      result,
      lines: written
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    }))
    .finally(() => {
      stdout.mockRestore();
      stderr.mockRestore();
    });
}

/** The functions that are invoked asynchronously (S3, EventBridge, EventBridge Scheduler), and where their failures go. */
const ASYNC_FAILURES: Partial<Record<FunctionName, string>> = {
  sweep: 'ScheduledRunFailedQueue',
  usagePush: 'ScheduledRunFailedQueue',
  probe: 'ScheduledRunFailedQueue',
  proofReceived: 'ProofCheckFailedQueue',
  settlement: 'SettlementStartFailedQueue',
};

function alarm(t: Template, id: string): JsonObject {
  const r = resource(t, id);
  expect(r.Type, id).toBe('AWS::CloudWatch::Alarm');
  expect(r.Properties.AlarmActions, `${id} goes to the alarm topic`).toEqual([{ Ref: 'AlarmTopic' }]);
  return r.Properties;
}

/** The alarm that watches a queue's visible messages, if any. */
function queueAlarm(t: Template, queueId: string): JsonObject | undefined {
  return Object.values(t.Resources).find(
    (r) =>
      r.Type === 'AWS::CloudWatch::Alarm' &&
      r.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
      JSON.stringify(r.Properties.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
  )?.Properties;
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
    expect(fn(prod, 'sso').Properties).toMatchObject({ Timeout: 15, MemorySize: 512 });
    expect(fn(prod, 'kit').Properties).toMatchObject({ Timeout: 6, MemorySize: 1024 });
    expect(fn(prod, 'console').Properties).toMatchObject({ Timeout: 5, MemorySize: 256 });
    // The heap limit the settlement benchmark measures with.
    expect(((fn(prod, 'settlementWorker').Properties.Environment as JsonObject).Variables as JsonObject).NODE_OPTIONS).toBe(
      `--max-old-space-size=${WORKER_HEAP_MB}`,
    );
  });

  it('runs produce with the Parameters and Secrets extension layer of its region, caching no longer than the keys are re-read', () => {
    const p = fn(prod, 'produce').Properties;
    expect(p.Layers).toEqual(['arn:aws:lambda:ap-southeast-1:044395824272:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24']);
    const env = (p.Environment as JsonObject).Variables as JsonObject;
    expect(env.PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED).toBe('true');
    expect(Number(env.SSM_PARAMETER_STORE_TTL)).toBeGreaterThan(0);
    expect(Number(env.SSM_PARAMETER_STORE_TTL)).toBeLessThanOrEqual(SECRET_CACHE_SECONDS);
    expect(Number(env.SSM_PARAMETER_STORE_TIMEOUT_MILLIS)).toBeLessThanOrEqual(EXTENSION_TIMEOUT_MS);
    // It listens where the reader asks.
    expect(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? String(EXTENSION_DEFAULT_PORT)).toBe(String(EXTENSION_DEFAULT_PORT));
    for (const name of FUNCTIONS.filter((f) => f !== 'produce')) expect(fn(prod, name).Properties.Layers, name).toBeUndefined();
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

  it('runs the outbox sweep every 5 minutes, the safety sweep hourly and the usage push at minute 5 on EventBridge rules', () => {
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
    ]);
  });

  it('runs the monthly settlement at 02:00 on the 1st and the probe at 09:00 and 15:00, in Asia/Shanghai, on EventBridge Scheduler', () => {
    const schedules = Object.entries(prod.Resources).filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule');
    expect(schedules.map(([id, r]) => [id, r.Properties.ScheduleExpression, r.Properties.ScheduleExpressionTimezone])).toEqual([
      ['ProbeSchedulerSchedule1', 'cron(0 9,15 * * ? *)', 'Asia/Shanghai'],
      ['SettlementSchedulerSchedule1', 'cron(0 2 1 * ? *)', 'Asia/Shanghai'],
    ]);
    for (const [id, r] of schedules) {
      expect(r.Properties.State, id).toBe('ENABLED');
      expect(r.Properties.FlexibleTimeWindow, id).toEqual({ Mode: 'OFF' });
    }
    // Each invokes its function with the scheduler's role; what Scheduler cannot deliver goes to a queue with an alarm.
    expect(resource(prod, 'SettlementSchedulerSchedule1').Properties.Target).toEqual({
      Arn: { 'Fn::GetAtt': ['SettlementLambdaFunction', 'Arn'] },
      RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['SettlementStartFailedQueue', 'Arn'] } },
    });
    expect(resource(prod, 'ProbeSchedulerSchedule1').Properties.Target).toEqual({
      Arn: { 'Fn::GetAtt': ['ProbeLambdaFunction', 'Arn'] },
      RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['ScheduledRunFailedQueue', 'Arn'] } },
    });
    expect(queueAlarm(prod, 'SettlementStartFailedQueue')).toBeDefined();
    expect(queueAlarm(prod, 'ScheduledRunFailedQueue')).toBeDefined();
  });

  it('moves the settlement schedule with SETTLEMENT_TIME_ZONE and takes SETTLEMENT_SCHEDULE as its expression', () => {
    expect(settlementOverridden).toEqual([
      {
        schedule: {
          method: 'scheduler',
          timezone: 'Europe/Berlin',
          rate: ['cron(30 3 1 * ? *)'],
          roleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
        },
      },
    ]);
  });

  it('lets only EventBridge Scheduler (of this account) assume the scheduler role, which may only invoke the two scheduled functions', () => {
    const role = resource(prod, 'SchedulerRole');
    expect(role.Type).toBe('AWS::IAM::Role');
    expect((role.Properties.AssumeRolePolicyDocument as JsonObject).Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(roleStatements(prod, 'SchedulerRole').map((st) => [st.Action, st.Resource.map(render)])).toEqual([
      [['lambda:InvokeFunction'], ['{SettlementLambdaFunction.Arn}', '{ProbeLambdaFunction.Arn}']],
      [['sqs:SendMessage'], ['{SettlementStartFailedQueue.Arn}', '{ScheduledRunFailedQueue.Arn}']],
    ]);
    // The functions' own roles trust Lambda only: the scheduler cannot act with their data access.
    for (const roleId of new Set(Object.values(ROLE))) {
      const trust = (resource(prod, roleId).Properties.AssumeRolePolicyDocument as JsonObject).Statement as JsonObject[];
      expect(
        trust.map((st) => st.Principal),
        roleId,
      ).toEqual([{ Service: 'lambda.amazonaws.com' }]);
    }
  });

  it('sends every asynchronous invocation that fails its retries to a queue with an alarm, which the function may write', () => {
    const invokeConfigs = Object.values(prod.Resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    expect(invokeConfigs).toHaveLength(Object.keys(ASYNC_FAILURES).length);
    for (const [name, queue] of Object.entries(ASYNC_FAILURES) as [FunctionName, string][]) {
      const config = invokeConfigs.find((r) => render(r.Properties.FunctionName as Json) === `{${LOGICAL[name]}LambdaFunction}`);
      expect(config?.Properties, name).toMatchObject({
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      });
      expect(resource(prod, queue).Type).toBe('AWS::SQS::Queue');
      expect(resource(prod, queue).Properties).toMatchObject({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
      // Lambda sends the failure record with the function's own role.
      const sends = roleStatements(prod, ROLE[name]).filter((st) => st.Resource.some((r) => render(r) === `{${queue}.Arn}`));
      expect(sends.flatMap(ALL_ACTIONS), name).toEqual(['sqs:SendMessage']);
      expect(queueAlarm(prod, queue), `${queue} alarm`).toMatchObject({
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
    }
  });

  it('runs the schedules locally too: serverless-offline schedules the method: scheduler events it is given', async () => {
    // serverless-offline ignores `method` and `timezone` and schedules every `schedule` event with node-schedule in
    // the machine's time zone (node_modules/serverless-offline/src/events/schedule/Schedule.js).
    const offlineRoot = pathToFileURL(join(repoRoot, 'node_modules/serverless-offline/src/events/schedule/')).href;
    const { default: Schedule } = (await import(`${offlineRoot}Schedule.js`)) as {
      default: new (lambda: unknown, region: string) => { create(events: { functionKey: string; schedule: Json }[]): void };
    };
    const { default: nodeSchedule } = (await import(pathToFileURL(join(repoRoot, 'node_modules/node-schedule/index.js')).href)) as {
      default: { scheduledJobs: Record<string, { nextInvocation(): Date | null; cancel(): boolean }> };
    };
    const before = new Set(Object.keys(nodeSchedule.scheduledJobs));
    const events = ['settlement', 'probe'].map((functionKey) => ({
      functionKey,
      schedule: (localSchedules[functionKey] as JsonObject[])[0]!.schedule as Json,
    }));
    expect(events.map((e) => (e.schedule as JsonObject).method)).toEqual(['scheduler', 'scheduler']);

    new Schedule({ get: () => ({ setEvent: () => {}, runHandler: async () => {} }) }, 'us-east-1').create(events);

    const jobs = Object.entries(nodeSchedule.scheduledJobs).filter(([name]) => !before.has(name));
    try {
      expect(jobs).toHaveLength(2);
      const [settlement, probe] = jobs.map(([, job]) => job.nextInvocation()!);
      // 02:00 on a 1st; 09:00 or 15:00 (machine time).
      expect([settlement!.getDate(), settlement!.getHours(), settlement!.getMinutes()]).toEqual([1, 2, 0]);
      expect([9, 15]).toContain(probe!.getHours());
    } finally {
      for (const [, job] of jobs) job.cancel();
    }
  });

  it('routes the seller API, the console, the single sign-on and the Kit calls', () => {
    const routes = Object.values(prod.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => String(r.Properties.RouteKey))
      .sort();
    expect(routes).toEqual([
      'GET /console',
      'GET /console/{proxy+}',
      'GET /koogallery/produce',
      'GET /seller/{proxy+}',
      'GET /sso/{proxy+}',
      'POST /koogallery/produce',
      'POST /koogallery/produce/produceAPI/v2/{name}',
      'POST /koogallery/produce/produceAPI/{name}',
      'POST /seller/{proxy+}',
      'POST /sso/{proxy+}',
    ]);
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

describe('bundles', () => {
  const bundle = (name: FunctionName) => zipFile(join(prodDir, `${name}.zip`), `functions/${name}.cjs`);

  it('carries no SSM client in produce: its access keys come through the Parameters and Secrets extension', () => {
    const code = bundle('produce');
    expect(code.includes('X-Aws-Parameters-Secrets-Token'), 'the extension reader').toBe(true);
    expect(code.includes('AmazonSSM'), 'the SSM client').toBe(false);
  });

  it('carries no AWS SDK client in produce: DynamoDB and SQS go through lib/aws/awsJson.ts', () => {
    const code = bundle('produce');
    expect(code.includes('DynamoDB_20120810'), 'our DynamoDB operations').toBe(true);
    expect(code.includes('middlewareStack'), 'an SDK client').toBe(false);
    // The marker is real: the seller function still bundles the SDK's S3 client.
    expect(bundle('seller').includes('middlewareStack'), 'the S3 client in seller').toBe(true);
  });

  it('carries no default credential chain (SSO, STS) in any function: the credentials come from the environment', () => {
    for (const name of FUNCTIONS.filter((f) => f !== 'console')) {
      const code = bundle(name);
      expect(code.includes('AWS_SECRET_ACCESS_KEY'), `${name}: the environment provider`).toBe(true);
      expect(code.includes('AWSSecurityTokenServiceV20110615'), `${name}: the STS client`).toBe(false);
      expect(code.includes('SWBPortalService'), `${name}: the SSO client`).toBe(false);
    }
  });
});

describe('the console function', () => {
  it('carries the built console in its zip: the packaged handler answers the page and its assets, and no AWS client', async () => {
    const code = zipFile(join(prodDir, 'console.zip'), 'functions/console.cjs');
    expect(code.includes('AWS_SECRET_ACCESS_KEY'), 'no credentials at all').toBe(false);
    const file = join(mkdtempSync(join(tmpdir(), 'console-zip-')), 'console.cjs');
    writeFileSync(file, code);
    const { handler } = createRequire(import.meta.url)(file) as {
      handler: (event: unknown) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
    };
    const get = (path: string) => handler({ rawPath: path, headers: {}, requestContext: { http: { method: 'GET' } } });
    const page = await get('/console');
    expect(page.statusCode).toBe(200);
    expect(page.headers['Content-Security-Policy']).toContain("default-src 'self'");
    const assets = [...page.body.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(2);
    for (const asset of assets) expect((await get(asset)).statusCode, asset).toBe(200);
  });
});

describe('concurrency', () => {
  it('reserves concurrency for produce (stage parameter, 50 by default) and publishes no versions', () => {
    expect(fn(prod, 'produce').Properties.ReservedConcurrentExecutions).toBe(50);
    expect(fn(dev, 'produce').Properties.ReservedConcurrentExecutions).toBe(20);
    for (const name of FUNCTIONS.filter((f) => f !== 'produce')) {
      expect(fn(prod, name).Properties.ReservedConcurrentExecutions, name).toBeUndefined();
    }
    expect(Object.values(prod.Resources).filter((r) => r.Type === 'AWS::Lambda::Version')).toEqual([]);
  });

  it('caps the queue consumers so a provisioning backlog or a settlement fan-out cannot take the pool', () => {
    const scaling = Object.values(prod.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
      .map((r) => [render(r.Properties.FunctionName as Json), r.Properties.ScalingConfig]);
    expect(scaling).toEqual([
      ['{ProvisionLambdaFunction.Arn}', { MaximumConcurrency: 5 }],
      ['{SettlementWorkerLambdaFunction.Arn}', { MaximumConcurrency: 4 }],
    ]);
  });
});

describe('stack outputs', () => {
  it('names what the operator CLI reads with --stage: tables, queues and the dead-letter queue, the bucket, the HTTP API', () => {
    const outputs = prod.Outputs ?? {};
    expect(outputs.MainTableName?.Value).toEqual({ Ref: 'MainTable' });
    expect(outputs.AuditTableName?.Value).toEqual({ Ref: 'AuditTable' });
    expect(outputs.ProvisioningQueueUrl?.Value).toEqual({ Ref: 'ProvisioningQueue' });
    expect(outputs.ProvisioningDeadLetterQueueUrl?.Value).toEqual({ Ref: 'ProvisioningDeadLetterQueue' });
    expect(outputs.SettlementQueueUrl?.Value).toEqual({ Ref: 'SettlementQueue' });
    expect(outputs.FilesBucketName?.Value).toEqual({ Ref: 'FilesBucket' });
    expect(outputs.HttpApiUrl?.Value).toBeDefined();
    // Names and URLs only: no output is a secret.
    expect(JSON.stringify(outputs)).not.toMatch(/SecureString|ACCESS_KEY|secret/i);
  });
});

describe('HTTP API', () => {
  it('writes JSON access logs (request id, ip, route, status, latency) to a log group kept 30 days, never the query string', () => {
    const stage = resource(prod, 'HttpApiStage').Properties;
    const settings = stage.AccessLogSettings as JsonObject;
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
    expect(resource(prod, 'HttpApiLogGroup').Properties.RetentionInDays).toBe(30);
    const format = String(settings.Format);
    // $context.error.messageString is a quoted string: fill every variable with a quoted sample to parse it.
    const sample = JSON.parse(format.replace(/"?\$context\.[\w.]+"?/g, '"x"')) as Record<string, string>;
    expect(Object.keys(sample)).toEqual(expect.arrayContaining(['requestId', 'ip', 'routeKey', 'status', 'latency']));
    expect(format).toContain('"requestId":"$context.requestId"');
    expect(format).toContain('"ip":"$context.identity.sourceIp"');
    expect(format).toContain('"routeKey":"$context.routeKey"');
    expect(format).toContain('"status":"$context.status"');
    expect(format).toContain('"latency":"$context.responseLatency"');
    // The V1 call's authToken travels in the query string; headers may carry keys.
    expect(format).not.toMatch(/\$context\.path|\$request\.|querystring|header/i);
  });

  it('throttles every route by default, from stage parameters', () => {
    expect(resource(prod, 'HttpApiStage').Properties.DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingRateLimit: 100,
      ThrottlingBurstLimit: 200,
    });
  });

  it('has no custom domain by default, and keeps the execute-api endpoint', () => {
    expect(conditionHolds(prod, 'HasCustomDomain')).toBe(false);
    expect(created(prod, 'HttpApiDomainName')).toBe(false);
    expect(created(prod, 'HttpApiDomainMapping')).toBe(false);
    expect(resolveIf(prod, resource(prod, 'HttpApi').Properties.DisableExecuteApiEndpoint ?? null)).toBe(false);
    expect(prod.Outputs?.HttpApiDomainTarget?.Condition).toBe('HasCustomDomain');
  });

  it('maps the custom domain (TLS 1.2, its ACM certificate) when the stage sets one, and switches off the execute-api endpoint', () => {
    expect(conditionHolds(dev, 'HasCustomDomain')).toBe(true);
    expect(created(dev, 'HttpApiDomainName')).toBe(true);
    expect(resource(dev, 'HttpApiDomainName')).toMatchObject({
      Type: 'AWS::ApiGatewayV2::DomainName',
      Properties: {
        DomainName: DEV_PARAMS.domainName,
        DomainNameConfigurations: [{ CertificateArn: DEV_PARAMS.certificateArn, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
      },
    });
    expect(created(dev, 'HttpApiDomainMapping')).toBe(true);
    expect(resource(dev, 'HttpApiDomainMapping')).toMatchObject({
      Type: 'AWS::ApiGatewayV2::ApiMapping',
      Properties: { ApiId: { Ref: 'HttpApi' }, DomainName: { Ref: 'HttpApiDomainName' }, Stage: '$default' },
    });
    expect(asArray(resource(dev, 'HttpApiDomainMapping').DependsOn as Json)).toContain('HttpApiStage');
    expect(resolveIf(dev, resource(dev, 'HttpApi').Properties.DisableExecuteApiEndpoint ?? null)).toBe(true);
    expect(dev.Outputs?.HttpApiCustomDomainUrl?.Value).toBe('https://isv.example.com/koogallery/produce');
  });
});

describe('alarms', () => {
  it('publishes alarms to a topic encrypted with a key CloudWatch may use (not the AWS managed aws/sns key)', () => {
    expect(resource(prod, 'AlarmTopic').Properties.KmsMasterKeyId).toEqual({ Ref: 'AlarmTopicKey' });
    const key = resource(prod, 'AlarmTopicKey');
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const policy = (key.Properties.KeyPolicy as JsonObject).Statement as JsonObject[];
    expect(policy.find((st) => isObject(st.Principal) && st.Principal.Service === 'cloudwatch.amazonaws.com')).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    });
    // Every alarm of the stack notifies the topic.
    for (const [id, r] of Object.entries(prod.Resources)) {
      if (r.Type === 'AWS::CloudWatch::Alarm') expect(r.Properties.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
    }
  });

  it('alarms on produce errors, throttles, and a p99 duration over 4 s of the 5 s budget', () => {
    const onProduce = [{ Name: 'FunctionName', Value: { Ref: 'ProduceLambdaFunction' } }];
    expect(alarm(prod, 'ProduceErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: onProduce,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm(prod, 'ProduceThrottlesAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: onProduce,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const duration = alarm(prod, 'ProduceDurationAlarm');
    expect(duration).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: onProduce,
      ExtendedStatistic: 'p99',
      Threshold: 4000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(duration.Threshold as number).toBeLessThan((fn(prod, 'produce').Properties.Timeout as number) * 1000 - 1500);
  });

  it('alarms on 5xx answers of the HTTP API', () => {
    expect(alarm(prod, 'HttpApi5xxAlarm')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on refused usage records: exactly the metric the usage push writes, in its stage namespace', () => {
    // What the usage push prints on Lambda, with the environment the template gives it.
    const vars = (fn(prod, 'usagePush').Properties.Environment as JsonObject).Variables as JsonObject;
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', String(vars.POWERTOOLS_SERVICE_NAME));
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const metrics = usagePushMetrics(String(vars.STAGE));
      metrics.recordRefused();
      metrics.flush();
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
    const emf = JSON.parse(written.join('').trim()) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    const directive = emf._aws.CloudWatchMetrics[0]!;

    const usage = alarm(prod, 'UsageRecordsRefusedAlarm');
    expect(usage).toMatchObject({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(usage.Namespace).toBe(directive.Namespace);
    expect(usage.Namespace).toBe('KooGalleryISV/prod');
    expect(directive.Metrics.map((m) => m.Name)).toContain(usage.MetricName);
    expect(usage.Dimensions).toEqual(directive.Dimensions[0]!.map((name) => ({ Name: name, Value: emf[name] })));
    // The produce bundle carries no metrics code; the usage push's does.
    expect(zipFile(join(prodDir, 'produce.zip'), 'functions/produce.cjs')).not.toContain('CloudWatchMetrics');
    expect(zipFile(join(prodDir, 'usagePush.zip'), 'functions/usagePush.cjs')).toContain('CloudWatchMetrics');
  });

  /**
   * The metric filter `<metric>MetricFilter` on a log group, counting 1 per matching line into the stage's namespace,
   * and `<metric>Alarm` on that metric with `alarmed`; the filter's resource, for its pattern.
   */
  function countedByFilter(metric: string, logGroup: string, alarmed: JsonObject): Resource {
    const filter = resource(prod, `${metric}MetricFilter`);
    expect(filter.Type).toBe('AWS::Logs::MetricFilter');
    expect(filter.Properties.LogGroupName).toEqual({ Ref: logGroup });
    const transform = (filter.Properties.MetricTransformations as JsonObject[])[0]!;
    expect(transform).toMatchObject({ MetricNamespace: 'KooGalleryISV/prod', MetricName: metric, MetricValue: '1' });
    expect(alarm(prod, `${metric}Alarm`)).toMatchObject({
      Namespace: transform.MetricNamespace,
      MetricName: transform.MetricName,
      ...alarmed,
    });
    return filter;
  }

  it('alarms when the safety sweep reports provisioning stuck: the metric filter matches the line it logs', async () => {
    const filter = countedByFilter('ProvisioningStuck', 'SweepLogGroup', {
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });

    // A new instance whose provisioning never finishes, then the sweep after its re-queues are spent.
    const world = fakeStores();
    const now = Date.parse('2026-11-20T08:30:00.000Z');
    const body = { activity: 'newInstance', orderId: 'CS-STUCK', orderLineId: 'CS-STUCK-000001', businessId: 'biz-stuck' };
    const answer = await handleProduceCall(
      { version: 'v2', rawBody: JSON.stringify(body), query: signedQuery(body, { nowMs: now }), correlationId: 'c-stuck' },
      {
        accessKeys: async () => [{ id: 'test-key', secret: TEST_KEY }],
        store: world.store,
        licenses: world.licenses,
        publisher: world.publisher,
        changePolicy: allowAllChanges,
        settings: { ...PRODUCE_SETTINGS, provisioning: { async: true, inProgressAnswer: '000004' } },
        now: () => now,
        log: { info: () => {}, warn: () => {}, error: () => {} },
      },
    );
    expect(answer.answer.resultCode).toBe('000000');
    const { result, lines } = await printedLogLines((log) =>
      safetySweep(
        { store: world.store, outbox: world.outbox, publisher: world.publisher, log, now: () => now + 3_600_000 },
        { stuckAfterMinutes: 10, maxRequeues: 0, graceHours: 24, limit: 100 },
      ),
    );
    expect(result.reported).toBe(1);
    const pattern = String(filter.Properties.FilterPattern);
    expect(lines.filter((line) => filterMatches(pattern, line))).toHaveLength(1);
    expect(lines.filter((line) => !filterMatches(pattern, line)).map((line) => line.message)).toEqual(['safety sweep']);
  });

  it('alarms on a burst of refused signatures: the metric filter on the produce log counts each refused call, and only those', async () => {
    const filter = countedByFilter('SignatureRefusals', 'ProduceLogGroup', {
      Statistic: 'Sum',
      Period: 300,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });

    // Calls through the real produce flow: a wrongly keyed signature, a replayed nonce, a good call, a bad body.
    const world = fakeStores();
    const now = Date.parse('2026-11-20T08:30:00.000Z');
    const body = { activity: 'newInstance', orderId: 'CS-SIG', orderLineId: 'CS-SIG-000001', businessId: 'biz-sig' };
    const good = signedQuery(body, { nowMs: now, nonce: 'nonce-good-0001' });
    const calls = [
      { rawBody: JSON.stringify(body), query: signedQuery(body, { nowMs: now, key: 'not-the-key-0123456789' }) },
      { rawBody: JSON.stringify(body), query: good },
      { rawBody: JSON.stringify(body), query: good },
      { rawBody: '{"activity":', query: signedQuery(body, { nowMs: now }) },
    ];
    const { result, lines } = await printedLogLines(async (log) => {
      const answers: string[] = [];
      for (const [i, call] of calls.entries()) {
        const given = await handleProduceCall(
          { version: 'v2', ...call, correlationId: `c-sig-${i}` },
          {
            accessKeys: async () => [{ id: 'test-key', secret: TEST_KEY }],
            store: world.store,
            licenses: world.licenses,
            publisher: world.publisher,
            changePolicy: allowAllChanges,
            settings: PRODUCE_SETTINGS,
            now: () => now,
            log,
          },
        );
        answers.push(given.answer.resultCode);
      }
      return answers;
    });
    expect(result).toEqual(['000001', '000000', '000001', '000002']);
    const pattern = String(filter.Properties.FilterPattern);
    const counted = lines.filter((line) => filterMatches(pattern, line));
    expect(counted.map((line) => line.correlationId)).toEqual(['c-sig-0', 'c-sig-2']);
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
  it("files bucket: browser uploads (presigned POST) allowed from the console's origin only", () => {
    const executeApi = 'https://{HttpApi}.execute-api.{AWS::Region}.{AWS::URLSuffix}';
    for (const [template, domain] of [
      [prod, ''],
      [dev, DEV_PARAMS.domainName],
    ] as const) {
      const rules = resource(template, 'FilesBucket').Properties.CorsConfiguration as JsonObject;
      expect(rules.CorsRules).toHaveLength(1);
      const [rule] = rules.CorsRules as JsonObject[];
      expect(rule).toMatchObject({ Id: 'console-uploads', AllowedMethods: ['POST'], AllowedHeaders: ['content-type'], MaxAge: 3000 });
      const [origin] = rule!.AllowedOrigins as Json[];
      expect((rule!.AllowedOrigins as Json[]).length).toBe(1);
      const [condition, withDomain, without] = (origin as JsonObject)['Fn::If'] as Json[];
      expect(condition).toBe('HasCustomDomain');
      expect(withDomain).toBe(`https://${domain}`);
      expect(render(without!)).toBe(executeApi);
    }
  });

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
    // produce, kit, provision (Query Order, webhook deliveries) and usagePush write the message log; the seller API
    // reads it and appends its seller actions; the single sign-on appends its login records; sweep holds no grant on it.
    expect(touchingAudit.map((s) => s.owner).sort()).toEqual([
      'KitRole',
      'ProduceRole',
      'ProvisionRole',
      'SellerRole',
      'SellerRole',
      'SsoRole',
      'UsagePushRole',
    ]);
    for (const s of touchingAudit) {
      expect(s.Effect).toBe('Allow');
      expect(s.Resource.map(render), s.owner).toEqual(['{AuditTable.Arn}']);
      // Writers only put: never UpdateItem, DeleteItem, BatchWriteItem or a wildcard; only the seller API queries.
      expect([['dynamodb:PutItem'], ...(s.owner === 'SellerRole' ? [['dynamodb:Query']] : [])], s.owner).toContainEqual(s.Action);
    }
    expect(
      touchingAudit
        .filter((s) => s.owner === 'SellerRole')
        .flatMap((s) => s.Action)
        .sort(),
    ).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
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
    expect(actionsOn('KitRole', 'MainTable')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    expect(actionsOn('ProofReceivedRole', 'MainTable')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    // The single sign-on: the Kit sync's records (GetItem, Query), login states (put, conditional delete), sessions.
    expect(actionsOn('SsoRole', 'MainTable')).toEqual([
      'dynamodb:DeleteItem',
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
    // Replays: the provisioning retry sends its event, the redrive moves dead-lettered events back.
    expect(actionsOn('SellerRole', 'ProvisioningQueue')).toEqual(['sqs:GetQueueAttributes', 'sqs:SendMessage']);
    expect(actionsOn('SellerRole', 'ProvisioningDeadLetterQueue')).toEqual([
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
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

    expect(secretsOf('SsoRole')).toEqual([`${prefix}/kit-rsa-private-key`, `${prefix}/sso-product-secret`, `${prefix}/sso-signing-key`]);

    for (const roleId of ['ProduceRole', 'ProvisionRole', 'UsagePushRole', 'ProbeRole', 'SsoRole']) {
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

  it('gives the probe no data access at all (only its failed runs go to the failure queue)', () => {
    const data = roleStatements(prod, 'ProbeRole').filter((s) => s.Action.some((a) => /^(dynamodb|sqs|s3):/.test(a)));
    expect(data.map((s) => [s.Action, s.Resource.map(render)])).toEqual([[['sqs:SendMessage'], ['{ScheduledRunFailedQueue.Arn}']]]);
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

describe('notifications', () => {
  it('publish to an encrypted topic, with an e-mail subscription only when the stage names an address', () => {
    const topic = resource(prod, 'NotificationsTopic');
    expect(topic.Type).toBe('AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toBe('alias/aws/sns');
    const email = resource(prod, 'NotificationsEmail');
    expect(email.Condition).toBe('HasNotifyEmail');
    expect(email.Properties.Protocol).toBe('email');
    expect(render((prod as unknown as { Conditions: Record<string, Json> }).Conditions.HasNotifyEmail!)).toContain('""');
  });

  it('let exactly the notifying functions publish, write only NOTIFICATION# records and read their webhook secret', () => {
    const policy = resource(prod, 'NotificationsPolicy');
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    expect((policy.Properties.Roles as Json[]).map(render).sort()).toEqual([
      '{ProvisionRole}',
      '{SellerRole}',
      '{SettlementRole}',
      '{SweepRole}',
      '{UsagePushRole}',
    ]);
    const granted = statements({ Resources: { NotificationsPolicy: policy } });
    const publish = granted.find((s) => s.Action.includes('sns:Publish'))!;
    expect(publish.Resource.map(render)).toEqual(['{NotificationsTopic}']);
    const records = granted.find((s) => s.Action.includes('dynamodb:PutItem'))!;
    expect(records.Action.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(records.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['NOTIFICATION#*'] } });
    const secret = granted.find((s) => s.Action.includes('ssm:GetParameter'))!;
    expect(secret.Resource.map(render)).toEqual([expect.stringMatching(/:parameter\/koogallery-isv\/prod\/notify-webhook-secret$/)]);
    // The produce function's role is not among them: the marketplace's path notifies nobody.
    expect(fn(prod, 'produce').Properties.Environment).toBeDefined();
  });

  it('give the functions the topic and the dead-letter queue the safety sweep watches', () => {
    const variables = fn(prod, 'sweep').Properties.Environment as { Variables: Record<string, Json> };
    expect(render(variables.Variables.NOTIFY_TOPIC_ARN!)).toBe('{NotificationsTopic}');
    expect(render(variables.Variables.PROVISIONING_DLQ_URL!)).toBe('{ProvisioningDeadLetterQueue}');
    const depth = statements({ Resources: { SweepDeadLetterDepth: resource(prod, 'SweepDeadLetterDepth') } });
    expect(depth.map((s) => [s.Action, s.Resource.map(render)])).toEqual([
      [['sqs:GetQueueAttributes'], ['{ProvisioningDeadLetterQueue.Arn}']],
    ]);
  });
});
