import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { marketplaceClient } from '#lib/simulator/client.ts';
import { requestBody } from '#lib/simulator/requests.ts';
import { queryPrefix } from '#lib/store/dynamo.ts';
import { keys } from '#lib/store/keys.ts';
import { formatSteps, SCENARIOS, type ScenarioOptions } from '../../scripts/sim/scenarios.ts';
import { startHandlerServer, type HandlerServer } from '../helpers/httpServer.ts';
import { KIT_KEY, tenantItems } from '../helpers/kit.ts';
import { CT_PRIVATE_KEY_PEM, CT_PUBLIC_KEY_B64 } from '../helpers/kitVectors.ts';
import { env } from '../helpers/produce.ts';
import { TEST_KEY } from '../helpers/signing.ts';
import { startSsoStack, type SsoStack } from '../helpers/ssoStack.ts';

/**
 * `koogallery-sim scenario joint-operation` against the real produce, kit and sso functions over HTTP, with the fake
 * OneAccess knowing the users authSync stored (as npm start wires it): every golden step passes, and what the Kit
 * calls stored is what the steps said.
 */

let server: HandlerServer;
let sso: SsoStack;
let options: ScenarioOptions;

beforeAll(async () => {
  server = await startHandlerServer();
  sso = await startSsoStack({
    env: { KIT_RSA_PRIVATE_KEY: CT_PRIVATE_KEY_PEM, SSO_APP_ID: 'sim-app' },
    fake: {
      clients: undefined,
      usersOf: async (tenantId) =>
        (await queryPrefix(dynamoClient(), env('MAIN_TABLE'), keys.tenantPartition(tenantId), 'USER#'))
          .map((item) => unmarshall(item))
          .map((u) => ({ tenantId, userName: String(u.userName), name: String(u.name) })),
    },
  });
  // A first call loads the produce function, whose first answer can outlast its budget on a busy machine.
  await marketplaceClient(`${server.url}/koogallery/produce`, TEST_KEY).call(requestBody('queryInstance', { instanceId: 'warm-up' }));
  options = {
    url: `${server.url}/koogallery/produce`,
    key: TEST_KEY,
    kit: { key: KIT_KEY, publicKey: CT_PUBLIC_KEY_B64 },
    oneAccessUrl: sso.fake.url,
    ssoUrl: sso.url,
  };
});
afterAll(async () => {
  await sso?.close();
  await server?.close();
});

describe('scenario joint-operation', () => {
  it('without a Kit key it stops at once and says what it needs; without a OneAccess the login steps are skipped', async () => {
    const keyless = await SCENARIOS['joint-operation']!.run({ ...options, kit: undefined });
    expect(keyless).toEqual([expect.objectContaining({ ok: false, detail: expect.stringContaining('--kit-key') })]);
    const noLogin = await SCENARIOS['joint-operation']!.run({ ...options, oneAccessUrl: undefined });
    expect(noLogin.filter((r) => r.skipped).map((r) => r.detail)).toEqual(
      Array(3).fill('skipped: no OneAccess to sign in at (--one-access)'),
    );
    expect(noLogin.every((r) => r.ok)).toBe(true);
  }, 60_000);
  it('binds, authorises, moves a department, signs in through OneAccess and refuses the revoked user: the golden steps', async () => {
    const results = await SCENARIOS['joint-operation']!.run(options);
    expect(
      results.filter((r) => !r.ok),
      formatSteps(results),
    ).toEqual([]);
    expect(results.map((r) => [r.step, r.title.replace(/sim-\w+/, '<tenant>'), r.resultCode ?? '-'])).toEqual([
      [1, 'newInstance (joint-operation product)', '000000'],
      [2, 'bind enterprise <tenant>: tenantSync + applicationSync + allOrgSync together', '000000'],
      [3, 'authSync: authorise alice (admin) and bob', '000000'],
      [4, 'singleOrgSync: move Development under Sales (a new parentCode)', '000000'],
      [5, "sign in as alice through OneAccess; the product's assertion verifies with /sso/jwks.json", '-'],
      [6, 'authSync flag 3: revoke alice', '000000'],
      [7, 'sign in as alice again: refused', '-'],
    ]);
    expect(results[4]!.detail).toMatch(/^signed in: sub alice@sim-\w+, role admin$/);
    expect(sso.received).toHaveLength(1);

    const tenantId = /sim-\w+/.exec(results[1]!.title)![0];
    const items = await tenantItems(tenantId);
    const dev = [...items.values()].find((i) => i.orgCode === 'dev');
    expect(dev).toMatchObject({ parentCode: 'sales' });
    const alice = [...items.values()].find((i) => i.userName === 'alice');
    expect(alice?.status).toBe('REVOKED');
  }, 60_000);
});
