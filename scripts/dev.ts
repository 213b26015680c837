/**
 * `npm start`: the whole back end on this machine, on 127.0.0.1.
 *   DynamoDB Local (data in .local/dynamodb/) + fauxqs (S3/SQS, in memory; the S3 front keeps the bucket's objects
 *   in .local/s3/ and restores them at start) + the fake KooGallery Open API and the
 *   reference webhook receiver (both in this process) → tables, queues and buckets from serverless.yml/resources →
 *   the local S3 front (presigned POST uploads, ObjectCreated events to proofReceived) → serverless offline (HTTP API,
 *   schedules, Lambda invoke API) → SQS bridges (provisioning, settlement).
 * A new instance goes PROVISIONING → (queue, bridge) provision: Query Order on the fake, the seller's webhook on the
 * receiver → ACTIVE with appInfo. OPENAPI_BASE_URL / WEBHOOK_URL pointing elsewhere replace the stand-ins.
 * `npm start -- --fresh` deletes .local/ first. Ctrl-C / SIGTERM stops every child (by process group).
 * Settings: .env (see .env.example), overridden by the shell's environment.
 */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  JavaMissingError,
  LOCAL_CREDENTIALS,
  LOCAL_HOST,
  LOCAL_REGION,
  assertJava,
  createResources,
  startDynamoDbLocal,
  startFauxqs,
  type DynamoDbLocal,
  type Emulator,
} from './local/emulators.ts';
import {
  LOCAL_DEFAULT_ACCESS_KEY,
  LOCAL_DEFAULT_OPENAPI_CREDENTIALS,
  LOCAL_DEFAULT_PORTS,
  LOCAL_DEFAULT_SETTINGS,
  LOCAL_DEFAULT_WEBHOOK_SECRET,
  functionEnv,
  functionEnvProblem,
  isOn,
  ssoLocalDefaults,
  planLocalIntegrations,
  settings,
} from './local/env.ts';
import { startFakeOpenApi, type FakeOpenApi } from './local/fake-openapi.ts';
import { startFakeOneAccess, type FakeOneAccess, type FakeOneAccessUser } from './local/fake-oneaccess.ts';
import { localSsoSigningKey } from './local/ssoKey.ts';
import { localKitRsaKey } from './local/kitKey.ts';
import { kitPublicKeyOf } from '#lib/kit/rsaKeyPair.ts';
import { startOffline, type Offline } from './local/offline.ts';
import { assertPortFree, groupAlive, startedGroups, stopAllGroups } from './local/processes.ts';
import { projectRoot } from './local/serverless-config.ts';
import { offlineInvoker, startS3Gateway, type S3Gateway } from './local/s3-gateway.ts';
import { startSqsBridge, type SqsBridge } from './local/sqs-bridge.ts';
import { removeStackFile, STACK_FILE, writeStackFile } from './local/stackFile.ts';
import { startWebhookReceiver, type WebhookReceiver } from './local/webhook-receiver.ts';
import { localSellerKey } from './local/sellerKey.ts';
import { newDynamoClient, type DynamoDb } from '#lib/aws/clients.ts';
import { queryPrefix } from '#lib/store/dynamo.ts';
import { keys } from '#lib/store/keys.ts';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ORDER_QUERY_PATH } from '#lib/koogallery/openApi/contract.ts';
import { MIN_SECRET_LENGTH } from '#lib/provisioning/webhook.ts';

const STAGE = 'local';
const started = Date.now();
const root = projectRoot();
const dataDir = join(root, '.local', 'dynamodb');
const s3DataDir = join(root, '.local', 's3');
const config = settings(join(root, '.env'));

function port(name: string, fallback: number): number {
  const raw = config[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    console.error(`${name} must be a port number, got "${raw}"`);
    process.exit(1);
  }
  return n;
}

const ports = {
  dynamo: port('DYNAMODB_PORT', 8000),
  fauxqs: port('FAUXQS_PORT', 4566),
  s3: port('S3_PORT', 4567),
  http: port('HTTP_PORT', 3000),
  lambda: port('LAMBDA_PORT', 3002),
  fakeOpenApi: port('FAKE_OPENAPI_PORT', LOCAL_DEFAULT_PORTS.FAKE_OPENAPI_PORT),
  webhookReceiver: port('WEBHOOK_RECEIVER_PORT', LOCAL_DEFAULT_PORTS.WEBHOOK_RECEIVER_PORT),
  fakeOneAccess: port('FAKE_ONEACCESS_PORT', LOCAL_DEFAULT_PORTS.FAKE_ONEACCESS_PORT),
};

/** Local-only: seconds before the SQS bridge retries a failed message; unset = the queue's visibility timeout (AWS). */
function retryDelay(): number | undefined {
  const raw = config.SQS_RETRY_DELAY_SECONDS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 43_200) {
    console.error(`SQS_RETRY_DELAY_SECONDS must be a whole number of seconds from 0 to 43200, got "${raw}"`);
    process.exit(1);
  }
  return n;
}
const retryDelaySeconds = retryDelay();

const plan = planLocalIntegrations(config, ports);
if (plan.webhookReceiver && plan.webhookReceiver.secret.length < MIN_SECRET_LENGTH) {
  console.error(`[local] WEBHOOK_SECRET must be at least ${MIN_SECRET_LENGTH} characters (or unset: the local default)`);
  process.exit(1);
}

const say = (line: string) => console.log(`[local] ${line}`);
/** A URL without its query string (which may hold a token), for the banner. */
const withoutQuery = (url: string | undefined) => {
  try {
    const u = new URL(url ?? '');
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
};

try {
  assertJava();
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(`[local] ${error.message}`);
    process.exit(1);
  }
  throw error;
}

if (process.argv.includes('--fresh')) {
  rmSync(join(root, '.local'), { recursive: true, force: true });
  say('--fresh: deleted .local/');
}

let dynamo: DynamoDbLocal | undefined;
let fauxqs: Emulator | undefined;
let fakeOpenApi: FakeOpenApi | undefined;
let receiver: WebhookReceiver | undefined;
let fakeOneAccess: FakeOneAccess | undefined;
/** The fake OneAccess's users: those the Kit sync stored for the tenant (any status, so a refusal can be tried). */
let directoryReader: DynamoDb | undefined;
let mainTable = '';
async function storedUsers(tenantId: string): Promise<FakeOneAccessUser[]> {
  if (!directoryReader) return [];
  const items = await queryPrefix(directoryReader, mainTable, keys.tenantPartition(tenantId), 'USER#');
  return items.map((item) => unmarshall(item)).map((u) => ({ tenantId, userName: String(u.userName), name: String(u.name ?? u.userName) }));
}
let offline: Offline | undefined;
let s3Gateway: S3Gateway | undefined;
const bridges: SqsBridge[] = [];
let shuttingDown = false;

/** Stops everything we started, newest first, then checks that no child process group survived. */
async function shutdown(reason: string, exitCode: number): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => {});
  shuttingDown = true;
  const stopStarted = Date.now();
  say(`stopping (${reason})…`);
  const groups = startedGroups();
  const step = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      console.error(`[local] stopping ${what}: ${(error as Error).message}`);
      exitCode ||= 1;
    }
  };
  await step('tools settings', async () => removeStackFile());
  await step('sqs bridge', async () => void (await Promise.all(bridges.map((b) => b.stop()))));
  if (offline) await step('serverless offline', offline.stop);
  if (s3Gateway) await step('S3 front', s3Gateway.close);
  if (receiver) await step('webhook receiver', receiver.close);
  if (fakeOpenApi) await step('fake Open API', fakeOpenApi.close);
  if (fakeOneAccess) await step('fake OneAccess', fakeOneAccess.close);
  directoryReader?.destroy();
  if (fauxqs) await step('fauxqs', fauxqs.stop);
  if (dynamo) await step('DynamoDB Local', dynamo.stop);
  // Children whose start-up was interrupted (a signal during start) have no handle yet.
  await step('remaining children', () => stopAllGroups());
  const survivors = groups.filter(groupAlive);
  if (survivors.length > 0) {
    console.error(`[local] process groups still alive: ${survivors.join(', ')}`);
    exitCode ||= 1;
  } else {
    say(`stopped in ${((Date.now() - stopStarted) / 1000).toFixed(1)} s; no child process left`);
  }
  process.exit(exitCode);
}

let firstSignalAt = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      void shutdown(signal, 0);
      return;
    }
    // A Ctrl-C in a terminal reaches us twice (from the terminal and forwarded by npm): ignore repeats for a second.
    if (Date.now() - firstSignalAt < 1_000) return;
    // A later Ctrl-C: stop waiting for a graceful shutdown.
    say('second signal: killing the child process groups');
    for (const pid of startedGroups()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

// If whatever started us dies without passing a signal on (e.g. `sh -c` under npm, or npm killed), we are
// re-parented: take that as a stop request so no emulator is left behind.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown('parent process exited', 0);
}, 1_000).unref();

try {
  const standIns = [
    plan.fakeOpenApi ? `the fake Open API on :${plan.fakeOpenApi.port}` : '',
    plan.webhookReceiver ? `the webhook receiver on :${plan.webhookReceiver.port}` : '',
  ].filter(Boolean);
  say(`starting DynamoDB Local on :${ports.dynamo}, fauxqs on :${ports.fauxqs}${standIns.map((s) => `, ${s}`).join('')}…`);
  const [d, f, o, w] = await Promise.allSettled([
    startDynamoDbLocal({ port: ports.dynamo, dataDir }),
    startFauxqs({ port: ports.fauxqs }),
    plan.fakeOpenApi &&
      assertPortFree(plan.fakeOpenApi.port, 'fake Open API', 'FAKE_OPENAPI_PORT').then(() =>
        startFakeOpenApi({
          port: plan.fakeOpenApi!.port,
          credentials: plan.fakeOpenApi!.credentials,
          // The usage push signs its body with the access key the production interface verifies.
          accessKey: config.KOOGALLERY_ACCESS_KEY || LOCAL_DEFAULT_ACCESS_KEY,
          log: (line) => console.log(`[fake-openapi] ${line}`),
        }),
      ),
    plan.webhookReceiver &&
      assertPortFree(plan.webhookReceiver.port, 'webhook receiver', 'WEBHOOK_RECEIVER_PORT').then(() =>
        startWebhookReceiver({ port: plan.webhookReceiver!.port, secret: plan.webhookReceiver!.secret, log: (line) => console.log(line) }),
      ),
  ]);
  if (d.status === 'fulfilled') dynamo = d.value;
  if (f.status === 'fulfilled') fauxqs = f.value;
  if (o.status === 'fulfilled') fakeOpenApi = o.value;
  if (w.status === 'fulfilled') receiver = w.value;
  for (const r of [d, f, o, w]) if (r.status === 'rejected') throw r.reason;
  if (!dynamo || !fauxqs) throw new Error('emulators did not start');
  await assertPortFree(ports.fakeOneAccess, 'fake OneAccess', 'FAKE_ONEACCESS_PORT');
  fakeOneAccess = await startFakeOneAccess({
    port: ports.fakeOneAccess,
    usersOf: storedUsers,
    log: (line) => console.log(`[fake-oneaccess] ${line}`),
  });
  void dynamo.process.exited.then((code) => shutdown(`DynamoDB Local exited (${String(code)})`, 1));

  const resources = await createResources({
    stage: STAGE,
    dynamoEndpoint: dynamo.endpoint,
    sqsEndpoint: fauxqs.endpoint,
    root,
    log: say,
  });
  // S3 goes through the local S3 front: presigned POST uploads (which fauxqs lacks) and the bucket's ObjectCreated
  // notification on proofs/, delivered to the proofReceived function as on AWS (resources/s3.yml).
  const proofFunction = `${resources.service}-${STAGE}-proofReceived`;
  await assertPortFree(ports.s3, 'S3 front', 'S3_PORT');
  s3Gateway = await startS3Gateway({
    upstream: fauxqs.endpoint,
    host: LOCAL_HOST,
    port: ports.s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    dataDir: s3DataDir,
    // The bucket's CORS rule: browser uploads from the console's origin only.
    corsOrigins: () => [`http://${LOCAL_HOST}:${ports.http}`],
    notifications: [
      {
        bucket: resources.buckets.FilesBucket,
        prefix: 'proofs/',
        deliver: (event) => {
          if (!offline) throw new Error('serverless offline is not running yet');
          return offlineInvoker(offline.lambdaUrl, proofFunction)(event);
        },
      },
    ],
    log: (line) => console.log(`[s3] ${line}`),
  });
  const endpoints = { dynamo: dynamo.endpoint, sqs: fauxqs.endpoint, s3: s3Gateway.endpoint };
  const env = functionEnv({
    base: config,
    resources,
    endpoints,
    integrations: {
      fakeOpenApi: fakeOpenApi && plan.fakeOpenApi && { url: fakeOpenApi.url, credentials: plan.fakeOpenApi.credentials },
      webhookReceiver: receiver && plan.webhookReceiver && { url: receiver.url, secret: plan.webhookReceiver.secret },
    },
  });
  // The single sign-on: our callback on the local HTTP API, the fake OneAccess's stand-in product, the key in .local/.
  const ssoKey = localSsoSigningKey(root);
  const ssoDefaults = ssoLocalDefaults({
    httpUrl: `http://${LOCAL_HOST}:${ports.http}`,
    fakeOneAccessUrl: fakeOneAccess.url,
    signingKey: ssoKey.pem,
  });
  for (const [name, value] of Object.entries(ssoDefaults)) if (!env[name]) env[name] = value;
  // The Kit calls: the seller's RSA key in .local/ unless KIT_RSA_PRIVATE_KEY is set; its public half for the tools.
  const kitKey = env.KIT_RSA_PRIVATE_KEY ? undefined : localKitRsaKey(root);
  if (kitKey) env.KIT_RSA_PRIVATE_KEY = kitKey.pem;
  const kitPublicKey = kitKey?.publicKey ?? kitPublicKeyOf(env.KIT_RSA_PRIVATE_KEY!);
  mainTable = resources.tables.MainTable!;
  directoryReader = newDynamoClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  // What the functions would refuse at their first call (a missing AK/SK, an http: webhook URL…): say it now.
  const problem = functionEnvProblem(env);
  if (problem) throw new Error(`${problem} (set it in .env or the shell; see .env.example)`);

  // A seller API key with every scope: the one kept in .local/ while it is valid, else a new one (kept for next time).
  const dynamoClient = newDynamoClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const sellerKey = await localSellerKey(dynamoClient, resources.tables.MainTable!);
  dynamoClient.destroy();

  say(`starting serverless offline on :${ports.http} (Lambda API :${ports.lambda})…`);
  offline = await startOffline({
    httpPort: ports.http,
    lambdaPort: ports.lambda,
    env,
    stage: STAGE,
    cwd: root,
    onLine: (line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`${line}\n`),
  });
  void offline.process.exited.then((code) => shutdown(`serverless offline exited (${String(code)})`, 1));

  const bridgeLines: string[] = [];
  for (const consumer of resources.consumers) {
    if (!consumer.queue) {
      say(`warning: no local queue for the sqs event of ${consumer.functionKey}; not bridged`);
      continue;
    }
    bridges.push(
      await startSqsBridge({
        queueUrl: consumer.queue.url,
        sqsEndpoint: fauxqs.endpoint,
        lambdaEndpoint: offline.lambdaUrl,
        functionName: consumer.functionName,
        batchSize: consumer.batchSize,
        reportBatchItemFailures: consumer.reportBatchItemFailures,
        region: LOCAL_REGION,
        ...(retryDelaySeconds === undefined ? {} : { retryDelaySeconds }),
      }),
    );
    const retries =
      retryDelaySeconds === undefined ? "retries after the queue's visibility timeout" : `retries after ${retryDelaySeconds} s`;
    bridgeLines.push(`  SQS bridge             ${consumer.queue.name} → ${consumer.functionName} (${retries})`);
  }

  const key = env.KOOGALLERY_ACCESS_KEY!;
  const keyLine =
    key === LOCAL_DEFAULT_ACCESS_KEY
      ? `${key} (the documented local default; set KOOGALLERY_ACCESS_KEY in .env to change it)`
      : `${key.slice(0, 4)}…(${key.length} chars) from KOOGALLERY_ACCESS_KEY`;
  const secretLine = (value: string, localDefault: string, setting: string) =>
    value === localDefault
      ? `${value} (local default; set ${setting} to change it)`
      : `${value.slice(0, 4)}…(${value.length} chars) from ${setting}`;
  const asyncSteps = [isOn(env.ORDER_QUERY) ? 'Query Order' : '', env.PROVISIONING_MODE === 'webhook' ? 'webhook' : 'templates'];
  const provisioningLine =
    env.PROVISIONING_MODE === 'webhook' || isOn(env.ORDER_QUERY)
      ? `newInstance → PROVISIONING (queryInstance answers ${env.QUERY_PROVISIONING_ANSWER || '000004'}) → provision ` +
        `(${asyncSteps.filter(Boolean).join(' + ')}) → ACTIVE with appInfo`
      : 'newInstance → ACTIVE at once, appInfo from APP_*_TEMPLATE';
  const integrationLines = [
    `  Provisioning           PROVISIONING_MODE=${env.PROVISIONING_MODE}, ORDER_QUERY=${env.ORDER_QUERY}: ${provisioningLine}`,
    fakeOpenApi
      ? `  Open API (fake)        ${fakeOpenApi.url}   Query Order: GET ${fakeOpenApi.url}${ORDER_QUERY_PATH}; ` +
        `orders: POST ${fakeOpenApi.url}/fake/orders; calls: GET ${fakeOpenApi.url}/fake/calls`
      : `  Open API               ${isOn(env.ORDER_QUERY) ? env.OPENAPI_BASE_URL : 'not called'} (no fake: ${plan.skipped.fakeOpenApi ?? '-'})`,
    ...(fakeOpenApi && plan.fakeOpenApi
      ? [
          `  Open API AK            ${secretLine(plan.fakeOpenApi.credentials.ak, LOCAL_DEFAULT_OPENAPI_CREDENTIALS.ak, 'KOOGALLERY_AK')}`,
          `  Open API SK            ${secretLine(plan.fakeOpenApi.credentials.sk, LOCAL_DEFAULT_OPENAPI_CREDENTIALS.sk, 'KOOGALLERY_SK')}`,
        ]
      : []),
    receiver
      ? `  Webhook receiver       POST ${receiver.url}   tenants: GET ${new URL(receiver.url).origin}/_control/tenants`
      : `  Webhook                ${env.PROVISIONING_MODE === 'webhook' ? withoutQuery(env.WEBHOOK_URL) : 'not called'} (no reference receiver: ${plan.skipped.webhookReceiver ?? '-'})`,
    `  Kit calls              POST ${offline.url}/koogallery/produce/produceAPI/v2/<tenantSync|applicationSync|authSync|` +
      'singleOrgSync|allOrgSync>',
    `  Kit access key         ${secretLine(env.KOOGALLERY_KIT_ACCESS_KEY ?? '', LOCAL_DEFAULT_SETTINGS.KOOGALLERY_KIT_ACCESS_KEY, 'KOOGALLERY_KIT_ACCESS_KEY')}`,
    `  Kit RSA key            ${kitKey ? `${relative(process.cwd(), kitKey.file)}${kitKey.created ? ' (new)' : ''}` : 'from KIT_RSA_PRIVATE_KEY'}; ` +
      'public key for the Seller Console (公钥): `npx koogallery kit keygen` makes a pair for a stage',
    `                         ${kitPublicKey.slice(0, 24)}…(${kitPublicKey.length} chars, in ${relative(process.cwd(), STACK_FILE)} kit.publicKey); ` +
      'try it: npx koogallery-sim scenario joint-operation',
    `  Single sign-on         GET ${offline.url}/sso/login?tenant=<tenantId>   fake OneAccess ${fakeOneAccess.url} ` +
      `(a tenant's domainName: ${fakeOneAccess.url}/t/<tenantId>)`,
    `                         signing key ${relative(process.cwd(), ssoKey.file)}${ssoKey.created ? ' (new)' : ''}; ` +
      `JWKS ${offline.url}/sso/jwks.json; product login ${env.SSO_PRODUCT_LOGIN_URL ?? '(set SSO_PRODUCT_LOGIN_URL)'}`,
    ...(receiver && plan.webhookReceiver
      ? [
          `                         deliveries: GET ${new URL(receiver.url).origin}/_control/deliveries; ` +
            `inject failures: POST ${new URL(receiver.url).origin}/_control/fail {"times":2}`,
          `  Webhook secret         ${secretLine(plan.webhookReceiver.secret, LOCAL_DEFAULT_WEBHOOK_SECRET, 'WEBHOOK_SECRET')}`,
        ]
      : []),
  ];
  const notificationsTopic = resources.topics.NotificationsTopic;
  const lines = [
    '',
    `KooGallery ISV back end, stage "${STAGE}", ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    '',
    `  Production interface   POST ${offline.url}/koogallery/produce`,
    `  Access key             ${keyLine}`,
    `  Console: ${offline.url}/console   (the seller console; sign in with the seller API key below)`,
    `  Seller API             ${offline.url}/seller/…   document: GET ${offline.url}/seller/openapi.json`,
    `  Seller API key         ${sellerKey.secret}   (keyId ${sellerKey.key.keyId}, every scope, ` +
      `${sellerKey.reused ? 'the same as at the last start' : 'new: the previous local key, if any, is revoked'}; ` +
      `\`npm run keys\` for others)`,
    `  Usage push             hourly at minute 5, or now: POST ${offline.lambdaUrl}/2015-03-31/functions/koogallery-isv-${STAGE}-usagePush/invocations`,
    `  Lambda invoke API      ${offline.lambdaUrl}/2015-03-31/functions/<name>/invocations`,
    `  DynamoDB Local         ${dynamo.endpoint}   tables: ${Object.values(resources.tables).join(', ')}`,
    `  S3 + SQS (fauxqs)      ${fauxqs.endpoint}   queues: ${Object.values(resources.queues)
      .map((q) => q.name)
      .join(', ')}`,
    ...(notificationsTopic
      ? [
          `  Notifications (SNS)    ${notificationsTopic.arn} on fauxqs → queue ${notificationsTopic.subscriber.name}; ` +
            'read them: npx koogallery notifications list',
        ]
      : []),
    `  S3 (functions)         ${s3Gateway.endpoint}   bucket ${resources.buckets.FilesBucket}: presigned POST uploads, proofs/ → proofReceived`,
    ...bridgeLines,
    '',
    ...integrationLines,
    '',
    `  Data                   kept between runs in ${relative(process.cwd(), join(root, '.local')) || '.'}/ ` +
      '(`npm start -- --fresh` wipes it): DynamoDB (tables, keys, messages, statements),',
    '                         S3 objects (statement files, proofs, bill uploads; restored into fauxqs at start),',
    '                         the seller API key above (reused while it is valid)',
    '                         Not kept: SQS messages (queues are recreated empty; a message in flight at stop is lost,',
    "                         the hourly sweep re-queues stuck provisioning), the fake Open API's orders and calls,",
    "                         the webhook receiver's tenants and deliveries",
    '',
    '  Ctrl-C stops everything.',
    '',
  ];
  writeStackFile({
    version: 1,
    pid: process.pid,
    startedAt: new Date(started).toISOString(),
    stage: STAGE,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    urls: {
      http: offline.url,
      produce: `${offline.url}/koogallery/produce`,
      seller: offline.url,
      lambda: offline.lambdaUrl,
      ...(fakeOpenApi ? { fakeOpenApi: fakeOpenApi.url } : {}),
      ...(receiver ? { webhookReceiver: receiver.url } : {}),
      fakeOneAccess: fakeOneAccess.url,
    },
    endpoints: { dynamodb: dynamo.endpoint, sqs: fauxqs.endpoint, s3: s3Gateway.endpoint },
    env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
    accessKey: key,
    sellerKey: { keyId: sellerKey.key.keyId, secret: sellerKey.secret },
    kit: { accessKey: env.KOOGALLERY_KIT_ACCESS_KEY!, publicKey: kitPublicKey },
  });
  lines.splice(
    lines.length - 2,
    0,
    `  Tools                  settings for the tools in ${relative(process.cwd(), STACK_FILE)} (removed at stop)`,
  );
  console.log(lines.join('\n'));
} catch (error) {
  console.error(`[local] start-up failed: ${(error as Error).message}`);
  await shutdown('start-up failed', 1);
}
