import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/store/keys.ts';
import { licenseRegistry } from '#lib/licenses/deps.ts';
import { registerLicenseCode, showLicenseCode, type RegisterInput } from '#lib/licenses/registration.ts';
import { auditRecord, call, env, uniqueId } from '../helpers/produce.ts';

/**
 * License-code callbacks (spec §5.1) through the real V2 handler, and the registration of codes (the operator CLI's
 * `koogallery licenses`, tested as a command line in operatorLicensesProofs.test.ts).
 */

const cli = () => licenseRegistry(dynamoClient(), env('MAIN_TABLE'));

/** Every item under the license's partition (license, history, applied markers), for "nothing changed" checks. */
async function licenseItems(code: string): Promise<Record<string, unknown>[]> {
  const out = await dynamoClient().send('Query', {
    TableName: env('MAIN_TABLE'),
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: marshall({ ':pk': keys.license(code).pk }),
    ConsistentRead: true,
  });
  return (out.Items ?? []).map((item) => unmarshall(item));
}

async function registered(extra: Partial<RegisterInput> = {}) {
  const license = uniqueId('PL');
  const orderId = uniqueId('CS');
  const result = await registerLicenseCode(
    cli(),
    { license, orderId, orderLineId: `${orderId}-000001`, productId: 'P-1', expireTime: '20270101000000', ...extra },
    Date.now(),
  );
  expect(result.outcome).toBe('registered');
  return { license, orderId };
}

const renewal = (license: string, orderId: string, extra: Record<string, string> = {}) => ({
  activity: 'refreshLicenseCode',
  license,
  orderId,
  orderLineId: `${orderId}-000001`,
  scene: 'RENEWAL',
  expireTime: '20280101000000',
  productId: 'P-2',
  ...extra,
});
const status = (license: string, value: string, extra: Record<string, string> = {}) => ({
  activity: 'updateLicenseCodeStatus',
  license,
  status: value,
  ...extra,
});
const release = (license: string) => ({ activity: 'releaseLicenseCode', license });

const licenseOf = async (code: string) => (await cli().licenses.getLicense(code))!;
const historyOf = (code: string) => cli().licenses.getHistory(code);

describe('refreshLicenseCode', () => {
  it('renews once per (order, scene): expireTime and productId, one history entry', async () => {
    // Prepare
    const { license } = await registered();
    const renewalOrder = uniqueId('CS');

    // Act
    const first = await call(renewal(license, renewalOrder));
    const repeated = await call(renewal(license, renewalOrder));

    // Assess
    expect(first.json).toEqual({ resultCode: '000000', resultMsg: 'success.' });
    expect(repeated.json.resultCode).toBe('000000');
    expect(await licenseOf(license)).toMatchObject({ state: 'ACTIVE', expireTime: '20280101000000', productId: 'P-2', version: 2 });
    const history = await historyOf(license);
    expect(history.map((h) => h.event)).toEqual(['license.registered', 'license.renewed']);
    expect(history[1]).toMatchObject({
      actor: 'marketplace',
      activity: 'refreshLicenseCode',
      scene: 'RENEWAL',
      orderId: renewalOrder,
      orderLineId: `${renewalOrder}-000001`,
      from: 'ACTIVE',
      to: 'ACTIVE',
      changes: { expireTime: '20280101000000', productId: 'P-2' },
    });
    expect(await auditRecord(first.correlationId)).toMatchObject({
      resultCode: '000000',
      activity: 'refreshLicenseCode',
      licenseId: license,
      orderId: renewalOrder,
    });
  });

  it('applies the same order with another scene', async () => {
    const { license } = await registered();
    const order = uniqueId('CS');
    expect((await call(renewal(license, order))).json.resultCode).toBe('000000');

    const other = await call(renewal(license, order, { scene: 'UNSUBSCRIBE_RENEWAL_PERIOD', expireTime: '20270601000000' }));

    expect(other.json.resultCode).toBe('000000');
    expect(await licenseOf(license)).toMatchObject({ expireTime: '20270601000000', version: 3 });
    expect((await historyOf(license)).map((h) => h.scene ?? null)).toEqual([null, 'RENEWAL', 'UNSUBSCRIBE_RENEWAL_PERIOD']);
  });

  it('applies exactly once under 20 concurrent identical calls', async () => {
    const { license } = await registered();
    const order = uniqueId('CS');

    const answers = await Promise.all(Array.from({ length: 20 }, () => call(renewal(license, order))));

    expect(answers.map((a) => a.json.resultCode)).toEqual(Array(20).fill('000000'));
    const renewals = (await historyOf(license)).filter((h) => h.event === 'license.renewed');
    expect(renewals).toHaveLength(1);
    expect(await licenseOf(license)).toMatchObject({ version: 2, expireTime: '20280101000000' });
    // One applied marker, one license, two history entries: nothing else was written under the code.
    expect((await licenseItems(license)).map((i) => i.sk).sort()).toEqual([
      '#LICENSE',
      `APPLIED#refreshLicenseCode#${order}#RENEWAL`,
      'HISTORY#00000001',
      'HISTORY#00000002',
    ]);
  });
});

describe('updateLicenseCodeStatus', () => {
  it('FREEZE → FROZEN, FREEZE again changes nothing, UNFREEZE → ACTIVE', async () => {
    const { license } = await registered();

    const frozen = await call(status(license, 'FREEZE'));
    expect(frozen.json.resultCode).toBe('000000');
    expect(await licenseOf(license)).toMatchObject({ state: 'FROZEN', version: 2 });
    const afterFreeze = await licenseItems(license);

    const again = await call(status(license, 'FREEZE'));
    expect(again.json.resultCode).toBe('000000');
    expect(await licenseItems(license)).toEqual(afterFreeze);

    const unfrozen = await call(status(license, 'UNFREEZE'));
    expect(unfrozen.json.resultCode).toBe('000000');
    expect(await licenseOf(license)).toMatchObject({ state: 'ACTIVE', version: 3 });
    expect((await historyOf(license)).map((h) => `${h.from ?? '-'}→${h.to}`)).toEqual(['-→ACTIVE', 'ACTIVE→FROZEN', 'FROZEN→ACTIVE']);
  });
});

describe('releaseLicenseCode', () => {
  it('RELEASED is terminal: later renewals and status changes answer 000000 and change nothing', async () => {
    const { license } = await registered();
    const released = await call(release(license));
    expect(released.json.resultCode).toBe('000000');
    expect(await licenseOf(license)).toMatchObject({ state: 'RELEASED', version: 2 });
    const before = await licenseItems(license);

    const late = [
      await call(renewal(license, uniqueId('CS'))),
      await call(status(license, 'FREEZE')),
      await call(status(license, 'UNFREEZE')),
      await call(release(license)),
    ];

    expect(late.map((r) => r.json.resultCode)).toEqual(['000000', '000000', '000000', '000000']);
    expect(await licenseItems(license)).toEqual(before);
  });
});

describe('unknown license codes', () => {
  const bodies: Array<[string, (code: string) => Record<string, string>]> = [
    ['refreshLicenseCode', (code) => renewal(code, uniqueId('CS'))],
    ['updateLicenseCodeStatus', (code) => status(code, 'FREEZE')],
    ['releaseLicenseCode', (code) => release(code)],
  ];
  for (const [activity, body] of bodies) {
    it(`${activity} answers 000003 "license code does not exist" and writes only the message log`, async () => {
      const code = uniqueId('PL-unknown');

      const response = await call(body(code));

      expect(response.json.resultCode).toBe('000003');
      expect(response.json.resultMsg).toMatch(/license code does not exist/);
      expect(response.json.resultMsg).not.toMatch(/instance/);
      expect(await licenseItems(code)).toEqual([]);
      expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000003', activity, licenseId: code });
    });
  }
});

describe('debug calls (testFlag=1)', () => {
  it('never change a real license', async () => {
    const { license } = await registered();
    const before = await licenseItems(license);

    const answers = [
      await call(status(license, 'FREEZE', { testFlag: '1' })),
      await call(renewal(license, uniqueId('CS'), { testFlag: '1' })),
      await call({ ...release(license), testFlag: '1' }),
    ];

    expect(answers.map((a) => a.json.resultCode)).toEqual(['000003', '000003', '000003']);
    expect(answers[0]?.json.resultMsg).toBe('license code does not exist: a debug call cannot change a real license code');
    expect(await licenseItems(license)).toEqual(before);
  });

  it('apply to a test license, which expires', async () => {
    const { license } = await registered({ test: true });

    const frozen = await call(status(license, 'FREEZE', { testFlag: '1' }));

    expect(frozen.json.resultCode).toBe('000000');
    expect(await licenseOf(license)).toMatchObject({ state: 'FROZEN', test: true });
    // Every item of a test license carries a TTL, about 7 days out.
    const items = await licenseItems(license);
    const in7Days = Math.floor(Date.now() / 1000) + 7 * 24 * 3600;
    for (const item of items) expect(Math.abs(Number(item.expiresAt) - in7Days)).toBeLessThan(120);
    expect(await auditRecord(frozen.correlationId)).toMatchObject({ resultCode: '000000', test: true });
  });
});

describe('bad input changes nothing', () => {
  const cases: Array<[string, (code: string) => Record<string, string>, string, RegExp]> = [
    [
      'a missing license',
      (code) => ({ ...status(code, 'FREEZE'), license: undefined as unknown as string }),
      '000002',
      /license is required/,
    ],
    ['status PAUSE', (code) => status(code, 'PAUSE'), '000002', /^param is invalid: status /],
    [
      'a malformed expireTime',
      (code) => renewal(code, uniqueId('CS'), { expireTime: '2028-01-01' }),
      '000002',
      /expireTime must be yyyyMMddHHmmss/,
    ],
    [
      'an impossible expireTime',
      (code) => renewal(code, uniqueId('CS'), { expireTime: '20280231000000' }),
      '000002',
      /expireTime is not a valid date/,
    ],
    [
      'a missing renewal order',
      (code) => ({ ...renewal(code, 'x'), orderId: undefined as unknown as string }),
      '000002',
      /orderId is required/,
    ],
  ];
  for (const [name, body, code, message] of cases) {
    it(`${name} → ${code}`, async () => {
      const { license } = await registered();
      const before = await licenseItems(license);

      const response = await call(body(license));

      expect(response.json.resultCode).toBe(code);
      expect(response.json.resultMsg).toMatch(message);
      expect(await licenseItems(license)).toEqual(before);
      expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: code });
    });
  }

  it('a license code longer than 128 characters → 000002', async () => {
    const code = 'P'.repeat(129);
    const response = await call(status(code, 'FREEZE'));
    expect(response.json.resultCode).toBe('000002');
    expect(response.json.resultMsg).toMatch(/license must be at most 128 characters/);
    expect(await licenseItems(code)).toEqual([]);
  });

  it('a bad signature → 000001', async () => {
    const { license } = await registered();
    const before = await licenseItems(license);

    const response = await call(status(license, 'FREEZE'), { key: 'not-the-key' });

    expect(response.json.resultCode).toBe('000001');
    expect(await licenseItems(license)).toEqual(before);
    expect(await auditRecord(response.correlationId)).toMatchObject({ resultCode: '000001', reason: 'signature does not match' });
  });
});

describe('registering a code (lib/licenses/registration.ts)', () => {
  it('registers a license ACTIVE with a seller history entry, and show prints both', async () => {
    const code = uniqueId('PL');
    const order = uniqueId('CS');

    const result = await registerLicenseCode(
      cli(),
      { license: code, orderId: order, orderLineId: `${order}-000001`, productId: 'P-1', expireTime: '20270101000000' },
      Date.now(),
    );

    expect(result.outcome).toBe('registered');
    const shown = await showLicenseCode(cli(), code);
    expect(shown?.license).toMatchObject({
      license: code,
      state: 'ACTIVE',
      test: false,
      orderId: order,
      orderLineId: `${order}-000001`,
      productId: 'P-1',
      expireTime: '20270101000000',
      version: 1,
    });
    expect(shown?.history).toEqual([
      expect.objectContaining({
        actor: 'seller',
        activity: 'registerLicense',
        event: 'license.registered',
        version: 1,
        to: 'ACTIVE',
        orderId: order,
      }),
    ]);
    // A real license never expires.
    for (const item of await licenseItems(code)) expect(item.expiresAt).toBeUndefined();
  });

  it('refuses to register an existing code and leaves it unchanged', async () => {
    const { license } = await registered();
    expect((await call(status(license, 'FREEZE'))).json.resultCode).toBe('000000');
    const before = await licenseItems(license);

    const again = await registerLicenseCode(cli(), { license, productId: 'P-other' }, Date.now());

    expect(again).toMatchObject({ outcome: 'exists', license: { state: 'FROZEN', productId: 'P-1' } });
    expect(await licenseItems(license)).toEqual(before);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an empty code', { license: '' }, /<code>: must be 1 to 128 characters/],
    ['a blank code', { license: '   ' }, /<code>: must be 1 to 128 characters/],
    ['a code over 128 characters', { license: 'P'.repeat(129) }, /<code>: must be 1 to 128 characters/],
    ['a malformed expiry', { license: 'PL-x', expireTime: '2027-01-01' }, /--expire: must be yyyyMMddHHmmss/],
    ['an impossible expiry', { license: 'PL-x', expireTime: '20271301000000' }, /--expire: is not a valid date and time/],
    ['an order line without its order', { license: 'PL-x', orderLineId: 'CS-000001' }, /--line: an order line needs its order/],
    ['an overlong order id', { license: 'PL-x', orderId: 'o'.repeat(65) }, /--order: must be at most 64 characters/],
    ['an unknown field', { license: 'PL-x', owner: 'me' }, /arguments: /],
  ];
  for (const [name, input, message] of invalid) {
    it(`refuses ${name} and writes nothing`, async () => {
      const code = typeof input.license === 'string' && input.license.trim() !== '' ? uniqueId(input.license) : (input.license as string);
      const given = { ...input, license: code };

      const result = await registerLicenseCode(cli(), given, Date.now());

      expect(result.outcome).toBe('invalid');
      if (result.outcome === 'invalid') expect(result.error).toMatch(message);
      if (code.trim() !== '' && code.length <= 128) expect(await licenseItems(code)).toEqual([]);
    });
  }

  it('answers callbacks for a code once it is registered (000003 before)', async () => {
    const code = uniqueId('PL');
    expect((await call(status(code, 'FREEZE'))).json.resultCode).toBe('000003');

    await registerLicenseCode(cli(), { license: code }, Date.now());

    expect((await call(status(code, 'FREEZE'))).json.resultCode).toBe('000000');
    expect(await licenseOf(code)).toMatchObject({ state: 'FROZEN' });
  });
});
