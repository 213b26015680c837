/**
 * The reference webhook receiver: a seller's product in miniature, for the local stack and the tests. It verifies
 * the signature, dedupes on the event id, creates a tenant on `instance.created` and answers its appInfo, and
 * freezes, unfreezes and deletes it on the later events. Joint-operation Kit events build a model per Kit tenant
 * (the enterprise, its applications, users and departments), each record at the newest version received. Failures
 * and delays can be injected, in process or over HTTP (`POST /_control/fail`, `POST /_control/delay`,
 * `GET /_control/tenants`, `GET /_control/kit`, `GET /_control/deliveries`).
 * Listens on 127.0.0.1 only and keeps everything in memory.
 *
 *   WEBHOOK_SECRET=… WEBHOOK_RECEIVER_PORT=4010 node --import tsx scripts/local/webhook-receiver.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { listenOnLoopback } from './processes.ts';
import { BodyTooLarge, readBody } from './requestBody.ts';
import type { AppInfo } from '#lib/instances/model.ts';
import {
  MIN_SECRET_LENGTH,
  verifyWebhookSignature,
  webhookEventSchema,
  webhookEventVersion,
  type WebhookEvent,
} from '#lib/provisioning/webhook.ts';
import { isKitWebhookType, kitWebhookEventSchema, type KitWebhookEvent } from '#lib/provisioning/kitWebhook.ts';
import { errorMessage } from '#lib/shared/errors.ts';

export const WEBHOOK_PATH = '/webhook';
const MAX_BODY_BYTES = 65_536;

export interface Tenant {
  state: 'ACTIVE' | 'FROZEN' | 'DELETED';
  appInfo: AppInfo;
  /** The `instance.created` event that created the tenant. */
  provisionedBy: string;
  /** Distinct `instance.created` events handled for this tenant: 1, however often one is redelivered. */
  provisions: number;
  /** Version of the newest event applied; older ones are acknowledged and change nothing. */
  version: number;
}

/** A Kit record as the product holds it: the fields of the newest event applied, and that event's version. */
export type KitRecordView = Record<string, unknown> & { version: number };

/** What the product knows of one Kit tenant (the buyer's enterprise). */
export interface KitTenantModel {
  tenant?: KitRecordView;
  /** By appId. */
  applications: Record<string, KitRecordView>;
  /** By `<appId>/<userName>`. */
  users: Record<string, KitRecordView>;
  /** By orgCode. */
  orgs: Record<string, KitRecordView>;
}

export interface Delivery {
  /** The event id from the header ('' if none). */
  id: string;
  /** The event type, once the body was valid ('' before). */
  type: string;
  status: number;
  /** The answer was the stored one of an earlier delivery of the same id. */
  replayed: boolean;
}

export interface WebhookReceiver {
  /** Where to POST events: `http://127.0.0.1:<port>/webhook`. */
  url: string;
  tenants(): Map<string, Tenant>;
  /** The Kit tenants, by tenantId. */
  kitTenants(): Map<string, KitTenantModel>;
  deliveries(): Delivery[];
  /** The next `n` deliveries are answered `status` and change nothing. */
  failNext(n: number, status?: number): void;
  /** The next `n` deliveries are handled, then answered `ms` late. */
  delayNext(n: number, ms: number): void;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  secret: string;
  /** Base of the tenants' frontEndUrl (default https://app.example.com). */
  frontEndBase?: string;
  /** One line per delivery (ids, types, statuses: never secrets or passwords); default silent. */
  log?: (line: string) => void;
}

interface Answer {
  status: number;
  body: unknown;
}

const failSchema = z.object({
  times: z.number().int().min(0).max(10_000),
  status: z.number().int().min(400).max(599).default(503),
});
const delaySchema = z.object({ times: z.number().int().min(0).max(10_000), ms: z.number().int().min(0).max(120_000) });

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A tenant without its password, for the control API. */
function publicTenant(tenant: Tenant): Omit<Tenant, 'appInfo'> & { appInfo: Omit<AppInfo, 'password'> } {
  const { password: _password, ...appInfo } = tenant.appInfo;
  return { ...tenant, appInfo };
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  if (options.secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`webhook secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const { secret } = options;
  const frontEndBase = (options.frontEndBase ?? 'https://app.example.com').replace(/\/+$/, '');
  const log = options.log ?? (() => {});
  const tenants = new Map<string, Tenant>();
  const kitTenants = new Map<string, KitTenantModel>();
  /** Instances released before any tenant was created: a late `instance.created` for one creates nothing. */
  const releasedUnknown = new Set<string>();
  /** The answer given to each event id that was handled: a redelivery gets it again. */
  const answers = new Map<string, Answer>();
  const deliveries: Delivery[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 503 };
  let delays: { left: number; ms: number } = { left: 0, ms: 0 };
  const timers = new Set<NodeJS.Timeout>();

  /** What the seller's product does with one verified, valid, new event. */
  const apply = (event: WebhookEvent): Answer => {
    const instanceId = event.instance.instanceId;
    const version = webhookEventVersion(event.id);
    const tenant = tenants.get(instanceId);
    if (event.type === 'instance.created') {
      if (releasedUnknown.has(instanceId)) return { status: 410, body: { error: 'instance was released' } };
      if (tenant) {
        // Another created event for a known tenant: the same appInfo, never a second tenant.
        tenant.provisions++;
        return { status: 200, body: tenant.appInfo };
      }
      const appInfo: AppInfo = {
        frontEndUrl: `${frontEndBase}/t/${encodeURIComponent(instanceId)}`,
        userName: `admin-${createHash('sha256').update(instanceId).digest('hex').slice(0, 10)}`,
        password: randomBytes(12).toString('base64url'),
        memo: event.test ? 'Test tenant (marketplace debug traffic)' : 'Tenant ready',
      };
      tenants.set(instanceId, { state: 'ACTIVE', appInfo, provisionedBy: event.id, provisions: 1, version });
      return { status: 200, body: appInfo };
    }
    if (!tenant) {
      // Nothing to delete; anything else must wait for the tenant (events can arrive out of order): retry later.
      if (event.type === 'instance.released') {
        releasedUnknown.add(instanceId);
        return { status: 200, body: { ok: true } };
      }
      return { status: 503, body: { error: 'unknown tenant (not provisioned yet)' } };
    }
    if (version < tenant.version || tenant.state === 'DELETED') return { status: 200, body: { ok: true } };
    tenant.version = version;
    if (event.type === 'instance.frozen') tenant.state = 'FROZEN';
    else if (event.type === 'instance.unfrozen') tenant.state = 'ACTIVE';
    else if (event.type === 'instance.released') tenant.state = 'DELETED';
    return { status: 200, body: { ok: true } };
  };

  /** A Kit event: the record replaces the one held if the event is newer; an older one is acknowledged and dropped. */
  const applyKit = (event: KitWebhookEvent): Answer => {
    const model = kitTenants.get(event.tenantId) ?? { applications: {}, users: {}, orgs: {} };
    kitTenants.set(event.tenantId, model);
    const place = (held: KitRecordView | undefined, record: Record<string, unknown>, put: (view: KitRecordView) => void): Answer => {
      if (held && held.version >= event.version) return { status: 200, body: { ok: true, stale: true } };
      put({ ...record, version: event.version });
      return { status: 200, body: { ok: true } };
    };
    switch (event.kind) {
      case 'tenant':
        return place(model.tenant, event.tenant, (view) => (model.tenant = view));
      case 'application':
        return place(
          model.applications[event.application.appId],
          event.application,
          (v) => (model.applications[event.application.appId] = v),
        );
      case 'user': {
        const key = `${event.user.appId}/${event.user.userName}`;
        return place(model.users[key], event.user, (view) => (model.users[key] = view));
      }
      case 'org':
        return place(model.orgs[event.org.orgCode], event.org, (view) => (model.orgs[event.org.orgCode] = view));
    }
  };

  /** The delivery checked against the contract of its type: an instance's lifecycle event or a Kit event. */
  const parseEvent = (raw: string) => {
    const json = parseJson(raw);
    const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
    return isKitWebhookType(type) ? kitWebhookEventSchema.safeParse(json) : webhookEventSchema.safeParse(json);
  };

  const handleWebhook = async (request: IncomingMessage, response: ServerResponse, raw: string) => {
    const header = request.headers['x-koogallery-event-id'];
    const delivery: Delivery = { id: typeof header === 'string' ? header : '', type: '', status: 0, replayed: false };
    deliveries.push(delivery);
    const answer = (status: number, body: unknown) => {
      delivery.status = status;
      send(response, status, body);
      log(`[webhook-receiver] ${delivery.id || '-'} ${delivery.type || '-'} → ${status}${delivery.replayed ? ' (replayed)' : ''}`);
    };

    if (failures.left > 0) {
      failures.left--;
      answer(failures.status, { error: 'injected failure' });
      return;
    }
    const signature = request.headers['x-koogallery-signature'];
    const check = verifyWebhookSignature(secret, typeof signature === 'string' ? signature : undefined, raw, Date.now());
    if (!check.ok) {
      answer(401, { error: check.reason });
      return;
    }
    const parsed = parseEvent(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      answer(400, { error: `invalid event: ${issue?.path.join('.') || 'body'} ${issue?.message ?? ''}`.trim() });
      return;
    }
    const event = parsed.data;
    delivery.type = event.type;
    if (delivery.id !== event.id) {
      answer(400, { error: 'X-KooGallery-Event-Id does not match the body id' });
      return;
    }
    let result = answers.get(event.id);
    if (result) {
      delivery.replayed = true;
    } else {
      result = 'kind' in event ? applyKit(event) : apply(event);
      // Only final answers are remembered; a 503 "not yet" must be worked out again next time.
      if (result.status < 500) answers.set(event.id, result);
    }
    if (delays.left > 0) {
      delays.left--;
      const final = result;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, delays.ms);
        timers.add(timer);
      });
      if (response.destroyed) {
        delivery.status = final.status;
        return;
      }
      answer(final.status, final.body);
      return;
    }
    answer(result.status, result.body);
  };

  const handleControl = (request: IncomingMessage, response: ServerResponse, path: string, raw: string) => {
    if (request.method === 'GET' && path === '/_control/tenants') {
      send(response, 200, Object.fromEntries([...tenants].map(([id, t]) => [id, publicTenant(t)])));
    } else if (request.method === 'GET' && path === '/_control/kit') {
      send(response, 200, Object.fromEntries(kitTenants));
    } else if (request.method === 'GET' && path === '/_control/deliveries') {
      send(response, 200, deliveries);
    } else if (request.method === 'POST' && path === '/_control/fail') {
      const parsed = failSchema.safeParse(parseJson(raw));
      if (!parsed.success) return send(response, 400, { error: 'expected {"times": n, "status": 400..599}' });
      failures = { left: parsed.data.times, status: parsed.data.status };
      send(response, 200, { ok: true });
    } else if (request.method === 'POST' && path === '/_control/delay') {
      const parsed = delaySchema.safeParse(parseJson(raw));
      if (!parsed.success) return send(response, 400, { error: 'expected {"times": n, "ms": 0..120000}' });
      delays = { left: parsed.data.times, ms: parsed.data.ms };
      send(response, 200, { ok: true });
    } else {
      send(response, 404, { error: 'not found' });
    }
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    readBody(request, MAX_BODY_BYTES)
      .then(async (bytes) => {
        const raw = bytes.toString('utf8');
        if (path.startsWith('/_control/')) return handleControl(request, response, path, raw);
        if (path !== WEBHOOK_PATH) return send(response, 404, { error: 'not found' });
        if (request.method !== 'POST') return send(response, 405, { error: 'POST only' });
        await handleWebhook(request, response, raw);
      })
      .catch((error: unknown) => {
        if (response.headersSent) return;
        if (error instanceof BodyTooLarge) send(response, 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
        else send(response, 500, { error: 'internal error' });
      });
  });

  const port = await listenOnLoopback(server, options.port ?? 0);

  return {
    url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    tenants: () => new Map([...tenants].map(([id, t]) => [id, { ...t, appInfo: { ...t.appInfo } }])),
    kitTenants: () => new Map([...kitTenants].map(([id, model]) => [id, structuredClone(model)])),
    deliveries: () => deliveries.map((d) => ({ ...d })),
    failNext(n, status = 503) {
      failures = { left: n, status };
    },
    delayNext(n, ms) {
      delays = { left: n, ms };
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function main(): Promise<void> {
  const env = z
    .object({
      WEBHOOK_SECRET: z.string().min(MIN_SECRET_LENGTH, `WEBHOOK_SECRET must be at least ${MIN_SECRET_LENGTH} characters`),
      WEBHOOK_RECEIVER_PORT: z.coerce.number().int().min(0).max(65_535).default(4010),
      WEBHOOK_FRONTEND_BASE: z.url().optional(),
    })
    .safeParse(process.env);
  if (!env.success) {
    const issue = env.error.issues[0];
    console.error(`[webhook-receiver] ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid setting'}`);
    process.exit(1);
  }
  const receiver = await startWebhookReceiver({
    port: env.data.WEBHOOK_RECEIVER_PORT,
    secret: env.data.WEBHOOK_SECRET,
    ...(env.data.WEBHOOK_FRONTEND_BASE ? { frontEndBase: env.data.WEBHOOK_FRONTEND_BASE } : {}),
    log: (line) => console.log(line),
  });
  console.log(`[webhook-receiver] listening on ${receiver.url}`);
  const stop = () => {
    receiver.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`[webhook-receiver] ${errorMessage(error)}`);
    process.exit(1);
  });
}
