import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalCandidates, canonicalPayload, MAX_JSON_DEPTH, type JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { parseJsonTree, type JsonMap } from '#lib/koogallery/jsonTree.ts';
import { verifyRequest } from '#lib/koogallery/auth.ts';
import { bodySignHeader, hmacHex, keyId, signaturesEqual, signatureV2 } from '#lib/koogallery/signature.ts';

const KEY = 'testAccessKey-0123456789';

/** A received body as the verifier reads it. */
function tree(raw: string): JsonMap {
  const reading = parseJsonTree(raw, MAX_JSON_DEPTH);
  if (!reading.ok || !(reading.value instanceof Map)) throw new Error('not a JSON object');
  return reading.value;
}

// spec §7.2.2
const vectors = [
  {
    name: 'V2-1 newInstance',
    body: '{"activity":"newInstance","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","businessId":"61e834ba-7b97-4418-b8f7-e5345137278c","testFlag":"1"}',
    nonce: '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA',
    timestamp: '1680508066618',
    canonical:
      '{"activity":"newInstance","businessId":"61e834ba-7b97-4418-b8f7-e5345137278c","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}',
    inner: 'a19fc66a32cf0d071983841ef0ad83f68aa3915d855992297ea3328734c75751',
    signature: '7846C02ADE5CDBC7192F0B8603F9AD415CBEADBAD7AC76A6F0B09DE919A7BABC',
  },
  {
    name: 'V2-2 queryInstance',
    body: '{"activity":"queryInstance","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","testFlag":"0"}',
    nonce: '9FB42E04DF4594B1FAA50B304E647AD7154AB9B4F144A65F1168886540A8B24C',
    timestamp: '1680508237508',
    canonical: '{"activity":"queryInstance","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","testFlag":"0"}',
    inner: '359861186cc6b2ba6b262dbedc7557bbfbb5b20a42d036bef23c03d3ceb7c94e',
    signature: '0D8C213BCD257CC4D51A0181CFE2A824CD3CBD36264F8A6F31E40E5A30BA997C',
  },
  {
    name: 'V2-3 updateInstanceStatus',
    body: '{"activity":"updateInstanceStatus","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","status":"FREEZE","testFlag":"1"}',
    nonce: '9F26B85CAEB3A8439221BA293E9250BC5EA689225B523C291EA75CC76B469510',
    timestamp: '1680509558159',
    canonical: '{"activity":"updateInstanceStatus","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","status":"FREEZE","testFlag":"1"}',
    inner: 'a59434624f2e86ad3a498afd4321c5252e1d1477179e6615896b16b9627df426',
    signature: 'BD1FE653768F762E2A1BF4D4ADEBD24BB6AC31AA9ADB7124E0D6CF49961F637F',
  },
  {
    name: 'V2-4 refreshInstance with a null dropped',
    body: '{"activity":"refreshInstance","scene":"RENEWAL","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","productId":"OFFI788963615933718528","expireTime":"20240101000000","testFlag":null}',
    nonce: 'RLLUammMSInlrNWb',
    timestamp: '1716363778801',
    canonical:
      '{"activity":"refreshInstance","expireTime":"20240101000000","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","productId":"OFFI788963615933718528","scene":"RENEWAL"}',
    inner: '18365a4db787ea2cce51b79440464c821d01d25855fb32acedb660a751777b18',
    signature: '7AC6B57461A3A85A02A9F44EBB4F1A6F6A37EBB36C0142BA8BCF0C67329294C0',
  },
];

describe('V2 request signature (spec §7.2.2 vectors)', () => {
  for (const v of vectors) {
    it(v.name, () => {
      const canonical = canonicalPayload(JSON.parse(v.body) as JsonObject);
      expect(canonical).toBe(v.canonical);
      expect(hmacHex(KEY, canonical)).toBe(v.inner);
      expect(signatureV2(KEY, v.nonce, v.timestamp, canonical)).toBe(v.signature.toLowerCase());
      // The verifier's reading of the body as received gives the same single candidate.
      expect(canonicalCandidates(tree(v.body), v.body)).toEqual([{ form: 'top-level-sorted', payload: v.canonical }]);
    });
  }

  it('compares case-insensitively and rejects any other signature', () => {
    const v = vectors[0]!;
    const expected = signatureV2(KEY, v.nonce, v.timestamp, v.canonical);
    expect(signaturesEqual(expected, v.signature)).toBe(true);
    expect(signaturesEqual(expected, v.signature.toLowerCase())).toBe(true);
    expect(signaturesEqual(expected, v.signature.replace(/.$/, '0'))).toBe(false);
    expect(signaturesEqual(expected, v.signature.slice(1))).toBe(false);
    expect(signaturesEqual(expected, '')).toBe(false);
  });
});

/**
 * Bodies the marketplace's Java side signs differently from JSON.stringify (spec §7.2.3): canonical payloads written
 * by hand from Jackson's rules (TreeMap<String, String>: scalars as the text they were written as; control
 * characters as upper-case \u00XX), the HMACs computed here with node:crypto.
 */
const jacksonVectors = [
  {
    name: 'J-1 a control character',
    body: String.raw`{"activity":"queryInstance","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","remark":"a\u001fb\tc"}`,
    canonical: String.raw`{"activity":"queryInstance","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","remark":"a\u001Fb\tc"}`,
  },
  {
    name: 'J-2 numbers and a boolean',
    body: '{"testFlag":"0","quantity":1.0,"activity":"queryInstance","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","ratio":1e21,"zero":-0,"big":12345678901234567890,"paid":true}',
    canonical:
      '{"activity":"queryInstance","big":"12345678901234567890","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","paid":"true","quantity":"1.0","ratio":"1e21","testFlag":"0","zero":"-0"}',
  },
];

describe('V2 request signature, bodies signed the Jackson way', () => {
  const nonce = '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA';
  const timestamp = '1680508066618';
  const hmac = (message: string) => createHmac('sha256', KEY).update(message, 'utf8').digest('hex');
  for (const v of jacksonVectors) {
    it(v.name, () => {
      const jackson = canonicalCandidates(tree(v.body), v.body).find((c) => c.form === 'jackson');
      expect(jackson?.payload).toBe(v.canonical);
      const signature = hmac(`${KEY}${nonce}${timestamp}${hmac(v.canonical)}`);
      expect(signatureV2(KEY, nonce, timestamp, v.canonical)).toBe(signature);
      const verdict = verifyRequest(
        [{ id: 'k', secret: KEY }],
        { signature, timestamp, nonce },
        tree(v.body),
        v.body,
        Number(timestamp),
        60_000,
      );
      expect(verdict).toMatchObject({ ok: true, form: 'jackson' });
    });
  }
});

describe('Body-Sign response header (spec §7.4)', () => {
  it('matches the vector, in the marketplace format', () => {
    const body = '{"resultCode":"000000","resultMsg":"success.","instanceId":"61e834ba-7b97-4418-b8f7-e5345137278c"}';
    expect(bodySignHeader(KEY, body)).toBe('sign_type="HMAC-SHA256", signature= "yHbSuDSZ1EdlwZX+mFdQDu1MgVTBQbvestpbA2rfWSc="');
  });
});

describe('canonical candidates for nested bodies (spec §7.2.4)', () => {
  it('offers only the documented form for flat string bodies', () => {
    const raw = '{"instanceId":"a","activity":"queryInstance"}';
    expect(canonicalCandidates(tree(raw), raw).map((c) => c.form)).toEqual(['top-level-sorted']);
  });

  it('offers four forms when a value is an object', () => {
    const raw = '{"productInfo":{"skuCode":"s","productId":"p"},"activity":"changeInstanceCheck","instanceId":"i"}';
    const candidates = canonicalCandidates(tree(raw), raw);
    expect(candidates).toEqual([
      {
        form: 'top-level-sorted',
        payload: '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"skuCode":"s","productId":"p"}}',
      },
      { form: 'deep-sorted', payload: '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"productId":"p","skuCode":"s"}}' },
      {
        form: 'stringified-scalars',
        payload: '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":"{\\"skuCode\\":\\"s\\",\\"productId\\":\\"p\\"}"}',
      },
      { form: 'raw-body', payload: raw },
    ]);
  });

  it('keeps non-ASCII and slashes unescaped, like Jackson', () => {
    expect(canonicalPayload({ b: '云商店/x', a: 'y' })).toBe('{"a":"y","b":"云商店/x"}');
  });
});

describe('keyId', () => {
  it('is a short stable fingerprint that does not contain the key', () => {
    expect(keyId(KEY)).toMatch(/^[0-9a-f]{12}$/);
    expect(keyId(KEY)).toBe(keyId(KEY));
    expect(keyId(KEY)).not.toBe(keyId(`${KEY}x`));
  });
});
