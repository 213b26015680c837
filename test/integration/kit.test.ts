import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleKitCall, type KitDeps } from '#lib/kit/kitCall.ts';
import { signKitRequest } from '#lib/koogallery/kitSignature.ts';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { dynamoClient } from '#lib/aws/clients.ts';
import { queryPartition } from '#lib/store/dynamo.ts';
import { keys } from '#lib/store/keys.ts';
import { auditRecord, env } from '../helpers/produce.ts';
import {
  allOrgBody,
  appBody,
  authBody,
  encryptSecret,
  KIT_KEY,
  kitClient,
  kitTime,
  orgBody,
  tenantBody,
  tenantItems,
  testKitDeps,
  tree,
  uniqueTenant,
  user,
} from '../helpers/kit.ts';
import { CT_B, CT_PLAINTEXT } from '../helpers/kitVectors.ts';

/** The five Kit calls end to end: the real handler, DynamoDB Local, fauxqs. */

const kit = kitClient();
const ok = { resultCode: '000000', resultMsg: 'success.' };

// DynamoDB Local's first transactions take seconds (its JIT warming up): one call before the assertions.
beforeAll(async () => {
  await kit.send('tenantSync', tenantBody(uniqueTenant()));
});

/** The items of a tenant without the history entries, and their versions. */
async function records(tenantId: string) {
  const items = await tenantItems(tenantId);
  return new Map([...items].filter(([sk]) => !sk.startsWith('HISTORY#')));
}

describe('transport', () => {
  it('answers HTTP 200 JSON on the v2 path and on the path without v2, and 404 for an unknown interface', async () => {
    const tenantId = uniqueTenant();
    const v2 = await kit.send('tenantSync', tenantBody(tenantId));
    expect(v2).toMatchObject({ status: 200, json: ok });
    expect(v2.headers['Content-Type']).toBe('application/json;charset=UTF-8');
    expect((await kit.send('tenantSync', tenantBody(tenantId), { legacy: true })).json).toEqual(ok);
    const unknown = await kit.send('deleteEverything', {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.resultCode).toBe('000002');
  });

  it('records every call in the message log, channel kit, activity the interface', async () => {
    const tenantId = uniqueTenant();
    const response = await kit.send('tenantSync', tenantBody(tenantId));
    expect(await auditRecord(response.correlationId)).toMatchObject({
      channel: 'kit',
      activity: 'tenantSync',
      tenantId,
      resultCode: '000000',
      signatureForm: 'top-level-sorted',
    });
  });

  it("keeps each call's request and answer, the clientSecret redacted as a secret and users' personal fields as personal", async () => {
    const tenantId = uniqueTenant();
    const ciphertext = encryptSecret('the-secret');
    const app = await kit.send('applicationSync', appBody(tenantId, { clientSecret: ciphertext }));
    const appRecord = await auditRecord(app.correlationId);
    const appRequest = JSON.parse(String((appRecord?.request as { json: string }).json)) as Record<string, unknown>;
    expect(appRequest).toMatchObject({ body: { tenantId, appId: 'app-1', clientId: 'client-1', clientSecret: '[redacted: secret]' } });
    expect(JSON.stringify(appRecord)).not.toContain(ciphertext.slice(0, 40));
    expect(JSON.parse(String((appRecord?.answer as { json: string }).json))).toEqual(ok);

    const personal = {
      name: '张三',
      mobile: '13800000000',
      email: 'zs@example.com',
      position: 'Engineer',
      employeeCode: 'E-0042',
      workPlace: 'Shenzhen Office',
      entryDate: '2024-05-06',
    };
    for (const userList of [[user('zhangsan01', personal)], JSON.stringify([user('zhangsan02', personal)])]) {
      const auth = await kit.send('authSync', authBody(tenantId, userList));
      const record = await auditRecord(auth.correlationId);
      const kept = String((record?.request as { json: string }).json);
      for (const value of [...Object.values(personal), 'zhangsan01', 'zhangsan02']) expect(kept).not.toContain(value);
      const body = (JSON.parse(kept) as { body: { userList: Record<string, unknown>[] } }).body;
      expect(body.userList[0]).toMatchObject({
        userName: '[redacted: personal]',
        name: '[redacted: personal]',
        orgCode: 'org-1',
        role: 'user',
      });
    }
  });

  it("keeps a refused call's request too, and notes a body it could not read", async () => {
    const tenantId = uniqueTenant();
    const refused = await kit.send('tenantSync', tenantBody(tenantId), { headers: { 'x-sign': 'ab'.repeat(32) } });
    expect(refused.json.resultCode).toBe('000001');
    const record = await auditRecord(refused.correlationId);
    expect(JSON.parse(String((record?.request as { json: string }).json))).toMatchObject({ body: { tenantId, name: 'Acme' } });
    expect(JSON.parse(String((record?.answer as { json: string }).json))).toMatchObject({ resultCode: '000001' });
    const garbled = await kit.sendRaw('tenantSync', '{"tenantId":', {});
    const unread = await auditRecord(garbled.correlationId);
    expect(String((unread?.request as { json: string }).json)).toContain('[not kept:');
  });
});

describe('x-sign', () => {
  it('a bad signature answers 000001, a stale timestamp or a missing nonce 000002, and none changes anything', async () => {
    const tenantId = uniqueTenant();
    const raw = JSON.stringify(tenantBody(tenantId));
    const ts = String(Date.now());
    expect((await kit.sendRaw('tenantSync', raw, { 'x-sign': 'ab'.repeat(32), 'x-timestamp': ts, 'x-nonce': 'n1' })).json.resultCode).toBe(
      '000001',
    );
    expect((await kit.send('tenantSync', tenantBody(tenantId), { nowMs: Date.now() - 120_000 })).json.resultCode).toBe('000002');
    expect((await kit.sendRaw('tenantSync', raw, { 'x-sign': 'ab'.repeat(32), 'x-timestamp': ts })).json.resultCode).toBe('000002');
    expect((await kit.sendRaw('tenantSync', raw, { 'x-timestamp': 'soon', 'x-nonce': 'n' })).json.resultCode).toBe('000002');
    expect(await records(tenantId)).toEqual(new Map());
  });

  it('a replayed nonce answers 000001 and changes nothing', async () => {
    const tenantId = uniqueTenant();
    const nonce = `nonce-${tenantId}`;
    expect((await kit.send('tenantSync', tenantBody(tenantId), { nonce })).json).toEqual(ok);
    const before = await records(tenantId);
    const replay = await kit.send('tenantSync', tenantBody(tenantId, { flag: 0 }), { nonce });
    expect(replay.json.resultCode).toBe('000001');
    expect(await records(tenantId)).toEqual(before);
    expect(await auditRecord(replay.correlationId)).toMatchObject({ resultCode: '000001', reason: 'replayed nonce' });
  });

  it('the previous Kit key is accepted during a rotation', async () => {
    const rotated = kitClient(
      testKitDeps({ KOOGALLERY_KIT_ACCESS_KEY: 'the-new-kit-key', KOOGALLERY_KIT_ACCESS_KEY_PREVIOUS: 'testKitKey-0123456789' }),
    );
    expect((await rotated.send('tenantSync', tenantBody(uniqueTenant()))).json).toEqual(ok);
  });
});

describe('tenantSync', () => {
  it('stores the tenant as the single sign-on flow reads it, https:// prepended; a repeat changes nothing', async () => {
    const tenantId = uniqueTenant();
    await kit.send('tenantSync', tenantBody(tenantId));
    const stored = (await records(tenantId)).get('TENANT');
    expect(stored).toMatchObject({
      pk: `TENANT#${tenantId}`,
      sk: 'TENANT',
      tenantId,
      tenantCode: 'acme',
      name: 'Acme',
      domainName: 'https://acme.tenantaccount.example',
      status: 'ACTIVE',
      instanceIds: ['inst-1'],
      test: false,
      version: 1,
    });
    expect(stored?.expiresAt).toBeUndefined();
    expect((await kit.send('tenantSync', tenantBody(tenantId))).json).toEqual(ok);
    expect((await records(tenantId)).get('TENANT')).toEqual(stored);
  });

  it('one tenant owns several instances; a delete unbinds one, the last delete deletes the tenant; repeats succeed', async () => {
    const tenantId = uniqueTenant();
    await kit.send('tenantSync', tenantBody(tenantId));
    await kit.send('tenantSync', tenantBody(tenantId, { instanceId: 'inst-2' }));
    expect((await records(tenantId)).get('TENANT')).toMatchObject({ instanceIds: ['inst-1', 'inst-2'], status: 'ACTIVE' });
    await kit.send('tenantSync', tenantBody(tenantId, { flag: 0 }));
    expect((await records(tenantId)).get('TENANT')).toMatchObject({ instanceIds: ['inst-2'], status: 'ACTIVE' });
    await kit.send('tenantSync', tenantBody(tenantId, { flag: 0, instanceId: 'inst-2' }));
    const deleted = (await records(tenantId)).get('TENANT');
    expect(deleted).toMatchObject({ instanceIds: [], status: 'DELETED' });
    expect((await kit.send('tenantSync', tenantBody(tenantId, { flag: 0, instanceId: 'inst-2' }))).json).toEqual(ok);
    expect((await kit.send('tenantSync', tenantBody(uniqueTenant(), { flag: 0 }))).json).toEqual(ok);
    expect((await records(tenantId)).get('TENANT')).toEqual(deleted);
  });

  it('a modify changes only the name and the domain', async () => {
    const tenantId = uniqueTenant();
    await kit.send('tenantSync', tenantBody(tenantId));
    await kit.send(
      'tenantSync',
      tenantBody(tenantId, { flag: 2, name: 'Acme 2', tenantCode: 'other', instanceId: 'inst-9', domainName: 'https://new.example' }),
    );
    expect((await records(tenantId)).get('TENANT')).toMatchObject({
      name: 'Acme 2',
      tenantCode: 'acme',
      instanceIds: ['inst-1'],
      domainName: 'https://new.example',
      version: 2,
    });
  });

  it('debug data (testFlag 1) is marked test and expires; K7-style string flags are accepted', async () => {
    const tenantId = uniqueTenant();
    expect((await kit.send('tenantSync', tenantBody(tenantId, { flag: '1', testFlag: '1', instanceId: '', orderId: '' }))).json).toEqual(
      ok,
    );
    const stored = (await records(tenantId)).get('TENANT');
    expect(stored).toMatchObject({ test: true, instanceIds: [] });
    expect(stored?.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('an unknown instance is refused with 000003 when KIT_UNKNOWN_INSTANCE=refuse, and nothing is stored', async () => {
    const strict = kitClient(testKitDeps({ KIT_UNKNOWN_INSTANCE: 'refuse' }));
    const tenantId = uniqueTenant();
    expect((await strict.send('tenantSync', tenantBody(tenantId))).json.resultCode).toBe('000003');
    expect((await strict.send('tenantSync', tenantBody(tenantId, { flag: 0 }))).json).toEqual(ok);
    expect(await records(tenantId)).toEqual(new Map());
  });
});

describe('applicationSync', () => {
  it('stores the clientSecret ciphertext exactly as received, never the plaintext; CT-B decrypts', async () => {
    const tenantId = uniqueTenant();
    expect((await kit.send('applicationSync', appBody(tenantId, { clientSecret: CT_B }))).json).toEqual(ok);
    const items = await tenantItems(tenantId);
    expect(items.get('APP#app-1')).toMatchObject({
      appId: 'app-1',
      clientId: 'client-1',
      clientSecretCiphertext: CT_B,
      status: 'ACTIVE',
      instanceId: 'inst-1',
      test: false,
    });
    expect(JSON.stringify([...items.values()])).not.toContain(CT_PLAINTEXT);
  });

  it('a repeat with the same secret encrypted again changes nothing; a new secret updates', async () => {
    const tenantId = uniqueTenant();
    await kit.send('applicationSync', appBody(tenantId));
    const first = (await records(tenantId)).get('APP#app-1');
    expect((await kit.send('applicationSync', appBody(tenantId))).json).toEqual(ok);
    expect((await records(tenantId)).get('APP#app-1')).toEqual(first);
    await kit.send('applicationSync', appBody(tenantId, { flag: 2, clientSecret: encryptSecret('rotated') }));
    expect((await records(tenantId)).get('APP#app-1')).toMatchObject({ version: 2 });
  });

  it('a clientSecret that cannot be decrypted answers 000101 with a fixed message and stores nothing', async () => {
    const tenantId = uniqueTenant();
    const response = await kit.send('applicationSync', appBody(tenantId, { clientSecret: 'not-a-ciphertext' }));
    expect(response.json).toEqual({ resultCode: '000101', resultMsg: 'something wrong with appSecret' });
    expect(await records(tenantId)).toEqual(new Map());
  });

  it('a delete drops the secret; repeated deletes and deletes of unknown applications succeed', async () => {
    const tenantId = uniqueTenant();
    await kit.send('applicationSync', appBody(tenantId));
    await kit.send('applicationSync', appBody(tenantId, { flag: 0, clientSecret: 'x' }));
    const deleted = (await records(tenantId)).get('APP#app-1');
    expect(deleted).toMatchObject({ status: 'DELETED' });
    expect(deleted?.clientSecretCiphertext).toBeUndefined();
    expect((await kit.send('applicationSync', appBody(tenantId, { flag: 0 }))).json).toEqual(ok);
    expect((await kit.send('applicationSync', appBody(uniqueTenant(), { flag: 0 }))).json).toEqual(ok);
  });
});

describe('authSync', () => {
  it('flag 1 authorises (userList as an array or a JSON string), 2 updates, 3 revokes, 0 deletes; repeats change nothing', async () => {
    const tenantId = uniqueTenant();
    const alice = user('alice', { role: 'admin', mobile: '13800000000', email: 'a@example.com', position: 'CTO', hobby: 'chess' });
    expect((await kit.send('authSync', authBody(tenantId, [alice]))).json).toEqual(ok);
    expect((await kit.send('authSync', authBody(tenantId, JSON.stringify([user('bob')])))).json).toEqual(ok);
    const stored = (await records(tenantId)).get('USER#app-1#alice');
    expect(stored).toMatchObject({
      userName: 'alice',
      name: 'Name alice',
      orgCode: 'org-1',
      role: 'admin',
      enabled: true,
      status: 'AUTHORISED',
      position: 'CTO',
      extension: { hobby: 'chess' },
      version: 1,
    });
    expect(stored?.mobile).toBeUndefined();
    expect(stored?.email).toBeUndefined();
    expect((await records(tenantId)).get('USER#app-1#bob')).toMatchObject({ status: 'AUTHORISED' });

    await kit.send('authSync', authBody(tenantId, [alice]));
    expect((await records(tenantId)).get('USER#app-1#alice')).toEqual(stored);

    await kit.send('authSync', authBody(tenantId, [{ ...alice, enable: 'false' }], { flag: 2 }));
    expect((await records(tenantId)).get('USER#app-1#alice')).toMatchObject({ enabled: false, status: 'AUTHORISED', version: 2 });
    await kit.send('authSync', authBody(tenantId, [alice], { flag: 3 }));
    expect((await records(tenantId)).get('USER#app-1#alice')).toMatchObject({ status: 'REVOKED', version: 3 });
    await kit.send('authSync', authBody(tenantId, [alice], { flag: 3 }));
    await kit.send('authSync', authBody(tenantId, [user('bob'), user('nobody')], { flag: 0 }));
    expect((await records(tenantId)).get('USER#app-1#bob')).toMatchObject({ status: 'DELETED' });
    expect((await records(tenantId)).get('USER#app-1#alice')).toMatchObject({ status: 'REVOKED', version: 3 });
    expect((await records(tenantId)).has('USER#app-1#nobody')).toBe(false);
  });

  const bad: Array<[string, (tenantId: string) => Record<string, unknown>]> = [
    ['a missing userList', (t) => ({ ...authBody(t, []), userList: undefined })],
    ['a bad flag', (t) => authBody(t, [user('u1')], { flag: 7 })],
    ['a bad role', (t) => authBody(t, [user('u1', { role: 'root' })])],
    ['an over-long userName', (t) => authBody(t, [user('u'.repeat(65))])],
    ['a userList that is not JSON', (t) => authBody(t, '[{userName:u1}]')],
    [
      '501 users',
      (t) =>
        authBody(
          t,
          Array.from({ length: 501 }, (_, i) => user(`u${i}`)),
        ),
    ],
    ['a user named twice', (t) => authBody(t, [user('u1'), user('u1')])],
  ];
  for (const [name, body] of bad) {
    it(`${name} answers 000002 and changes nothing`, async () => {
      const tenantId = uniqueTenant();
      const response = await kit.send('authSync', body(tenantId));
      expect(response.json.resultCode).toBe('000002');
      expect(await records(tenantId)).toEqual(new Map());
    });
  }

  /** Calls the flow directly with a longer budget: DynamoDB Local takes about 1 s per 100-item transaction. */
  async function direct(deps: KitDeps, body: Record<string, unknown>) {
    const raw = JSON.stringify(body);
    const headers = signKitRequest(KIT_KEY, tree(raw));
    const call = {
      name: 'authSync' as const,
      rawBody: raw,
      headers: { sign: headers['x-sign'], timestamp: headers['x-timestamp'], nonce: headers['x-nonce'] },
      correlationId: randomUUID(),
    };
    return handleKitCall(call, deps, { answerWithinMs: 60_000 });
  }

  it('500 users commit over several transactions and a repeat changes nothing', async () => {
    const tenantId = uniqueTenant();
    const list = Array.from({ length: 500 }, (_, i) => user(`user-${i}`));
    const started = performance.now();
    expect(await direct(kit.deps, authBody(tenantId, list))).toEqual(ok);
    console.log(`[kit] authSync of 500 new users on DynamoDB Local: ${Math.round(performance.now() - started)} ms`);
    const first = await records(tenantId);
    expect([...first.keys()].filter((k) => k.startsWith('USER#'))).toHaveLength(500);
    expect(await direct(kit.deps, authBody(tenantId, list))).toEqual(ok);
    expect(await records(tenantId)).toEqual(first);
  });

  it('a call that fails after its first transaction is answered 000005; a retry converges to the full change', async () => {
    const tenantId = uniqueTenant();
    const list = Array.from({ length: 100 }, (_, i) => user(`user-${i}`));
    let commits = 0;
    const failing: KitDeps = {
      ...kit.deps,
      store: {
        ...kit.deps.store,
        commit: (writes) => (++commits === 2 ? Promise.reject(new Error('connection reset')) : kit.deps.store.commit(writes)),
      },
    };
    expect((await direct(failing, authBody(tenantId, list))).resultCode).toBe('000005');
    const partial = [...(await records(tenantId)).keys()].filter((k) => k.startsWith('USER#'));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(100);
    expect(await direct(kit.deps, authBody(tenantId, list))).toEqual(ok);
    const users = [...(await records(tenantId)).values()].filter((r) => String(r.sk).startsWith('USER#'));
    expect(users).toHaveLength(100);
    expect(users.every((u) => u.version === 1 && u.status === 'AUTHORISED')).toBe(true);
  });
});

describe('singleOrgSync and allOrgSync', () => {
  it('a full sync builds the tree whatever the order, archives unlisted departments and is idempotent', async () => {
    const tenantId = uniqueTenant();
    await kit.send('singleOrgSync', orgBody(tenantId, 'old', { timeStamp: kitTime(-60_000) }));
    const list = [
      { orgCode: 'child', orgName: 'Product', parentCode: 'root' },
      { orgCode: 'root', orgName: 'HQ', parentCode: '' },
    ];
    expect((await kit.send('allOrgSync', allOrgBody(tenantId, list))).json).toEqual(ok);
    const after = await records(tenantId);
    expect(after.get('ORG#child')).toMatchObject({ orgCode: 'child', orgName: 'Product', parentCode: 'root', status: 'ACTIVE' });
    expect(after.get('ORG#root')).toMatchObject({ parentCode: '', status: 'ACTIVE' });
    expect(after.get('ORG#old')).toMatchObject({ status: 'ARCHIVED' });
    expect(
      (await kit.send('allOrgSync', allOrgBody(tenantId, JSON.stringify(list), { timeStamp: after.get('ORGSNAPSHOT')?.timeStamp }))).json,
    ).toEqual(ok);
    expect(await records(tenantId)).toEqual(after);
  });

  it('an incremental event older than the full sync is ignored; a newer one applies; deletes of unknown departments succeed', async () => {
    const tenantId = uniqueTenant();
    await kit.send('allOrgSync', allOrgBody(tenantId, [{ orgCode: 'd1', orgName: 'Dev', parentCode: '' }]));
    await kit.send('singleOrgSync', orgBody(tenantId, 'd1', { orgName: 'Stale', flag: 2, timeStamp: kitTime(-600_000) }));
    expect((await records(tenantId)).get('ORG#d1')).toMatchObject({ orgName: 'Dev' });
    await kit.send('singleOrgSync', orgBody(tenantId, 'd1', { orgName: 'Development', flag: 2, timeStamp: kitTime(60_000) }));
    expect((await records(tenantId)).get('ORG#d1')).toMatchObject({ orgName: 'Development', version: 2 });
    await kit.send('singleOrgSync', orgBody(tenantId, 'd1', { flag: 0, timeStamp: kitTime(120_000) }));
    expect((await records(tenantId)).get('ORG#d1')).toMatchObject({ status: 'DELETED' });
    expect((await kit.send('singleOrgSync', orgBody(tenantId, 'nope', { flag: 0 }))).json).toEqual(ok);
  });

  it('a cycle or a code listed twice answers 000002 and changes nothing', async () => {
    const tenantId = uniqueTenant();
    const cycle = [
      { orgCode: 'a', orgName: 'A', parentCode: 'b' },
      { orgCode: 'b', orgName: 'B', parentCode: 'a' },
    ];
    expect((await kit.send('allOrgSync', allOrgBody(tenantId, cycle))).json.resultCode).toBe('000002');
    expect((await kit.send('allOrgSync', allOrgBody(tenantId, [cycle[0], cycle[0]]))).json.resultCode).toBe('000002');
    expect(await records(tenantId)).toEqual(new Map());
  });
});

describe('concurrency', () => {
  it('the three binding calls arriving together, in any order and twice each, leave one tenant, application and tree', async () => {
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      const tenantId = uniqueTenant();
      const ts = kitTime();
      const calls = [
        () => kit.send('tenantSync', tenantBody(tenantId, { timeStamp: ts })),
        () => kit.send('applicationSync', appBody(tenantId, { timeStamp: ts })),
        () => kit.send('allOrgSync', allOrgBody(tenantId, [{ orgCode: 'root', orgName: 'HQ', parentCode: '' }], { timeStamp: ts })),
      ];
      const answers = await Promise.all([...order, ...order].map((i) => calls[i]!()));
      expect(answers.map((a) => a.json.resultCode)).toEqual(Array(6).fill('000000'));
      const stored = await records(tenantId);
      expect([...stored.keys()].sort()).toEqual(['APP#app-1', 'ORG#root', 'ORGSNAPSHOT', 'TENANT']);
      for (const sk of ['APP#app-1', 'ORG#root', 'TENANT']) expect(stored.get(sk)?.version, sk).toBe(1);
      const history = [...(await tenantItems(tenantId)).keys()].filter((k) => k.startsWith('HISTORY#'));
      expect(history).toHaveLength(3);
    }
  });
});

describe('events', () => {
  it('every change writes its event for the product in the same transaction, never with the secret; a repeat writes none', async () => {
    const tenantId = uniqueTenant();
    await kit.send('tenantSync', tenantBody(tenantId));
    await kit.send('applicationSync', appBody(tenantId));
    await kit.send('authSync', authBody(tenantId, [user('alice', { email: 'a@example.com' })]));
    await kit.send('singleOrgSync', orgBody(tenantId, 'd1'));
    await kit.send('tenantSync', tenantBody(tenantId));
    const items = await queryPartition(dynamoClient(), env('MAIN_TABLE'), keys.kitOutboxPartition);
    const messages = items.map((i) => String(unmarshall(i).message)).filter((m) => m.includes(tenantId));
    const events = messages.map((m) => JSON.parse(m) as { type: string; tenantId: string; data: Record<string, unknown> });
    expect(events.map((e) => e.type).sort()).toEqual(['application.created', 'org.created', 'tenant.created', 'user.authorised']);
    expect(messages.join()).not.toContain('clientSecret');
    expect(messages.join()).not.toContain('a@example.com');
    expect(events.find((e) => e.type === 'user.authorised')?.data).toMatchObject({
      user: { userName: 'alice', status: 'AUTHORISED', enabled: true },
    });
  });
});
