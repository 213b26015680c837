/** The run's own instances, supervision flow, seller API keys and cursors, created through the real handlers. */
import { dynamoClient } from '#lib/aws/clients.ts';
import { config } from '#lib/config.ts';
import { SCOPES } from '#lib/seller-api/apiKeys.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import { newSupervision } from '#lib/supervision/stateMachine.ts';
import type { Fixture } from './cases.ts';
import { bearer, produceEvent, sellerEvent } from './events.ts';
import { signedV2 } from './produceBodies.ts';
import { send } from './runner.ts';
import { LIMITED_KEY_SCOPES } from './sellerRoutes.ts';

/**
 * Creates what the generators aim at, through the real handlers and stores: `instances` ACTIVE instances renewed to
 * a far expiry as `productId`, a supervision flow awaiting delivery on an order line of the first, three seller API
 * keys (every scope; LIMITED_KEY_SCOPES only; revoked), and one real cursor of each listing.
 */
export async function prepareFixture(options: {
  prefix: string;
  accessKey: string;
  productId: string;
  instances?: number;
}): Promise<Fixture> {
  const { prefix, accessKey } = options;
  if (!/^[A-Za-z0-9-]{1,40}$/.test(prefix)) throw new Error(`prefix must be 1 to 40 of A-Z a-z 0-9 -, got ${JSON.stringify(prefix)}`);
  const cfg = config();
  const instances: Fixture['instances'] = [];
  for (let i = 0; i < (options.instances ?? 3); i++) {
    const orderId = `${prefix}-seed${i}`;
    const created = { activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: `${prefix}-seed${i}`, testFlag: '0' };
    const renewal = {
      activity: 'refreshInstance',
      scene: 'RENEWAL',
      orderId: `${orderId}-r`,
      orderLineId: `${orderId}-r-000001`,
      instanceId: created.businessId,
      productId: options.productId,
      expireTime: '20991231235959',
    };
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
  const flow = newSupervision(
    { ...supervised, productId: options.productId, enablingCloud: false, requiredKinds: ['deployment'] },
    new Date(now).toISOString(),
  );
  const created = await flows.commit(flows.createWrites(flow.record, flow.entry));
  if (!created.ok)
    throw new Error(`seeding the supervision flow of ${supervised.orderId}/${supervised.orderLineId} failed: ${JSON.stringify(created)}`);

  const cursor = async (path: string) => {
    const page = await send(
      'seller',
      sellerEvent({ method: 'GET', path, authorization: bearer(full), query: { limit: '1' } }),
      `${prefix}-cursor`,
    );
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
