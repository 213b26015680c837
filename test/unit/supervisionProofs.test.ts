import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  PROOF_CONTENT_TYPES,
  PROOF_KINDS,
  checkReceivedObject,
  decodeS3EventKey,
  fileNameProblem,
  isProofContentType,
  isProofId,
  newProofId,
  parseProofObjectKey,
  proofIdTime,
  proofObjectKey,
  quarantineKey,
  requiredKindsPresent,
  sha256Forms,
} from '#lib/supervision/proofs.ts';
import { proofRequestSchemaFor } from '#lib/supervision/proofRequest.ts';

const DIGEST = createHash('sha256').update('delivery proof').digest();
const HEX = DIGEST.toString('hex');
const BASE64 = DIGEST.toString('base64');
const MAX = 10 * 1024 * 1024;

const valid = { kind: 'acceptance', fileName: '验收报告 v2.pdf', contentType: 'application/pdf', size: 1234, sha256: HEX };

function issues(body: unknown): string[] {
  const result = proofRequestSchemaFor(MAX).safeParse(body);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('proof kinds and content types', () => {
  it('lists the kinds of §8.3 and the allowed types', () => {
    expect(PROOF_KINDS).toEqual(['requirement', 'acceptance', 'license-screenshot', 'deployment', 'appeal-evidence', 'other']);
    expect([...PROOF_CONTENT_TYPES].sort()).toEqual(
      [
        'application/pdf',
        'image/png',
        'image/jpeg',
        'application/zip',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      ].sort(),
    );
    expect(isProofContentType('image/svg+xml')).toBe(false);
    expect(isProofContentType('text/html')).toBe(false);
  });
});

describe('sha256Forms', () => {
  it('accepts hex (either case) and base64 and gives both', () => {
    expect(sha256Forms(HEX)).toEqual({ hex: HEX, base64: BASE64 });
    expect(sha256Forms(HEX.toUpperCase())).toEqual({ hex: HEX, base64: BASE64 });
    expect(sha256Forms(BASE64)).toEqual({ hex: HEX, base64: BASE64 });
  });

  it('refuses anything else', () => {
    expect(sha256Forms(HEX.slice(1))).toBeUndefined();
    expect(sha256Forms(`${HEX}0`)).toBeUndefined();
    expect(sha256Forms(`g${HEX.slice(1)}`)).toBeUndefined();
    expect(sha256Forms(BASE64.replace('=', ''))).toBeUndefined();
    expect(sha256Forms(BASE64.replace(/\+/g, '-').replace(/\//g, '_').replace('=', 'A'))).toBeUndefined();
    expect(sha256Forms('')).toBeUndefined();
    // Non-canonical base64: the last character's unused bits set.
    const last = BASE64.charAt(42);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const twisted = `${BASE64.slice(0, 42)}${alphabet[alphabet.indexOf(last) ^ 1]}=`;
    expect(sha256Forms(twisted)).toBeUndefined();
  });
});

describe('proofRequestSchemaFor', () => {
  it('accepts a valid request, with hex or base64 and an optional service start', () => {
    expect(issues(valid)).toEqual([]);
    expect(issues({ ...valid, sha256: BASE64 })).toEqual([]);
    expect(issues({ ...valid, serviceStartAt: '2026-01-01T08:00:00+08:00' })).toEqual([]);
    expect(issues({ ...valid, size: MAX })).toEqual([]);
  });

  it('normalises the content type', () => {
    expect(proofRequestSchemaFor(MAX).parse({ ...valid, contentType: ' Application/PDF ' }).contentType).toBe('application/pdf');
  });

  it('refuses a content type outside the allow-list, saying which are accepted', () => {
    const [message] = issues({ ...valid, contentType: 'text/html' });
    expect(message).toMatch(/^contentType: contentType is not accepted for proofs; accepted: application\/pdf, image\/png/);
    expect(issues({ ...valid, contentType: 'application/pdf; charset=binary' })).toHaveLength(1);
  });

  it('refuses bad sizes', () => {
    expect(issues({ ...valid, size: 0 })).toHaveLength(1);
    expect(issues({ ...valid, size: 1.5 })).toHaveLength(1);
    expect(issues({ ...valid, size: MAX + 1 })).toEqual([`size: size must be at most ${MAX} bytes`]);
    expect(issues({ ...valid, size: '12' })).toHaveLength(1);
  });

  it('refuses bad file names', () => {
    for (const fileName of [
      '',
      'report\ud800.pdf',
      'a/b.pdf',
      '..\\x.pdf',
      'x\u0000.pdf',
      'x\n.pdf',
      'x\u007f.pdf',
      'x\u0085.pdf',
      'invoice\u202efdp.exe',
      '.',
      '..',
      'é'.repeat(256),
    ]) {
      expect(issues({ ...valid, fileName }), JSON.stringify(fileName)).toHaveLength(1);
    }
    expect(issues({ ...valid, fileName: '😀'.repeat(255) })).toEqual([]);
    expect(issues({ ...valid, fileName: '..pdf' })).toEqual([]);
    expect(fileNameProblem('a/b')).toMatch(/path separators/);
  });

  it('refuses bad hashes, kinds, service starts and unknown fields', () => {
    expect(issues({ ...valid, sha256: 'abc' })).toEqual(['sha256: sha256 must be 64 hex characters or 44 base64 characters']);
    expect(issues({ ...valid, kind: 'invoice' })).toHaveLength(1);
    expect(issues({ ...valid, serviceStartAt: '2026-01-01' })).toHaveLength(1);
    expect(issues({ ...valid, bucket: 'other' })).toHaveLength(1);
    expect(issues({ kind: 'acceptance' }).length).toBeGreaterThanOrEqual(4);
  });

  it('needs a positive integer limit and can be documented as JSON Schema', () => {
    expect(() => proofRequestSchemaFor(0)).toThrow(RangeError);
    const schema = z.toJSONSchema(proofRequestSchemaFor(MAX), { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(schema.properties).sort()).toEqual(['contentType', 'fileName', 'kind', 'serviceStartAt', 'sha256', 'size']);
    expect(schema.required.sort()).toEqual(['contentType', 'fileName', 'kind', 'sha256', 'size']);
  });
});

describe('proof ids', () => {
  it('are URL-safe, 26 characters, and carry their creation time', () => {
    const id = newProofId(Date.UTC(2026, 0, 1));
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    expect(isProofId(id)).toBe(true);
    expect(encodeURIComponent(id)).toBe(id);
    expect(proofIdTime(id)).toBe(Date.UTC(2026, 0, 1));
  });

  it('sort by time and do not repeat', () => {
    const ids = Array.from({ length: 200 }, (_, i) => newProofId(1_700_000_000_000 + i * 1000));
    expect([...ids].sort()).toEqual(ids);
    const same = Array.from({ length: 1000 }, () => newProofId(1_700_000_000_000));
    expect(new Set(same).size).toBe(1000);
    expect(newProofId(0).slice(0, 10)).toBe('0000000000');
  });

  it('knows what is not an id', () => {
    expect(isProofId('')).toBe(false);
    expect(isProofId('0'.repeat(25))).toBe(false);
    expect(isProofId(`${'0'.repeat(25)}U`)).toBe(false); // U is not Crockford base32
    expect(isProofId('0'.repeat(25).concat('a'))).toBe(false);
    expect(proofIdTime('nope')).toBeUndefined();
  });
});

describe('object keys', () => {
  it('builds proofs/{orderId}/{orderLineId}/{proofId} and parses it back', () => {
    const key = proofObjectKey('CS2211181819B4LVS', 'CS2211181819B4LVS-000001', '01KDZ0000000000000000000AB');
    expect(key).toBe('proofs/CS2211181819B4LVS/CS2211181819B4LVS-000001/01KDZ0000000000000000000AB');
    expect(parseProofObjectKey(key)).toEqual({
      orderId: 'CS2211181819B4LVS',
      orderLineId: 'CS2211181819B4LVS-000001',
      proofId: '01KDZ0000000000000000000AB',
    });
  });

  it('URI-encodes ids, so slashes and dots cannot escape the prefix', () => {
    const key = proofObjectKey('a/b', '..', 'x y+z%');
    expect(key).toBe('proofs/a%2Fb/../x%20y%2Bz%25');
    // `..` as an id is refused on the way back in: no key names a parent.
    expect(parseProofObjectKey(key)).toBeUndefined();
    const fine = proofObjectKey('a/b', 'l 1', 'x y+z%');
    expect(parseProofObjectKey(fine)).toEqual({ orderId: 'a/b', orderLineId: 'l 1', proofId: 'x y+z%' });
    expect(() => proofObjectKey('', 'l', 'p')).toThrow(RangeError);
  });

  it('refuses keys it would not have made', () => {
    for (const key of [
      'proofs/o/l',
      'proofs/o/l/p/extra',
      'proofs/o//p',
      'proofs//l/p',
      'proofs/o/l/',
      'proofs/../l/p',
      'proofs/o/./p',
      'proofs/o/%2E%2E/p',
      'quarantine/proofs/o/l/p',
      'other/o/l/p',
      '/proofs/o/l/p',
      'Proofs/o/l/p',
      'proofs/o/l/%E0%A4%A',
      'proofs/o/l/a b', // not its canonical encoding
      'proofs/o/l/%41', // 'A' needs no encoding
    ]) {
      expect(parseProofObjectKey(key), key).toBeUndefined();
    }
  });

  it('quarantines a key under quarantine/', () => {
    expect(quarantineKey('proofs/o/l/p')).toBe('quarantine/proofs/o/l/p');
    expect(parseProofObjectKey(quarantineKey('proofs/o/l/p'))).toBeUndefined();
  });

  it('decodes S3 event keys: + is a space, %XX the rest', () => {
    expect(decodeS3EventKey('proofs/o/l/my+file')).toBe('proofs/o/l/my file');
    expect(decodeS3EventKey('proofs/o/l/a%2Bb')).toBe('proofs/o/l/a+b');
    expect(decodeS3EventKey('proofs/%E9%AA%8C')).toBe('proofs/验');
    expect(decodeS3EventKey('proofs/%E0%A4%A')).toBeUndefined();
    // Our keys hold %-escapes, which the event escapes again.
    const key = proofObjectKey('o 1', 'l+1', 'p');
    const inEvent = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
    expect(inEvent).toBe('proofs/o%25201/l%252B1/p');
    expect(decodeS3EventKey(inEvent)).toBe(key);
    expect(parseProofObjectKey(decodeS3EventKey(inEvent) ?? '')).toEqual({ orderId: 'o 1', orderLineId: 'l+1', proofId: 'p' });
  });
});

describe('checkReceivedObject', () => {
  const declared = { size: 100, contentType: 'application/pdf', sha256Hex: HEX };
  const received = {
    size: 100,
    sha256Hex: HEX.toUpperCase(),
    sniffed: 'application/pdf',
    receivedAt: '2026-01-01T00:10:00Z',
    uploadExpiresAt: '2026-01-01T00:15:00Z',
  };

  it('accepts the declared object', () => {
    expect(checkReceivedObject(declared, received)).toEqual({ ok: true });
    expect(checkReceivedObject(declared, { ...received, receivedAt: received.uploadExpiresAt })).toEqual({ ok: true });
  });

  it('names each mismatch', () => {
    expect(checkReceivedObject(declared, { ...received, receivedAt: '2026-01-01T00:15:01Z' })).toMatchObject({
      ok: false,
      reason: 'UPLOAD_EXPIRED',
    });
    expect(checkReceivedObject(declared, { ...received, receivedAt: 'soon' })).toMatchObject({ ok: false, reason: 'UPLOAD_EXPIRED' });
    expect(checkReceivedObject(declared, { ...received, size: 101 })).toMatchObject({
      ok: false,
      reason: 'SIZE_MISMATCH',
      message: 'received 101 bytes, 100 were declared',
    });
    expect(checkReceivedObject(declared, { ...received, sha256Hex: '0'.repeat(64) })).toMatchObject({
      ok: false,
      reason: 'CHECKSUM_MISMATCH',
    });
    expect(checkReceivedObject(declared, { ...received, sniffed: 'image/png' })).toMatchObject({ ok: false, reason: 'TYPE_MISMATCH' });
    expect(checkReceivedObject(declared, { ...received, sniffed: undefined })).toMatchObject({
      ok: false,
      reason: 'TYPE_MISMATCH',
      message: 'declared application/pdf, the content is no accepted format',
    });
    expect(checkReceivedObject({ ...declared, contentType: 'text/html' }, { ...received, sniffed: undefined })).toMatchObject({
      ok: false,
      reason: 'TYPE_NOT_ALLOWED',
    });
  });

  it('checks in its documented order: type allowed, expiry, size, checksum, content', () => {
    const everythingWrong = {
      size: 1,
      sha256Hex: '0'.repeat(64),
      sniffed: undefined,
      receivedAt: '2026-01-02T00:00:00Z',
      uploadExpiresAt: '2026-01-01T00:00:00Z',
    };
    expect(checkReceivedObject({ ...declared, contentType: 'text/plain' }, everythingWrong)).toMatchObject({ reason: 'TYPE_NOT_ALLOWED' });
    expect(checkReceivedObject(declared, everythingWrong)).toMatchObject({ reason: 'UPLOAD_EXPIRED' });
    expect(checkReceivedObject(declared, { ...everythingWrong, receivedAt: '2025-12-31T00:00:00Z' })).toMatchObject({
      reason: 'SIZE_MISMATCH',
    });
    expect(checkReceivedObject(declared, { ...everythingWrong, receivedAt: '2025-12-31T00:00:00Z', size: 100 })).toMatchObject({
      reason: 'CHECKSUM_MISMATCH',
    });
    expect(
      checkReceivedObject(declared, { ...everythingWrong, receivedAt: '2025-12-31T00:00:00Z', size: 100, sha256Hex: HEX }),
    ).toMatchObject({ reason: 'TYPE_MISMATCH' });
  });

  it('a declared ZIP may be an Office file, not the reverse', () => {
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    expect(checkReceivedObject({ ...declared, contentType: 'application/zip' }, { ...received, sniffed: docx })).toEqual({ ok: true });
    expect(checkReceivedObject({ ...declared, contentType: docx }, { ...received, sniffed: 'application/zip' })).toMatchObject({
      reason: 'TYPE_MISMATCH',
    });
    expect(checkReceivedObject({ ...declared, contentType: docx }, { ...received, sniffed: docx })).toEqual({ ok: true });
  });
});

describe('requiredKindsPresent', () => {
  it('needs every required kind among the round’s verified proofs', () => {
    const verified = [
      { kind: 'requirement', round: 1 },
      { kind: 'acceptance', round: 2 },
      { kind: 'deployment', round: 2 },
    ] as const;
    expect(requiredKindsPresent(['acceptance', 'deployment'], verified, 2)).toBe(true);
    expect(requiredKindsPresent(['requirement', 'acceptance'], verified, 2)).toBe(false); // requirement was round 1
    expect(requiredKindsPresent(['requirement'], verified, 1)).toBe(true);
    expect(requiredKindsPresent(['acceptance'], verified, 3)).toBe(false);
  });

  it('with nothing required, any verified proof of the round will do, but one is needed', () => {
    expect(requiredKindsPresent([], [{ kind: 'other', round: 1 }], 1)).toBe(true);
    expect(requiredKindsPresent([], [], 1)).toBe(false);
    expect(requiredKindsPresent([], [{ kind: 'other', round: 1 }], 2)).toBe(false);
  });
});
