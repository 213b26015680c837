import { randomUUID } from 'node:crypto';
import { SCOPES } from '#lib/seller-api/apiKeys.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dynamoClient, sqsReceivingClient } from '#lib/aws/clients.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { statementStore } from '#lib/store/statementStore.ts';
import { testStackFile } from '../helpers/operator.ts';
import type { OperatorActionRecord } from '../../scripts/operator/context.ts';
import { runKoogallery, type RunOptions } from '../../scripts/operator/main.ts';
import { cliLog } from '../../scripts/operator/context.ts';
import { config } from '#lib/config.ts';
import * as notices from '#lib/notifications/events.ts';
import { notifyFor } from '#lib/notifications/deps.ts';
import { storedInstance } from '../helpers/instances.ts';
import { allOrgBody, appBody, authBody, encryptSecret, kitClient, tenantBody, uniqueTenant, user } from '../helpers/kit.ts';
import { invokeRaw } from '../helpers/produce.ts';
import { signedQuery } from '../helpers/signing.ts';

/**
 * `npx koogallery`, the operator CLI, against DynamoDB Local and fauxqs: on the local stack through a stack file
 * (as `npm start` writes it), and on a "deployed stage" whose stack outputs a CloudFormation stand-in answers.
 */

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const dir = mkdtempSync(join(tmpdir(), 'koogallery-cli-'));
const stackFile = join(dir, 'stack.json');
const sqs = sqsReceivingClient();
let queues: { source: string; dlq: string };

/** A queue and its dead-letter queue of this file's own (the shared provisioning queue has other consumers). */
async function queuePair() {
  const name = `cli-${randomUUID().slice(0, 8)}`;
  const dlq = (await sqs.send('CreateQueue', { QueueName: `${name}-dlq` })).QueueUrl!;
  const arn = (await sqs.send('GetQueueAttributes', { QueueUrl: dlq, AttributeNames: ['QueueArn'] })).Attributes!.QueueArn!;
  const attributes = { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 }) };
  const source = (await sqs.send('CreateQueue', { QueueName: name, Attributes: attributes })).QueueUrl!;
  return { source, dlq };
}

beforeAll(async () => {
  queues = await queuePair();
  testStackFile(stackFile, { env: { PROVISIONING_QUEUE_URL: queues.source } });
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const url of [queues.source, queues.dlq]) await sqs.send('DeleteQueue', { QueueUrl: url }).catch(() => {});
});

interface Ran {
  code: number;
  out: string[];
  err: string[];
  records: OperatorActionRecord[];
}

async function cli(argv: string[], options: RunOptions = {}): Promise<Ran> {
  const ran: Ran = { code: -1, out: [], err: [], records: [] };
  ran.code = await runKoogallery(argv, {
    stackFile,
    io: { out: (l) => ran.out.push(l), err: (l) => ran.err.push(l) },
    record: async (r) => {
      ran.records.push(r);
    },
    ...options,
  });
  return ran;
}

const keys = () => apiKeyStore(dynamoClient(), env('MAIN_TABLE'));
const liveNamed = async (name: string) => (await keys().list()).filter((k) => k.name === name && !k.revokedAt);

describe('koogallery --help', () => {
  const noStack = { stackFile: join(dir, 'missing.json') };

  it('prints every area, an area and a command with no stack running', async () => {
    const global = await cli(['--help'], noStack);
    expect(global.code).toBe(0);
    for (const area of [
      'keys',
      'instances',
      'provisioning',
      'messages',
      'dlq',
      'notifications',
      'statements',
      'usage',
      'licenses',
      'proofs',
    ])
      expect(global.out.join('\n')).toContain(`koogallery ${area} `);
    const command = await cli(['keys', 'create', '--help'], noStack);
    expect(command.code).toBe(0);
    expect(command.out.join('\n')).toMatch(/^Usage: koogallery keys create --name <name> --scopes/);
    const area = await cli(['statements', '-h', '--stage', 'prod'], noStack);
    expect(area.code).toBe(0);
    expect(area.out.join('\n')).toContain('koogallery statements close <YYYY-MM>');
    expect(area.out.join('\n')).not.toContain('koogallery keys create');
  });

  it('says to start the local stack, or to name a stage, when no stack runs', async () => {
    const ran = await cli(['keys', 'list'], noStack);
    expect(ran.code).toBe(2);
    expect(ran.err.join('\n')).toContain('start it with `npm start` (or name a deployed stage with --stage)');
  });

  it('refuses unknown areas, commands and options with the way out (exit code 2)', async () => {
    expect((await cli(['nope'])).err.join('\n')).toMatch(/unknown area "nope"[\s\S]*koogallery --help/);
    expect((await cli(['keys', 'rotate'])).code).toBe(2);
    const option = await cli(['keys', 'list', '--colour']);
    expect(option.code).toBe(2);
    expect(option.err.join('\n')).toMatch(/Unknown option '--colour'[\s\S]*usage: koogallery keys list/);
    expect((await cli(['instances', 'show'])).err[0]).toBe('error: instances show needs an argument');
    expect((await cli(['keys', 'list', '--region', 'eu-west-1'])).err[0]).toBe('error: --region names the region of a --stage');
  });
});

describe('koogallery keys', () => {
  it('writes each change to the audit table as the operator’s action (the default recorder)', async () => {
    const name = `audited-${Date.now()}`;
    const from = new Date(Date.now() - 1_000).toISOString();
    const ran = await cli(['keys', 'create', '--name', name, '--scopes', 'usage:read'], {
      record: undefined,
      principal: async () => 'local:operator@test-host',
    });
    expect(ran.code).toBe(0);
    const found = await sellerActionLog(dynamoClient(), env('AUDIT_TABLE')).list({
      from,
      to: new Date(Date.now() + 1_000).toISOString(),
      actor: 'local:operator@test-host',
      action: 'keys.create',
    });
    expect(found.items).toHaveLength(1);
    expect(found.items[0]).toMatchObject({
      channel: 'operator',
      actor: { kind: 'operator', principal: 'local:operator@test-host' },
      target: { id: name },
      result: { outcome: 'ok' },
    });
    expect(JSON.stringify(found.items[0])).not.toContain('kgs_');
  });

  it('creates a key (secret shown once), lists it without the secret, revokes it: each change recorded with the operator', async () => {
    const name = `ops-${randomUUID().slice(0, 6)}`;
    const created = await cli(['keys', 'create', '--name', name, '--scopes', 'instances:read, messages:read', '--json']);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.out.join('\n')) as { keyId: string; secret: string; scopes: string[] };
    expect(key.secret).toMatch(/^kgs_/);
    expect(key.scopes).toEqual(['instances:read', 'messages:read']);
    expect((await keys().authenticate(key.secret, Date.now())).ok).toBe(true);

    const listed = await cli(['keys', 'list']);
    expect(listed.out[0]).toMatch(/^KEY ID\s+NAME\s+SCOPES/);
    expect(listed.out.find((l) => l.startsWith(key.keyId))).toContain(name);
    expect(listed.out.join('\n')).not.toContain(key.secret);

    const revoked = await cli(['keys', 'revoke', name]);
    expect(revoked.code).toBe(0);
    expect(revoked.out[0]).toMatch(new RegExp(`^API key ${key.keyId} \\(${name}\\) revoked at `));
    expect((await keys().authenticate(key.secret, Date.now())).ok).toBe(false);

    const records = [...created.records, ...revoked.records];
    expect(records.map((r) => [r.action, r.target, r.result])).toEqual([
      ['keys.create', name, 'done'],
      ['keys.revoke', name, 'done'],
    ]);
    expect(records[0]!.actor).toMatch(/^local:.+@.+/);
  });

  it('refuses bad input with exit code 2 and creates nothing; a taken name or an unknown key with exit code 1', async () => {
    const name = `bad-${randomUUID().slice(0, 6)}`;
    const noScopes = await cli(['keys', 'create', '--name', name]);
    expect(noScopes.code).toBe(2);
    expect(noScopes.err[0]).toBe(`error: --scopes is required (a comma-separated list of ${SCOPES.join(', ')})`);
    const badScope = await cli(['keys', 'create', '--name', name, '--scopes', 'root']);
    expect(badScope.code).toBe(2);
    expect(badScope.err[0]).toMatch(/root/);
    expect(badScope.records.map((r) => r.result)).toEqual(['refused']);
    expect(await liveNamed(name)).toEqual([]);

    expect((await cli(['keys', 'create', '--name', name, '--scopes', 'usage:read'])).code).toBe(0);
    const taken = await cli(['keys', 'create', '--name', name, '--scopes', 'usage:read']);
    expect(taken.code).toBe(1);
    expect(await liveNamed(name)).toHaveLength(1);
    const unknown = await cli(['keys', 'revoke', 'k-does-not-exist']);
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toContain('koogallery keys list');
  });
});

describe('koogallery instances and provisioning', () => {
  it('lists and shows instances, never the initial password', async () => {
    const instance = await storedInstance('cli', {
      productId: `P-${randomUUID().slice(0, 6)}`,
      appInfo: { frontEndUrl: 'https://a.example', password: 'pw-never-shown' },
    });
    const listed = await cli(['instances', 'list', '--product', instance.productId!]);
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toMatch(/^INSTANCE\s+STATE\s+PRODUCT/);
    expect(listed.out[1]).toMatch(new RegExp(`^${instance.instanceId}\\s+ACTIVE\\s+${instance.productId}`));
    const shown = await cli(['instances', 'show', instance.instanceId]);
    expect(shown.code).toBe(0);
    expect(shown.out.join('\n')).toContain('front end');
    const json = await cli(['instances', 'show', instance.instanceId, '--json']);
    expect(JSON.parse(json.out.join('\n')).instance.instanceId).toBe(instance.instanceId);
    expect([...shown.out, ...json.out].join('\n')).not.toContain('pw-never-shown');
    expect((await cli(['instances', 'show', 'no-such-instance'])).code).toBe(1);
    expect((await cli(['instances', 'list', '--state', 'SLEEPING'])).code).toBe(2);
  });

  it('shows the attempts of a failed provisioning and retries it once; a retry of an active instance is refused', async () => {
    const failed = await storedInstance('cli-failed', {
      state: 'PROVISIONING_FAILED',
      provisioning: { failure: { reason: 'webhook answered 500', at: new Date().toISOString(), eventId: 'e-1' } },
    });
    const attempts = await cli(['provisioning', 'attempts', failed.instanceId]);
    expect(attempts.code).toBe(0);
    expect(attempts.out.join('\n')).toMatch(/last failure\s+webhook answered 500/);
    expect(attempts.out.at(-1)).toBe(`once the cause is fixed: koogallery provisioning retry ${failed.instanceId}`);

    const retried = await cli(['provisioning', 'retry', failed.instanceId], { principal: async () => 'local:ops@test-host' });
    expect(retried.code).toBe(0);
    expect(retried.out[0]).toMatch(new RegExp(`^provisioning of ${failed.instanceId} queued again`));
    const store = instanceStore(dynamoClient(), { main: env('MAIN_TABLE'), audit: env('AUDIT_TABLE') });
    expect((await store.getInstance(failed.instanceId))?.state).toBe('PROVISIONING');
    // The history names the operator who retried, not a seller key.
    const retryEntry = (await store.getHistory(failed.instanceId)).find((h) => h.event === 'instance.provisioningRetried');
    expect(retryEntry).toMatchObject({ actor: 'seller', by: { kind: 'operator', principal: 'local:ops@test-host' } });
    expect((await cli(['instances', 'show', failed.instanceId])).out.join('\n')).toMatch(
      /seller \(local:ops@test-host\)\s+instance\.provisioningRetried/,
    );
    expect(retried.records.map((r) => [r.action, r.target, r.result])).toEqual([['provisioning.retry', failed.instanceId, 'done']]);

    const again = await cli(['provisioning', 'retry', failed.instanceId]);
    expect(again.code).toBe(1);
    expect(again.records.map((r) => r.result)).toEqual(['refused']);
    const after = await cli(['provisioning', 'attempts', failed.instanceId, '--json']);
    expect(JSON.parse(after.out.join('\n')).attempts).toBe(2);
  });
});

describe('koogallery messages, dlq and statements', () => {
  it('lists the message log and refuses a malformed range', async () => {
    const listed = await cli(['messages', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out.join('\n'))).toHaveProperty('items');
    const bad = await cli(['messages', 'list', '--from', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^error: option\.from: /);
    expect((await cli(['messages', 'show', 'c-unknown'])).code).toBe(1);
  });

  it('filters the message log by channel, instance, order, activity and result; refuses an unknown channel', async () => {
    const orderId = `CS-flt-${randomUUID().slice(0, 8)}`;
    const body = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: `b-${orderId}` };
    const response = await invokeRaw(JSON.stringify(body), signedQuery(body));
    expect(response.json.resultCode).toBe('000000');
    const instanceId = response.json.instanceId as string;
    const listed = async (...filters: string[]) => {
      const ran = await cli(['messages', 'list', ...filters, '--json']);
      expect(ran.code, ran.err.join('\n')).toBe(0);
      return (JSON.parse(ran.out.join('\n')) as { items: { correlationId: string }[] }).items.map((m) => m.correlationId);
    };
    const all = ['--channel', 'marketplace', '--order', orderId, '--activity', 'newInstance', '--result', '000000'];
    expect(await listed(...all)).toEqual([response.correlationId]);
    expect(await listed('--instance', instanceId, '--channel', 'marketplace')).toEqual([response.correlationId]);
    expect(await listed('--order', orderId, '--channel', 'webhook')).toEqual([]);
    expect(await listed('--order', orderId, '--activity', 'refreshInstance')).toEqual([]);
    expect(await listed('--order', orderId, '--result', '000005')).toEqual([]);

    const table = await cli(['messages', 'list', '--order', orderId]);
    expect(table.out[1]).toMatch(
      new RegExp(`${response.correlationId}\\s+produce\\s+newInstance\\s+000000\\s+${instanceId}\\s+${orderId}`),
    );
    const bad = await cli(['messages', 'list', '--channel', 'email']);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^error: option\.channel: .*marketplace/);
  });

  it('shows a message with its request and answer, redacted: pretty JSON in the table view, as is with --json', async () => {
    const orderId = `CS-cli-${randomUUID().slice(0, 8)}`;
    const body = {
      activity: 'newInstance',
      orderId,
      orderLineId: `${orderId}-000001`,
      businessId: `b-${orderId}`,
      email: 'cli@example.com',
    };
    const query = signedQuery(body);
    const response = await invokeRaw(JSON.stringify(body), query);
    expect(response.json.resultCode).toBe('000000');

    const shown = await cli(['messages', 'show', response.correlationId]);
    expect(shown.code).toBe(0);
    const text = shown.out.join('\n');
    expect(text).toContain(`\nrequest:\n{\n  "query": {\n    "signature": "[redacted: secret]",`);
    expect(text).toContain('"email": "[redacted: personal]"');
    expect(text).toContain(`\nanswer:\n{\n  "resultCode": "000000",`);
    expect(text).not.toContain(query.signature);
    expect(text).not.toContain('cli@example.com');

    const json = await cli(['messages', 'show', response.correlationId, '--json']);
    const message = JSON.parse(json.out.join('\n')) as Record<string, { truncated: boolean; body: unknown }>;
    expect(message.request).toEqual({
      truncated: false,
      body: { query: { ...query, signature: '[redacted: secret]' }, body: { ...body, email: '[redacted: personal]' } },
    });
    expect(message.answer).toEqual({ truncated: false, body: response.json });
  });

  it('lists the dead-lettered events, then moves them back to the queue', async () => {
    for (const id of ['i-1:2', 'i-2:1'])
      await sqs.send('SendMessage', { QueueUrl: queues.dlq, MessageBody: JSON.stringify({ eventId: id }) });
    const listed = await cli(['dlq', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.out.filter((l) => l.startsWith('dead-lettered')).sort()).toEqual(['dead-lettered  i-1:2', 'dead-lettered  i-2:1']);
    const moved = await cli(['dlq', 'redrive', '--json']);
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.out.join('\n'))).toMatchObject({ found: 2, moved: 2 });
    expect(moved.records.map((r) => [r.action, r.result])).toEqual([['dlq.redrive', 'done']]);
    expect((await cli(['dlq', 'redrive', '--max', '0'])).code).toBe(2);
  });

  it('starts a month run, shows it, refuses to close it while it runs, and refuses a malformed month', async () => {
    const month = '1999-07';
    expect((await cli(['statements', 'show', month])).code).toBe(1);
    const started = await cli(['statements', 'run', month, '--json'], { principal: async () => 'local:ops@test-host' });
    expect(started.code).toBe(0);
    const run = JSON.parse(started.out.join('\n')) as { runId: string };
    // The run's trigger is the operator who started it (as in the audit record), not "seller".
    const stored = await statementStore(dynamoClient(), { main: env('MAIN_TABLE') }).getRun(month, run.runId);
    expect(stored?.trigger).toEqual({ kind: 'operator', principal: 'local:ops@test-host' });
    expect(started.records.map((r) => [r.action, r.actor])).toEqual([['statements.run', 'local:ops@test-host']]);
    const shown = await cli(['statements', 'show', month]);
    expect(shown.code).toBe(0);
    expect(shown.out.join('\n')).toMatch(new RegExp(`run under way\\s+${run.runId}`));
    const close = await cli(['statements', 'close', month]);
    expect(close.code).toBe(1);
    expect(close.records.map((r) => [r.action, r.target, r.result])).toEqual([['statements.close', month, 'refused']]);
    const bad = await cli(['statements', 'run', '2031-13']);
    expect(bad.code).toBe(2);
    expect(bad.records).toEqual([]);
  });
});

describe('koogallery notifications', () => {
  it('lists what was told (table and --json) and shows one with the way to act on it; an unknown id is refused', async () => {
    const instanceId = `i-${randomUUID()}`;
    const notice = notices.provisioningFailed({
      instanceId,
      orderId: 'CS-N1',
      eventId: 'e1',
      reason: 'webhook answered 500',
      at: new Date().toISOString(),
    });
    expect(await notifyFor(config(), cliLog({ out: () => undefined, err: () => undefined }))(notice)).toBe('sent');

    const listed = await cli(['notifications', 'list', '--limit', '100']);
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toMatch(/^AT\s+TYPE\s+STATUS\s+SUBJECT\s+ID$/);
    expect(listed.out.join('\n')).toMatch(new RegExp(`provisioning\\.failed\\s+sent\\s+Provisioning failed for instance ${instanceId}`));
    const json = await cli(['notifications', 'list', '--limit', '100', '--json']);
    expect((JSON.parse(json.out.join('\n')) as { items: { id: string }[] }).items.map((n) => n.id)).toContain(notice.id);

    const shown = await cli(['notifications', 'show', notice.id]);
    expect(shown.code).toBe(0);
    expect(shown.out.join('\n')).toContain(`seller API  GET /seller/instances/${instanceId}`);
    expect(shown.out.join('\n')).toMatch(/status\s+sent \(1 attempt\)/);
    expect(shown.out.join('\n')).toContain('webhook answered 500');
    expect(shown.records).toEqual([]);

    const unknown = await cli(['notifications', 'show', 'no-such-notification']);
    expect([unknown.code, unknown.err[0]]).toEqual([1, 'error: no notification no-such-notification']);
    expect((await cli(['notifications', 'list', '--limit', '0'])).code).toBe(2);
    expect((await cli(['notifications', 'list', '--limit', '500'])).code).toBe(2);
  });
});

describe('koogallery kit tenants, kit tenant', () => {
  it('lists tenants (table, filters, --json) and shows one with its applications, departments and users, never a secret', async () => {
    const kit = kitClient();
    const tenantId = uniqueTenant();
    const debug = uniqueTenant();
    const secret = encryptSecret('the-secret');
    expect((await kit.send('tenantSync', tenantBody(tenantId, { name: 'Acme CLI' }))).json.resultCode).toBe('000000');
    expect((await kit.send('tenantSync', tenantBody(debug, { testFlag: 1 }))).json.resultCode).toBe('000000');
    expect((await kit.send('applicationSync', appBody(tenantId, { clientSecret: secret }))).json.resultCode).toBe('000000');
    const orgs = [
      { orgCode: 'root', orgName: 'Acme', parentCode: '' },
      { orgCode: 'org-1', orgName: 'Sales', parentCode: 'root' },
    ];
    expect((await kit.send('allOrgSync', allOrgBody(tenantId, orgs))).json.resultCode).toBe('000000');
    expect((await kit.send('authSync', authBody(tenantId, [user('alice', { role: 'admin' })]))).json.resultCode).toBe('000000');

    const listed = await cli(['kit', 'tenants', '--limit', '100']);
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toMatch(/^UPDATED\s+TENANT\s+CODE\s+NAME\s+STATUS\s+TEST\s+INSTANCES$/);
    expect(listed.out.join('\n')).toMatch(new RegExp(`${tenantId}\\s+acme\\s+Acme CLI\\s+ACTIVE\\s+-\\s+inst-1`));
    const real = await cli(['kit', 'tenants', '--real', '--status', 'active', '--limit', '100', '--json']);
    const realIds = (JSON.parse(real.out.join('\n')) as { items: { tenantId: string }[] }).items.map((t) => t.tenantId);
    expect(realIds).toContain(tenantId);
    expect(realIds).not.toContain(debug);
    const tests = await cli(['kit', 'tenants', '--test', '--limit', '100']);
    expect(tests.out.join('\n')).toContain(debug);
    expect(tests.out.join('\n')).not.toContain(tenantId);

    const shown = await cli(['kit', 'tenant', tenantId]);
    expect(shown.code).toBe(0);
    const text = shown.out.join('\n');
    expect(text).toMatch(/name\s+Acme CLI/);
    expect(text).toMatch(/org sync\s+2 departments at/);
    expect(text).toMatch(/app-1\s+client-1\s+ACTIVE\s+inst-1/);
    expect(text).toMatch(/org-1\s+Sales\s+root\s+ACTIVE/);
    expect(text).toMatch(/app-1\s+alice\s+Name alice\s+org-1\s+admin\s+AUTHORISED\s+yes/);
    const json = await cli(['kit', 'tenant', tenantId, '--json']);
    const detail = JSON.parse(json.out.join('\n')) as { tenant: { tenantId: string }; users: { items: unknown[] } };
    expect([detail.tenant.tenantId, detail.users.items.length]).toEqual([tenantId, 1]);
    for (const ran of [listed, shown, json]) {
      expect(ran.out.join('\n')).not.toContain('clientSecret');
      expect(ran.out.join('\n')).not.toContain(secret.slice(0, 40));
      expect(ran.records).toEqual([]);
    }
  });

  it('refuses an unknown tenant (exit 1) and bad options (exit 2), saying what to do', async () => {
    const unknown = await cli(['kit', 'tenant', 'no-such-tenant']);
    expect([unknown.code, unknown.err[0]]).toEqual([
      1,
      'error: no tenant no-such-tenant (koogallery kit tenants lists the tenants the Kit bound)',
    ]);
    const bad: [string[], RegExp][] = [
      [['kit', 'tenants', '--status', 'GONE'], /status.*"ACTIVE"\|"DELETED"/],
      [['kit', 'tenants', '--test', '--real'], /--test and --real exclude each other/],
      [['kit', 'tenants', '--limit', '0'], /--limit must be a positive integer/],
      [['kit', 'tenants', '--cursor', 'garbage'], /invalid cursor/],
      [['kit', 'tenant'], /kit tenant needs an argument/],
      [['kit', 'tenant', 'x'.repeat(65)], /tenantId.*64 characters/],
    ];
    for (const [argv, message] of bad) {
      const ran = await cli(argv);
      expect(ran.code, argv.join(' ')).toBe(2);
      expect(ran.err[0], argv.join(' ')).toMatch(message);
      expect(ran.err.join('\n')).toContain(`usage: koogallery ${argv.slice(0, 2).join(' ')}`);
    }
  });
});

/** A stand-in for CloudFormation and STS on 127.0.0.1 (both speak the AWS query protocol, answering XML). */
async function awsStandIn(outputs: Record<string, string>): Promise<{ url: string; server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const action = form.get('Action') ?? '';
      calls.push(`${action} ${form.get('StackName') ?? ''}`.trim());
      res.setHeader('Content-Type', 'text/xml');
      if (action === 'GetCallerIdentity') {
        res.end(
          '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
            '<Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDA</UserId><Account>123456789012</Account>' +
            '</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
        );
        return;
      }
      if (form.get('StackName') !== 'koogallery-isv-prod') {
        res.statusCode = 400;
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${form.get('StackName')} does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        );
        return;
      }
      const members = Object.entries(outputs)
        .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
        .join('');
      res.end(
        '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>' +
          '<StackName>koogallery-isv-prod</StackName><StackId>arn:aws:cloudformation:x:1:stack/koogallery-isv-prod/1</StackId>' +
          `<CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>` +
          '</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls };
}

describe('koogallery --stage (a deployed stage, read from its stack outputs)', () => {
  /** The outputs the template declares (resources/outputs.yml; test/infra checks they are in the packaged stack). */
  const declared = Object.keys((parseYaml(readFileSync('resources/outputs.yml', 'utf8')) as { Outputs: Record<string, unknown> }).Outputs);
  const values: Record<string, () => string> = {
    MainTableName: () => env('MAIN_TABLE'),
    AuditTableName: () => env('AUDIT_TABLE'),
    ProvisioningQueueUrl: () => queues.source,
    ProvisioningDeadLetterQueueUrl: () => queues.dlq,
    SettlementQueueUrl: () => env('SETTLEMENT_QUEUE_URL'),
    FilesBucketName: () => 'koogallery-isv-prod-files',
  };
  let standIn: Awaited<ReturnType<typeof awsStandIn>>;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    expect(declared.sort()).toEqual(Object.keys(values).sort());
    standIn = await awsStandIn({
      ...Object.fromEntries(declared.map((k) => [k, values[k]!()])),
      HttpApiUrl: 'https://abc.execute-api.example.com',
    });
    for (const name of ['AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_STS', 'AWS_REGION']) saved[name] = process.env[name];
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = standIn.url;
    process.env.AWS_ENDPOINT_URL_STS = standIn.url;
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise((resolve) => standIn.server.close(resolve));
  });

  it('creates the first key of a stage with no stack file, recorded with the AWS principal, and revokes it', async () => {
    const region = env('AWS_REGION');
    const name = `admin-${randomUUID().slice(0, 6)}`;
    const noLocal = { stackFile: join(dir, 'missing.json') };
    const created = await cli(
      ['keys', 'create', '--stage', 'prod', '--region', region, '--name', name, '--scopes', 'instances:read', '--json'],
      noLocal,
    );
    expect(created.err).toEqual([]);
    expect(created.code).toBe(0);
    const { secret } = JSON.parse(created.out.join('\n')) as { secret: string };
    expect((await keys().authenticate(secret, Date.now())).ok).toBe(true);
    expect(created.records[0]).toMatchObject({
      actor: 'arn:aws:iam::123456789012:user/ops',
      action: 'keys.create',
      target: name,
      result: 'done',
    });
    expect(standIn.calls).toEqual(['DescribeStacks koogallery-isv-prod', 'GetCallerIdentity']);

    expect((await cli(['keys', 'revoke', name, '--stage', 'prod', '--region', region], noLocal)).code).toBe(0);
    expect(await liveNamed(name)).toEqual([]);
  });

  it('says what to do when the stage has no stack', async () => {
    const ran = await cli(['keys', 'list', '--stage', 'staging', '--region', env('AWS_REGION')]);
    expect(ran.code).toBe(2);
    expect(ran.err[0]).toBe(
      `error: no stack koogallery-isv-staging in ${env('AWS_REGION')}: deploy it (\`npx serverless deploy --stage staging --region ${env('AWS_REGION')}\`) or name its region with --region`,
    );
  });

  it('says to deploy this version when the stack lacks an output', async () => {
    const ran = await cli(['keys', 'list', '--stage', 'prod'], {
      describe: async () => [{ OutputKey: 'MainTableName', OutputValue: 't' }],
    });
    expect(ran.code).toBe(2);
    expect(ran.err[0]).toMatch(
      /has no output AuditTableName, ProvisioningQueueUrl, SettlementQueueUrl, FilesBucketName: deploy this version/,
    );
  });
});
