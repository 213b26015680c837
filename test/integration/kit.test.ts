import { describe, expect, it } from 'vitest';
import { auditRecord } from '../helpers/produce.ts';
import { ownQueuePairs } from '../helpers/queues.ts';
import {
  allOrgBody,
  appBody,
  authBody,
  encryptSecret,
  kitClient,
  kitTime,
  orgBody,
  tenantBody,
  tenantItems,
  testKitDeps,
  uniqueTenant,
  user,
} from '../helpers/kit.ts';
import { CT_B, CT_PLAINTEXT } from '../helpers/kitVectors.ts';

/** The five Kit calls end to end: the real handler, DynamoDB Local, fauxqs. */

const kit = kitClient();
const ok = { resultCode: '000000', resultMsg: 'success.' };

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
