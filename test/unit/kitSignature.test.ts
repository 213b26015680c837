import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AccessKey } from '#lib/koogallery/auth.ts';
import { MAX_JSON_DEPTH } from '#lib/koogallery/canonicalJson.ts';
import { parseJsonTree, type JsonMap } from '#lib/koogallery/jsonTree.ts';
import {
  kitCandidates,
  kitPayload,
  kitSignature,
  signKitRequest,
  verifyKitRequest,
  type KitHeaders,
} from '#lib/koogallery/kitSignature.ts';
import { CT_B } from '../helpers/kitVectors.ts';

/** The Kit `x-sign` (spec kit.md §2): vectors K1–K8 computed with Huawei's Java demo, and the check order of §2.1. */

const KEY = 'testKitKey-0123456789';
const key: AccessKey = { id: 'kit', secret: KEY };
const N1 = '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA';
/** Before 4102444800000 (2100-01-01), the timestamp of K2–K8, within the window. */
const FUTURE_NOW = 4_102_444_800_000 - 30_000;

function tree(text: string): JsonMap {
  const reading = parseJsonTree(text, MAX_JSON_DEPTH);
  if (!reading.ok || !(reading.value instanceof Map)) throw new Error(`not a JSON object: ${text}`);
  return reading.value;
}

const K1_BODY =
  '{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86abc2018ab880d92f36422fa0e","tenantCode":"huawei","name":"huaiweitest","domainName":"https://example.tenantaccount.com","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}';
const K3_BODY =
  '{"instanceId":"huaiweitest123456","tenantId":"68cbc86abc2018ab880d92f36422fa0e","appId":"0bd452b0-58af-4b98-9bda-6bf59da68d57","userList":[{"userName":"zhangsan01","name":"张三","orgCode":"123456789","role":"admin","enable":"true","employeeType":1,"email":"zs@example.com"}],"currentSyncTime":"20241202135516592","flag":1,"testFlag":1,"timeStamp":"20241202135516592"}';
const K4_BODY =
  '{"instanceId":"hua123456","tenantId":"68cbc86abc2018ab880d92f36422fa0e","orgCode":"10000","orgName":"开发部","parentCode":"","flag":1,"testFlag":0,"timeStamp":"20220413093539534","extra":null}';
const K5_BODY =
  '{"instanceId":"hua123456","tenantId":"68cbc86abc2018ab880d92f36422fa0e","orgInfoList":[{"orgCode":"00000001","orgName":"产品部","parentCode":"265789314"},{"orgCode":"265789314","orgName":"总部","parentCode":""}],"testFlag":0,"timeStamp":"20220413093539534"}';
const K6_BODY = JSON.stringify({
  instanceId: 'huaiweitest123456',
  tenantId: '68cbc86abc2018ab880d92f36422fa0e',
  appId: '0bd452b0-58af-4b98-9bda-6bf59da68d57',
  clientId: 'NzZeWuiJa91dPSRdZQChMazIh13AW',
  clientSecret: CT_B,
  flag: 1,
  testFlag: 1,
  timeStamp: '20230403155426618',
});
const K7_BODY =
  '{"tenantId":"t1","flag":"1","testFlag":"1","instanceId":"","orderId":"","tenantCode":"c","name":"n","domainName":"https://d.example.com","timeStamp":"20240101000000000"}';
const K8_BODY = K7_BODY.replace('"flag":"1","testFlag":"1"', '"flag":1,"testFlag":1');

const vectors: Array<{ id: string; body: string; nonce: string; timestamp: string; payload?: string; sign: string }> = [
  {
    id: 'K2',
    body: K1_BODY,
    nonce: N1,
    timestamp: '4102444800000',
    payload:
      '{"domainName":"https://example.tenantaccount.com","flag":1,"instanceId":"huaiweitest123456","name":"huaiweitest","orderId":"CS1906666666ABCDE","tenantCode":"huawei","tenantId":"68cbc86abc2018ab880d92f36422fa0e","testFlag":0,"timeStamp":"20220413093539534"}',
    sign: 'fa37aad2085292ed558d7052148b4bac5a99054c63afde65716989be157157c3',
  },
  {
    id: 'K3',
    body: K3_BODY,
    nonce: '9F26B85CAEB3A8439221BA293E9250BC5EA689225B523C291EA75CC76B469510',
    timestamp: '4102444800000',
    payload:
      '{"appId":"0bd452b0-58af-4b98-9bda-6bf59da68d57","currentSyncTime":"20241202135516592","flag":1,"instanceId":"huaiweitest123456","tenantId":"68cbc86abc2018ab880d92f36422fa0e","testFlag":1,"timeStamp":"20241202135516592","userList":[{"userName":"zhangsan01","name":"张三","orgCode":"123456789","role":"admin","enable":"true","employeeType":1,"email":"zs@example.com"}]}',
    sign: '5c08c949986dea71c3a9349cebc7571fea007f31773a669d3aa5afe4173ffc67',
  },
  {
    id: 'K4',
    body: K4_BODY,
    nonce: N1,
    timestamp: '4102444800000',
    payload:
      '{"flag":1,"instanceId":"hua123456","orgCode":"10000","orgName":"开发部","parentCode":"","tenantId":"68cbc86abc2018ab880d92f36422fa0e","testFlag":0,"timeStamp":"20220413093539534"}',
    sign: 'bca75ee7e861a057af3d11846f0e0a39fd67f44df1339c0e0ed0523365f4c1df',
  },
  {
    id: 'K5',
    body: K5_BODY,
    nonce: N1,
    timestamp: '4102444800000',
    payload:
      '{"instanceId":"hua123456","orgInfoList":[{"orgCode":"00000001","orgName":"产品部","parentCode":"265789314"},{"orgCode":"265789314","orgName":"总部","parentCode":""}],"tenantId":"68cbc86abc2018ab880d92f36422fa0e","testFlag":0,"timeStamp":"20220413093539534"}',
    sign: '5a488dab2fff86aa7e1def54cab89f52e5ed4feecdb648f98b82b00873b7429a',
  },
  {
    id: 'K6',
    body: K6_BODY,
    nonce: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
    timestamp: '4102444800000',
    sign: '7247b55c9ef5262cf40f15c37bff7e7d59ff812b3c4a640b095d7254b2787049',
  },
  {
    id: 'K7',
    body: K7_BODY,
    nonce: 'Nonce-ABC',
    timestamp: '4102444800000',
    payload:
      '{"domainName":"https://d.example.com","flag":"1","instanceId":"","name":"n","orderId":"","tenantCode":"c","tenantId":"t1","testFlag":"1","timeStamp":"20240101000000000"}',
    sign: '528a019a2ca9b6c3cbd303500435e35c663492d445885e6f7898f926002274e5',
  },
  {
    id: 'K8',
    body: K8_BODY,
    nonce: 'Nonce-ABC',
    timestamp: '4102444800000',
    sign: 'a2a70441c2ada4f13366a25fbf82a4c1694f90d5b1d802a3a0fdfeb1a2151689',
  },
];

const headers = (v: { nonce: string; timestamp: string; sign: string }): KitHeaders => ({
  nonce: v.nonce,
  timestamp: v.timestamp,
  sign: v.sign,
});

describe('the vectors of spec §2.2', () => {
  for (const v of vectors) {
    it(`${v.id}: the canonical payload and x-sign match, and the call verifies with the documented form`, () => {
      const body = tree(v.body);
      if (v.payload) expect(kitPayload(body)).toBe(v.payload);
      expect(kitSignature(KEY, v.nonce, v.timestamp, kitPayload(body))).toBe(v.sign);
      expect(verifyKitRequest([key], headers(v), body, v.body, FUTURE_NOW)).toEqual({
        ok: true,
        keyId: 'kit',
        nonce: v.nonce,
        form: 'top-level-sorted',
      });
      // Uppercase, as the documentation's examples show it, verifies too.
      expect(verifyKitRequest([key], { ...headers(v), sign: v.sign.toUpperCase() }, body, v.body, FUTURE_NOW).ok).toBe(true);
    });
  }

  it('K1: the signature is right but its timestamp is stale at the real clock: 000002', () => {
    const k1 = { nonce: N1, timestamp: '1680508066618', sign: '9150b792e6a32ab6783d25274c644410aa5cf4da8f33126847ed130b9f6aa52c' };
    expect(kitSignature(KEY, k1.nonce, k1.timestamp, kitPayload(tree(K1_BODY)))).toBe(k1.sign);
    expect(verifyKitRequest([key], headers(k1), tree(K1_BODY), K1_BODY, Date.now())).toMatchObject({ ok: false, code: '000002' });
  });

  it('K7 and K8 differ only in "1" vs 1: values are signed as received, never coerced', () => {
    expect(kitPayload(tree(K7_BODY))).toContain('"flag":"1"');
    expect(kitPayload(tree(K8_BODY))).toContain('"flag":1');
    const k7 = vectors.find((v) => v.id === 'K7');
    expect(verifyKitRequest([key], headers(k7!), tree(K8_BODY), K8_BODY, FUTURE_NOW)).toMatchObject({ ok: false, code: '000001' });
  });

  it('a one-hex-digit tamper of every vector answers 000001', () => {
    for (const v of vectors) {
      const tampered = (v.sign[0] === 'a' ? 'b' : 'a') + v.sign.slice(1);
      expect(verifyKitRequest([key], { ...headers(v), sign: tampered }, tree(v.body), v.body, FUTURE_NOW)).toMatchObject({
        ok: false,
        code: '000001',
      });
    }
  });
});

describe('the check order of §2.1', () => {
  const body = tree(K8_BODY);
  const good = { nonce: 'n', timestamp: String(FUTURE_NOW), sign: kitSignature(KEY, 'n', String(FUTURE_NOW), kitPayload(body)) };
  const verify = (h: KitHeaders, now = FUTURE_NOW) => verifyKitRequest([key], h, body, K8_BODY, now);

  it('missing or non-numeric timestamp: 000002, before anything else', () => {
    expect(verify({ ...good, timestamp: undefined, nonce: undefined, sign: undefined })).toMatchObject({
      code: '000002',
      reason: 'x-timestamp is missing',
    });
    expect(verify({ ...good, timestamp: '17e11' })).toMatchObject({ code: '000002', reason: 'x-timestamp is not a number' });
  });

  it('a timestamp beyond 60 s + 5 s skew, past or future: 000002; within it: accepted', () => {
    expect(verify(good, FUTURE_NOW + 65_000).ok).toBe(true);
    expect(verify(good, FUTURE_NOW - 65_000).ok).toBe(true);
    expect(verify(good, FUTURE_NOW + 65_001)).toMatchObject({ code: '000002' });
    expect(verify(good, FUTURE_NOW - 65_001)).toMatchObject({ code: '000002' });
  });

  it('missing or over-long nonce: 000002; missing or malformed sign: 000001', () => {
    expect(verify({ ...good, nonce: undefined, sign: undefined })).toMatchObject({ code: '000002', reason: 'x-nonce is missing' });
    expect(verify({ ...good, nonce: 'n'.repeat(129) })).toMatchObject({ code: '000002' });
    expect(verify({ ...good, sign: undefined })).toMatchObject({ code: '000001', reason: 'x-sign is missing' });
    expect(verify({ ...good, sign: 'a'.repeat(129) })).toMatchObject({ code: '000001' });
  });

  it('the previous key of a rotation verifies too, and says which key it was', () => {
    expect(verifyKitRequest([{ id: 'new', secret: 'other' }, key], good, body, K8_BODY, FUTURE_NOW)).toMatchObject({
      ok: true,
      keyId: 'kit',
    });
  });
});

describe('the candidates of §2.3', () => {
  const raw = '{ "b": 1, "a": {"z": 1, "y": null}, "n": null }';
  const body = tree(raw);
  const hmac = (payload: string, nonce = 'n', ts = String(FUTURE_NOW)) =>
    createHmac('sha256', KEY)
      .update(KEY + nonce + ts + payload, 'utf8')
      .digest('hex');

  it('documented first, then recursively sorted, then the raw body', () => {
    expect(kitCandidates(body, raw)).toEqual([
      { form: 'top-level-sorted', payload: '{"a":{"z":1,"y":null},"b":1}' },
      { form: 'deep-sorted', payload: '{"a":{"z":1},"b":1}' },
      { form: 'raw-body', payload: raw },
    ]);
  });

  it('a signer that sorted nested keys, or signed the raw bytes, is accepted and the form named', () => {
    const verify = (sign: string) => verifyKitRequest([key], { nonce: 'n', timestamp: String(FUTURE_NOW), sign }, body, raw, FUTURE_NOW);
    expect(verify(hmac('{"a":{"z":1},"b":1}'))).toMatchObject({ ok: true, form: 'deep-sorted' });
    expect(verify(hmac(raw))).toMatchObject({ ok: true, form: 'raw-body' });
  });

  it('signKitRequest signs as KooGallery does', () => {
    const signed = signKitRequest(KEY, body, { nowMs: FUTURE_NOW, nonce: 'n' });
    expect(signed).toEqual({ 'x-sign': hmac('{"a":{"z":1,"y":null},"b":1}'), 'x-timestamp': String(FUTURE_NOW), 'x-nonce': 'n' });
    expect(signKitRequest(KEY, body)['x-nonce']).toMatch(/^[0-9A-F]{64}$/);
  });
});
