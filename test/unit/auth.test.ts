import { describe, expect, it } from 'vitest';
import { parseTimestamp, verifyRequest, type AccessKey } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { canonicalPayload } from '#lib/koogallery/canonicalJson.ts';
import { parseJsonTree, type JsonMap } from '#lib/koogallery/jsonTree.ts';
import { keyId, signatureV2 } from '#lib/koogallery/signature.ts';
import { signedQuery, TEST_KEY } from '../helpers/signing.ts';

const NOW = 1_700_000_000_000;
const WINDOW = 60_000;
const current: AccessKey = { id: keyId(TEST_KEY), secret: TEST_KEY };
const previous: AccessKey = { id: keyId('old-key'), secret: 'old-key' };
const body: JsonObject = { activity: 'queryInstance', instanceId: 'abc' };
const raw = JSON.stringify(body);

/** A received body as the verifier reads it. */
function tree(text: string): JsonMap {
  const reading = parseJsonTree(text, 32);
  if (!reading.ok || !(reading.value instanceof Map)) throw new Error('not a JSON object');
  return reading.value;
}

describe('verifyRequest', () => {
  it('accepts a fresh request signed with the current key', () => {
    const verdict = verifyRequest([current], signedQuery(body, { nowMs: NOW }), tree(raw), raw, NOW, WINDOW);
    expect(verdict).toMatchObject({ ok: true, keyId: current.id, form: 'top-level-sorted' });
  });

  it('accepts the previous key during a rotation and says which key matched', () => {
    const verdict = verifyRequest([current, previous], signedQuery(body, { nowMs: NOW, key: 'old-key' }), tree(raw), raw, NOW, WINDOW);
    expect(verdict).toMatchObject({ ok: true, keyId: previous.id });
  });

  it('accepts a lowercase signature', () => {
    const q = signedQuery(body, { nowMs: NOW });
    expect(verifyRequest([current], { ...q, signature: q.signature.toLowerCase() }, tree(raw), raw, NOW, WINDOW).ok).toBe(true);
  });

  it('refuses a wrong key with 000001', () => {
    const verdict = verifyRequest([current], signedQuery(body, { nowMs: NOW, key: 'other' }), tree(raw), raw, NOW, WINDOW);
    expect(verdict).toMatchObject({ ok: false, code: '000001' });
  });

  it('refuses a body changed after signing with 000001', () => {
    const q = signedQuery(body, { nowMs: NOW });
    const changed = { ...body, instanceId: 'abd' };
    expect(verifyRequest([current], q, tree(JSON.stringify(changed)), JSON.stringify(changed), NOW, WINDOW)).toMatchObject({
      ok: false,
      code: '000001',
    });
  });

  it('answers a missing signature with 000001 and a missing timestamp or nonce with 000002', () => {
    const q = signedQuery(body, { nowMs: NOW });
    expect(verifyRequest([current], { ...q, signature: undefined }, tree(raw), raw, NOW, WINDOW)).toMatchObject({ code: '000001' });
    expect(verifyRequest([current], { ...q, timestamp: undefined }, tree(raw), raw, NOW, WINDOW)).toMatchObject({ code: '000002' });
    expect(verifyRequest([current], { ...q, nonce: '' }, tree(raw), raw, NOW, WINDOW)).toMatchObject({ code: '000002' });
  });

  it('refuses timestamps more than 60 s away in either direction', () => {
    for (const skew of [-60_001, 60_001, -3_600_000]) {
      const q = signedQuery(body, { nowMs: NOW + skew });
      expect(verifyRequest([current], q, tree(raw), raw, NOW, WINDOW)).toMatchObject({ ok: false, code: '000002' });
    }
    for (const skew of [-60_000, 59_999]) {
      expect(verifyRequest([current], signedQuery(body, { nowMs: NOW + skew }), tree(raw), raw, NOW, WINDOW).ok).toBe(true);
    }
  });

  it('accepts a 10-digit seconds timestamp (spec §10.11)', () => {
    const seconds = String(Math.floor(NOW / 1000));
    // signed over the timestamp exactly as it appears in the URL
    const signature = signatureV2(TEST_KEY, 'n1', seconds, canonicalPayload(body));
    expect(verifyRequest([current], { signature, timestamp: seconds, nonce: 'n1' }, tree(raw), raw, NOW, WINDOW).ok).toBe(true);
  });

  it('refuses malformed timestamps, NaN included', () => {
    for (const timestamp of ['abc', '12', '1700000000000.5', '-1700000000000', '17000000000000']) {
      const q = signedQuery(body, { nowMs: NOW });
      expect(verifyRequest([current], { ...q, timestamp }, tree(raw), raw, NOW, WINDOW)).toMatchObject({ ok: false, code: '000002' });
    }
    expect(parseTimestamp('1700000000')).toBe(1_700_000_000_000);
  });

  it('accepts any §7.2.4 candidate for nested bodies and names the one that matched', () => {
    const rawNested = '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"skuCode":"s","productId":"p"}}';
    const nested = JSON.parse(rawNested) as JsonObject;
    const deep = '{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"productId":"p","skuCode":"s"}}';
    const verdict = verifyRequest([current], signedQuery(nested, { nowMs: NOW, payload: deep }), tree(rawNested), rawNested, NOW, WINDOW);
    expect(verdict).toMatchObject({ ok: true, form: 'deep-sorted' });
    const rawVerdict = verifyRequest(
      [current],
      signedQuery(nested, { nowMs: NOW, payload: rawNested }),
      tree(rawNested),
      rawNested,
      NOW,
      WINDOW,
    );
    expect(rawVerdict.ok).toBe(true);
  });

  it('refuses over-long nonces and signatures', () => {
    const q = signedQuery(body, { nowMs: NOW });
    expect(verifyRequest([current], { ...q, nonce: 'n'.repeat(129) }, tree(raw), raw, NOW, WINDOW)).toMatchObject({ code: '000002' });
    expect(verifyRequest([current], { ...q, signature: 'A'.repeat(129) }, tree(raw), raw, NOW, WINDOW)).toMatchObject({ code: '000001' });
  });
});
