/**
 * Usage push (spec §8.2) against the fake KooGallery Open API over real HTTP on 127.0.0.1: both signatures (APIG
 * AK/SK §7.8 and the business signature §7.7), the fake's validation and duplicate handling, and how the client
 * reads each answer. fetch is never mocked (one test wraps it to look at what is sent); network failures come
 * from a closed local port.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatSdkDate, signApigRequest, verifyApigRequest, type ApigCredentials } from '#lib/koogallery/apig.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import { USAGE_DATA_PATH, type OpenApiConfig, type UsagePushOutcome, type UsagePushRecord } from '#lib/koogallery/openApi/contract.ts';
import { interpretUsageAnswer } from '#lib/koogallery/openApi/usagePush.ts';
import { usageBody, usageSignature } from '#lib/koogallery/usageSignature.ts';
import { LOCAL_DEFAULT_ACCESS_KEY } from '../../scripts/local/env.ts';
import {
  FAKE_OPENAPI_DEFAULT_ACCESS_KEY,
  startFakeOpenApi,
  type AcceptedUsage,
  type FakeOpenApi,
} from '../../scripts/local/fake-openapi.ts';
import { freePort } from '../../scripts/local/processes.ts';
import { SPEC_USAGE_RECORD } from '../helpers/usageExample.ts';

// Made-up keys, not Huawei's.
const CREDS: ApigCredentials = { ak: 'FAKEAK0123456789ABCD', sk: 'fake-sk-0123456789-abcdef' };
const ACCESS_KEY = 'usage-test-access-key-0123456789';
const HOUR = 3_600_000;
/** The marketplace's answer as received, which the outcome carries for the message log. */
const answered200 = { httpStatus: 200, text: expect.stringContaining('"resultCode"') as unknown as string };

let fake: FakeOpenApi;
let closedUrl: string;
let serial = 0;

function client(overrides: Partial<OpenApiConfig> = {}) {
  return openApiClient({ baseUrl: fake.url, credentials: async () => CREDS, accessKey: async () => ACCESS_KEY, ...overrides });
}

/** A record for the closed hour `hoursAgo` hours back (≥ 1), with a fresh metering_sn. */
function record(instanceId: string, hoursAgo: number, usageValue = '1', now = Date.now()): UsagePushRecord {
  const begin = now - (now % HOUR) - hoursAgo * HOUR;
  serial += 1;
  return {
    instance_id: instanceId,
    record_time: formatSdkDate(new Date(begin + HOUR + 5 * 60_000)),
    begin_time: formatSdkDate(new Date(begin)),
    end_time: formatSdkDate(new Date(begin + HOUR)),
    usage_value: usageValue,
    metering_sn: `sn-${serial}-${randomBytes(4).toString('hex')}`,
  };
}

function expectOk(outcome: UsagePushOutcome) {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.code}: ${outcome.reason}`);
  return outcome;
}

function expectFailure(outcome: UsagePushOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.code}`);
  return outcome;
}

/** The accepted records without acceptedAt, for comparison with what was pushed. */
function held(): Omit<AcceptedUsage, 'acceptedAt'>[] {
  return fake.usage().map(({ acceptedAt: _acceptedAt, ...r }) => r);
}

/** A raw push, signed correctly (unless told otherwise), of any body: what the client would refuse to send. */
async function rawPush(body: string, options: { accessKey?: string; ts?: string; nonce?: string; headers?: Record<string, string> } = {}) {
  const url = `${fake.url}${USAGE_DATA_PATH}`;
  const ts = options.ts ?? String(Date.now());
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  const own = {
    'Content-Type': 'application/json',
    signature: usageSignature(options.accessKey ?? ACCESS_KEY, ts, nonce, body),
    ts,
    nonce,
    ...options.headers,
  };
  const signed = signApigRequest({ method: 'POST', url, headers: own, body }, CREDS, new Date());
  const headers = Object.fromEntries(Object.entries(signed).filter(([k]) => k !== 'Host'));
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as { resultCode: string; resultMsg: string; extra_info?: string } };
}

beforeAll(async () => {
  fake = await startFakeOpenApi({ credentials: CREDS, accessKey: ACCESS_KEY });
  closedUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.resetUsage();
});

describe('pushing usage to the fake Open API', () => {
  it('a signed push of 2 records is accepted and kept', async () => {
    const records = [record('inst-a', 2, '12.5'), record('inst-b', 2, '0.0001')];
    const before = Date.now();
    expect(await client().pushUsage(records)).toEqual({
      ok: true,
      code: 'MKT.0000',
      duplicate: false,
      via: 'primary',
      answered: answered200,
    });
    expect(held()).toEqual(records);
    for (const u of fake.usage()) expect(u.acceptedAt).toBeGreaterThanOrEqual(before);
    expect(fake.calls().at(-1)).toMatchObject({
      method: 'POST',
      path: USAGE_DATA_PATH,
      akVerified: true,
      status: 200,
      resultCode: 'MKT.0000',
      records: 2,
    });
  });

  it('signs exactly the bytes it sends (both signatures), non-ASCII included', async () => {
    const sent: { url: string; init: RequestInit }[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      sent.push({ url: String(input), init: init ?? {} });
      return fetch(input, init);
    };
    const records = [{ ...record('实例-ü', 3, '7'), relate_pkg_instance: 'pkg-1' }];
    const before = Date.now();
    expectOk(await client({ fetch: recordingFetch }).pushUsage(records));
    expect(sent).toHaveLength(1);
    const { url, init } = sent[0]!;
    const headers = init.headers as Record<string, string>;
    const bytes = Buffer.from(init.body as Uint8Array);
    const body = usageBody(records);
    expect(bytes.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(init.method).toBe('POST');
    expect(init.redirect).toBe('manual');
    expect(headers['Content-Type']).toBe('application/json');
    expect(headers.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(headers.ts)).toBeGreaterThanOrEqual(before);
    expect(Number(headers.ts)).toBeLessThanOrEqual(Date.now());
    expect(headers.signature).toBe(usageSignature(ACCESS_KEY, headers.ts!, headers.nonce!, bytes));
    // The APIG signature covers the business headers and the same bytes.
    expect(headers.Authorization).toMatch(/SignedHeaders=content-type;host;nonce;signature;ts;x-sdk-date,/);
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const u = new URL(url);
    const received = { method: 'POST', path: u.pathname, rawQuery: '', headers: { ...lower, host: u.host }, body: bytes.toString('utf8') };
    expect(verifyApigRequest(received, () => CREDS.sk, Date.now()).ok).toBe(true);
    expect(held()).toEqual(records);
  });

  it('a wrong access key → MKT.0154, permanent, nothing kept, no key in the reason', async () => {
    const f = expectFailure(await client({ accessKey: async () => 'not-the-access-key' }).pushUsage([record('inst-a', 2)]));
    expect(f).toMatchObject({ retry: false, code: 'MKT.0154', httpStatus: 401 });
    expect(f.reason).toContain('business signature does not match');
    expect(JSON.stringify(f)).not.toContain('not-the-access-key');
    expect(fake.usage()).toEqual([]);
  });

  it('a wrong SK → refused by the gateway check', async () => {
    const f = expectFailure(await client({ credentials: async () => ({ ak: CREDS.ak, sk: 'wrong-sk' }) }).pushUsage([record('inst-a', 2)]));
    expect(f).toMatchObject({ retry: false, code: 'MKT.0154', httpStatus: 401 });
    expect(f.reason).toContain('signature does not match');
    expect(f.reason).not.toContain('wrong-sk');
    expect(fake.usage()).toEqual([]);
  });

  it('a missing, empty or failing access key → transient, without calling', async () => {
    const before = fake.calls().length;
    for (const accessKey of [undefined, async () => '', async () => Promise.reject(new Error('ssm: secret-xyz'))]) {
      const f = expectFailure(await client({ accessKey }).pushUsage([record('inst-a', 2)]));
      expect(f).toMatchObject({ retry: true, code: 'CREDENTIALS_UNAVAILABLE' });
      expect(f.reason).not.toContain('secret-xyz');
    }
    const noSk = expectFailure(await client({ credentials: async () => ({ ak: CREDS.ak, sk: '' }) }).pushUsage([record('inst-a', 2)]));
    expect(noSk).toMatchObject({ retry: true, code: 'CREDENTIALS_UNAVAILABLE' });
    expect(fake.calls().length).toBe(before);
  });

  it('0 or 101 records, or a malformed record, are refused locally without a call', async () => {
    const before = fake.calls().length;
    const many = Array.from({ length: 101 }, (_, i) => record(`inst-${i}`, 2));
    const tooMany = expectFailure(await client().pushUsage(many));
    expect(tooMany).toMatchObject({ retry: false, code: 'INVALID_INPUT' });
    expect(tooMany.reason).toContain('1 to 100 records, not 101');
    expect(expectFailure(await client().pushUsage([]))).toMatchObject({ retry: false, code: 'INVALID_INPUT' });
    const good = record('inst-a', 2);
    const bad: UsagePushRecord[] = [
      { ...good, usage_value: '1.00001' },
      { ...good, usage_value: '0' },
      { ...good, usage_value: '0.0000' },
      { ...good, usage_value: '-1' },
      { ...good, usage_value: '1e3' },
      { ...good, begin_time: '2022-08-09T08:00:00Z' },
      { ...good, end_time: '20220230T000000Z' },
      { ...good, end_time: good.begin_time },
      { ...good, metering_sn: '' },
      { ...good, instance_id: 'i'.repeat(65) },
      { ...good, extra: 'x' } as UsagePushRecord,
    ];
    for (const r of bad) {
      const f = expectFailure(await client().pushUsage([good, r]));
      expect(f, JSON.stringify(r)).toMatchObject({ retry: false, code: 'INVALID_INPUT' });
      expect(f.reason).toMatch(/^invalid usage records: 1[.:]/);
    }
    expect(fake.calls().length).toBe(before);
  });

  it('a record older than 21 days → MKT.9004, permanent, and nothing of the batch is kept', async () => {
    const fresh = record('inst-a', 2);
    const old = record('inst-b', 22 * 24);
    const f = expectFailure(await client().pushUsage([fresh, old]));
    expect(f).toMatchObject({ retry: false, code: 'MKT.9004', httpStatus: 500 });
    expect(f.extraInfo).toContain(old.metering_sn);
    expect(f.extraInfo).not.toContain(fresh.metering_sn);
    expect(fake.usage()).toEqual([]);
    // 20 days back is still accepted.
    expectOk(await client().pushUsage([fresh, record('inst-b', 20 * 24)]));
    expect(fake.usage()).toHaveLength(2);
  });

  it('pushing the same batch again → ok, duplicate, each record held once', async () => {
    const records = [record('inst-a', 2), record('inst-a', 3)];
    expect(expectOk(await client().pushUsage(records)).duplicate).toBe(false);
    expect(await client().pushUsage(records)).toEqual({
      ok: true,
      code: 'MKT.9005',
      duplicate: true,
      via: 'primary',
      answered: answered200,
    });
    expect(await client().pushUsage([...records].reverse())).toMatchObject({ ok: true, duplicate: true });
    expect(held()).toEqual(records);
  });

  it('a batch half new, half already pushed → ok, each window held once', async () => {
    const first = [record('inst-a', 2), record('inst-a', 3)];
    expectOk(await client().pushUsage(first));
    const second = [first[1]!, record('inst-a', 4), first[0]!, record('inst-a', 5)];
    expect(await client().pushUsage(second)).toEqual({
      ok: true,
      code: 'MKT.0000',
      duplicate: false,
      via: 'primary',
      answered: answered200,
    });
    expect(held()).toEqual([first[0], first[1], second[1], second[3]]);
    const windows = fake.usage().map((u) => `${u.instance_id} ${u.begin_time} ${u.end_time}`);
    expect(new Set(windows).size).toBe(4);
  });

  it('the same window under another metering_sn, or the same metering_sn for another window, is skipped', async () => {
    const original = record('inst-a', 2, '3');
    expectOk(await client().pushUsage([original]));
    const sameWindow = { ...original, metering_sn: 'another-sn', usage_value: '4' };
    expect(await client().pushUsage([sameWindow])).toMatchObject({ ok: true, duplicate: true, code: 'MKT.9005' });
    const sameSn = { ...record('inst-a', 3), metering_sn: original.metering_sn };
    expect(await client().pushUsage([sameSn])).toMatchObject({ ok: true, duplicate: true });
    // Within one batch only the first record of a window counts.
    const twice = record('inst-b', 2);
    expectOk(await client().pushUsage([twice, { ...twice, metering_sn: 'twice-2' }]));
    expect(held()).toEqual([original, twice]);
  });

  it('rate limit (406 MKT.0250) is transient; the same push then succeeds', async () => {
    fake.injectFault({ path: USAGE_DATA_PATH, status: 406, resultCode: 'MKT.0250', resultMsg: 'rate limited', times: 1 });
    const records = [record('inst-a', 2)];
    expect(expectFailure(await client().pushUsage(records))).toMatchObject({ retry: true, code: 'MKT.0250', httpStatus: 406 });
    expect(fake.usage()).toEqual([]);
    expect(expectOk(await client().pushUsage(records)).duplicate).toBe(false);
    expect(held()).toEqual(records);
  });

  it('internal error (500) is transient', async () => {
    fake.injectFault({ path: USAGE_DATA_PATH, status: 500, times: 1 });
    expect(expectFailure(await client().pushUsage([record('inst-a', 2)]))).toMatchObject({
      retry: true,
      code: 'MKT.0999',
      httpStatus: 500,
    });
    expect(fake.usage()).toEqual([]);
  });

  it('a fault for Query Order does not touch the usage push', async () => {
    fake.injectFault({ path: '/api/mkp-openapi-public/global/v1/order/query', status: 500, times: 1 });
    expectOk(await client().pushUsage([record('inst-a', 2)]));
    expect((await client().queryOrder('MOCKONDEMAND')).ok).toBe(false);
  });

  it('the primary host unreachable → the fallback takes the push', async () => {
    const records = [record('inst-a', 2)];
    expect(await client({ baseUrl: closedUrl, fallbackUrl: fake.url }).pushUsage(records)).toEqual({
      ok: true,
      code: 'MKT.0000',
      duplicate: false,
      via: 'fallback',
      answered: answered200,
    });
    expect(held()).toEqual(records);
    const both = expectFailure(await client({ baseUrl: closedUrl, fallbackUrl: closedUrl }).pushUsage(records));
    expect(both).toMatchObject({ retry: true, code: 'NETWORK_ERROR' });
  });

  it('an HTTP answer is never re-sent to the fallback', async () => {
    const other = await startFakeOpenApi({ credentials: CREDS, accessKey: ACCESS_KEY });
    try {
      fake.injectFault({ path: USAGE_DATA_PATH, status: 500, times: 1 });
      expect(expectFailure(await client({ fallbackUrl: other.url }).pushUsage([record('inst-a', 2)]))).toMatchObject({ retry: true });
      expect(other.calls()).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('follows the fake clock (the spec example record, pushed "in 2022")', async () => {
    const at = Date.UTC(2022, 7, 9, 9, 15);
    const past = await startFakeOpenApi({ credentials: CREDS, accessKey: ACCESS_KEY, now: () => at });
    try {
      const example = SPEC_USAGE_RECORD;
      const pushAt = (base: FakeOpenApi, now: number) =>
        openApiClient({ baseUrl: base.url, credentials: async () => CREDS, accessKey: async () => ACCESS_KEY, now: () => now });
      // Signed with today's clock: both signatures are outside the fake's window.
      expect(expectFailure(await pushAt(past, Date.now()).pushUsage([example]))).toMatchObject({ code: 'MKT.0154' });
      expectOk(await pushAt(past, at).pushUsage([example]));
      expect(past.usage()).toEqual([{ ...example, acceptedAt: at }]);
    } finally {
      await past.close();
    }
  });
});

describe('the fake usage endpoint itself', () => {
  const valid = () => record('inst-raw', 2);
  const bodyOf = (records: unknown[]) => JSON.stringify({ usage_records: records });

  it('accepts a correctly signed raw push, usage_value as a string or a JSON number (digits kept)', async () => {
    const r = valid();
    const numeric = JSON.stringify({ usage_records: [{ ...r, usage_value: 0 }] }).replace('"usage_value":0', '"usage_value":12.50');
    expect(await rawPush(numeric)).toMatchObject({ status: 200, body: { resultCode: 'MKT.0000' } });
    expect(held()).toEqual([{ ...r, usage_value: '12.50' }]);
  });

  it('format errors → 500 MKT.0100 with extra_info, and the batch is refused whole', async () => {
    const r = valid();
    const bad: [string, string][] = [
      ['bad time', bodyOf([valid(), { ...r, begin_time: '2022-08-09 08:00:00' }])],
      ['impossible date', bodyOf([{ ...r, end_time: '20250230T000000Z' }])],
      ['5 decimals', bodyOf([valid(), { ...r, usage_value: '1.00001' }])],
      ['5 decimals as a number', bodyOf([{ ...r, usage_value: 0 }]).replace('"usage_value":0', '"usage_value":1.00001')],
      ['zero value', bodyOf([{ ...r, usage_value: '0.000' }])],
      ['zero as a number', bodyOf([{ ...r, usage_value: 0 }])],
      ['negative value', bodyOf([{ ...r, usage_value: '-2' }])],
      ['begin not before end', bodyOf([{ ...r, end_time: r.begin_time }])],
      ['id over 64', bodyOf([{ ...r, instance_id: 'i'.repeat(65) }])],
      ['empty metering_sn', bodyOf([{ ...r, metering_sn: '' }])],
      ['metering_sn over 64', bodyOf([{ ...r, metering_sn: 's'.repeat(65) }])],
      ['missing field', bodyOf([{ ...r, record_time: undefined }])],
      ['unknown record field', bodyOf([{ ...r, product_id: 'OFFI1' }])],
      ['unknown top-level field', JSON.stringify({ usage_records: [r], extra: 1 })],
      ['no records', bodyOf([])],
      ['not JSON', '{"usage_records":['],
      ['not an object', '[]'],
    ];
    for (const [what, body] of bad) {
      const res = await rawPush(body);
      expect(res, what).toMatchObject({ status: 500, body: { resultCode: 'MKT.0100' } });
      expect(res.body.extra_info, what).toBeTruthy();
    }
    expect(fake.usage()).toEqual([]);
    const f = expectFailure(interpretUsageAnswer(500, JSON.stringify((await rawPush(bad[2]![1])).body), 'primary'));
    expect(f).toMatchObject({ retry: false, code: 'MKT.0100' });
    expect(f.extraInfo).toContain('usage_value');
  });

  it('more than 100 records → 500 MKT.9003, nothing kept', async () => {
    const res = await rawPush(bodyOf(Array.from({ length: 101 }, () => valid())));
    expect(res).toMatchObject({ status: 500, body: { resultCode: 'MKT.9003' } });
    expect(fake.usage()).toEqual([]);
    expect(fake.calls().at(-1)).toMatchObject({ resultCode: 'MKT.9003', records: 101 });
  });

  it('business signature checks → 401 MKT.0154', async () => {
    const body = bodyOf([valid()]);
    const refused = async (options: Parameters<typeof rawPush>[1]) => {
      const res = await rawPush(body, options);
      expect(res.status).toBe(401);
      expect(res.body.resultCode).toBe('MKT.0154');
      return res.body.resultMsg;
    };
    expect(await refused({ ts: String(Date.now() - 16 * 60_000) })).toContain('ts is outside the allowed window');
    expect(await refused({ ts: String(Date.now() + 16 * 60_000) })).toContain('outside the allowed window');
    expect(await refused({ ts: '2022-08-09' })).toContain('ts is not epoch milliseconds');
    expect(await refused({ nonce: 'n'.repeat(65) })).toContain('nonce is longer than 64');
    expect(await refused({ accessKey: 'other' })).toContain('business signature does not match');
    expect(await refused({ headers: { signature: '' } })).toContain('signature, ts and nonce headers are required');
    // A signature made for another ts and nonce.
    expect(await refused({ headers: { signature: usageSignature(ACCESS_KEY, '1', 'n', body) } })).toContain('does not match');
    expect(await rawPush(body, { nonce: 'n'.repeat(64), ts: String(Date.now() - 14 * 60_000) })).toMatchObject({ status: 200 });
    expect(fake.usage()).toHaveLength(1);
  });

  it('an unsigned push → 401 MKT.0154; GET on the path → 404', async () => {
    const res = await fetch(`${fake.url}${USAGE_DATA_PATH}`, { method: 'POST', body: bodyOf([valid()]) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { resultCode: string }).resultCode).toBe('MKT.0154');
    expect((await fetch(`${fake.url}${USAGE_DATA_PATH}`)).status).toBe(404);
    expect(fake.usage()).toEqual([]);
  });

  it('GET /fake/usage and POST /fake/usage/reset', async () => {
    const records = [valid()];
    expectOk(await client().pushUsage(records));
    const listed = (await (await fetch(`${fake.url}/fake/usage`)).json()) as AcceptedUsage[];
    expect(listed.map(({ acceptedAt: _a, ...r }) => r)).toEqual(records);
    expect((await fetch(`${fake.url}/fake/usage/reset`, { method: 'POST' })).status).toBe(200);
    expect(fake.usage()).toEqual([]);
    // Forgotten, so no longer a duplicate.
    expect(expectOk(await client().pushUsage(records)).duplicate).toBe(false);
  });

  it('expects the local default access key unless told otherwise', async () => {
    expect(FAKE_OPENAPI_DEFAULT_ACCESS_KEY).toBe(LOCAL_DEFAULT_ACCESS_KEY);
    const other = await startFakeOpenApi({ credentials: CREDS });
    try {
      const push = (accessKey: string) =>
        openApiClient({ baseUrl: other.url, credentials: async () => CREDS, accessKey: async () => accessKey }).pushUsage([valid()]);
      expect(await push(ACCESS_KEY)).toMatchObject({ ok: false, code: 'MKT.0154' });
      expectOk(await push(LOCAL_DEFAULT_ACCESS_KEY));
    } finally {
      await other.close();
    }
  });
});

describe('usage answer parsing', () => {
  const interpret = (status: number, body: unknown, duplicateCodes?: string[]) =>
    interpretUsageAnswer(status, typeof body === 'string' ? body : JSON.stringify(body), 'primary', duplicateCodes);

  it('success, and duplicates by the configured codes only', () => {
    expect(interpret(200, { resultCode: 'MKT.0000', resultMsg: 'success' })).toEqual({
      ok: true,
      code: 'MKT.0000',
      duplicate: false,
      via: 'primary',
    });
    expect(interpret(200, { resultCode: 'MKT.9005' })).toMatchObject({ ok: true, duplicate: true });
    expect(interpret(500, { resultCode: 'MKT.9005' }, ['MKT.9006'])).toMatchObject({ ok: false, retry: false, code: 'MKT.9005' });
    expect(interpret(500, { resultCode: 'MKT.9006' }, ['MKT.9006'])).toMatchObject({ ok: true, duplicate: true, code: 'MKT.9006' });
    // A refusal that only mentions duplicates is a refusal: nothing is marked accepted that was not taken.
    expect(interpret(500, { resultCode: 'MKT.9002', resultMsg: 'Duplicate metering_sn' })).toMatchObject({ ok: false, retry: false });
    expect(interpret(500, { resultCode: 'MKT.0100', resultMsg: '话单重复' })).toMatchObject({ ok: false, retry: false });
    expect(interpret(500, { resultCode: 'MKT.0999', resultMsg: 'duplicate key in database' })).toMatchObject({ ok: false, retry: true });
  });

  it('retry classification and extra_info', () => {
    for (const code of ['MKT.9002', 'MKT.9003', 'MKT.9004', 'MKT.0100', 'MKT.0154', 'MKT.0151']) {
      expect(interpret(code === 'MKT.0154' || code === 'MKT.0151' ? 401 : 500, { resultCode: code }), code).toMatchObject({
        ok: false,
        retry: false,
        code,
      });
    }
    expect(interpret(406, { resultCode: 'MKT.0250' })).toMatchObject({ ok: false, retry: true });
    expect(interpret(500, { resultCode: 'MKT.0999' })).toMatchObject({ ok: false, retry: true });
    expect(interpret(503, { resultCode: 'MKT.0199' })).toMatchObject({ ok: false, retry: true });
    const structured = expectFailure(
      interpret(500, { resultCode: 'MKT.9002', resultMsg: 'invalid', extra_info: { metering_sn: ['a', 'b'] } }),
    );
    expect(structured).toEqual({
      ok: false,
      retry: false,
      code: 'MKT.9002',
      reason: 'MKT.9002 (HTTP 500): invalid',
      httpStatus: 500,
      extraInfo: '{"metering_sn":["a","b"]}',
    });
    const long = expectFailure(interpret(500, { resultCode: 'MKT.0100', extra_info: 'x'.repeat(2000) }));
    expect(long.extraInfo).toHaveLength(500);
    expect(expectFailure(interpret(500, { resultCode: 'MKT.0100', extra_info: '  ' })).extraInfo).toBeUndefined();
  });

  it('bodies that are not answers', () => {
    expect(interpret(200, 'garbage')).toMatchObject({ ok: false, retry: true, code: 'BAD_RESPONSE' });
    expect(interpret(200, {})).toMatchObject({ ok: false, retry: true, code: 'BAD_RESPONSE' });
    expect(interpret(502, '<html>bad gateway</html>')).toMatchObject({ ok: false, retry: true, code: 'HTTP_502' });
    expect(interpret(404, '<html>no</html>')).toMatchObject({ ok: false, retry: false, code: 'HTTP_404' });
    expect(interpret(429, { error_code: 'APIG.0308', error_msg: 'throttled' })).toMatchObject({
      ok: false,
      retry: true,
      code: 'APIG.0308',
    });
    expect(interpretUsageAnswer(200, undefined, 'fallback')).toMatchObject({ ok: false, retry: true, code: 'BAD_RESPONSE' });
  });
});
