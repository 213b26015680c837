import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptV1Field,
  deriveV1FieldKey,
  encryptTypeBits,
  encryptV1Field,
  isEncryptType,
  javaSha1PrngBytes,
  randomV1Iv,
  type EncryptType,
} from '#lib/koogallery/fieldCrypto.ts';
import { TEST_KEY } from '../helpers/signing.ts';

const IV = 'AbCdEf0123456789';
const PLAIN = 'Huawei@123';
const sha1 = (b: Buffer): Buffer => createHash('sha1').update(b).digest();

describe('javaSha1PrngBytes', () => {
  it('reproduces the spec §7.6 derived keys', () => {
    const seed = Buffer.from(TEST_KEY, 'utf8');
    expect(javaSha1PrngBytes(seed, 16).toString('hex')).toBe('d541c57628630b2c5fd2ed8e8e9c7d26');
    expect(javaSha1PrngBytes(seed, 32).toString('hex')).toBe('d541c57628630b2c5fd2ed8e8e9c7d266099d6cb05239a534c200ce5f3b32f9a');
  });

  it('starts with SHA1(SHA1(seed)) and is a prefix-stable stream', () => {
    const seed = Buffer.from('another seed', 'utf8');
    expect(javaSha1PrngBytes(seed, 20)).toEqual(sha1(sha1(seed)));
    const long = javaSha1PrngBytes(seed, 64);
    expect(long.subarray(0, 32)).toEqual(javaSha1PrngBytes(seed, 32));
    expect(javaSha1PrngBytes(seed, 0)).toHaveLength(0);
  });

  it('refuses a negative or fractional length', () => {
    expect(() => javaSha1PrngBytes(Buffer.alloc(1), -1)).toThrow(RangeError);
    expect(() => javaSha1PrngBytes(Buffer.alloc(1), 1.5)).toThrow(RangeError);
  });
});

describe('encryptType', () => {
  it('maps "1" to AES-256 and "2" to AES-128', () => {
    expect(encryptTypeBits('1')).toBe(256);
    expect(encryptTypeBits('2')).toBe(128);
    expect(() => encryptTypeBits('3' as EncryptType)).toThrow(RangeError);
  });

  it('narrows untrusted values', () => {
    expect(isEncryptType('1')).toBe(true);
    expect(isEncryptType('2')).toBe(true);
    expect(isEncryptType(1)).toBe(false);
    expect(isEncryptType('')).toBe(false);
  });
});

describe('encryptV1Field / decryptV1Field', () => {
  it('reproduces the spec §7.6 encrypted values', () => {
    expect(encryptV1Field(TEST_KEY, PLAIN, '2', IV)).toBe('AbCdEf0123456789Hp/bCFSsFPBoi6suIrx8jw==');
    expect(encryptV1Field(TEST_KEY, PLAIN, '1', IV)).toBe('AbCdEf0123456789Zv+F9WBfgSpBp9KaenXJYA==');
  });

  it('decrypts the spec §7.6 values', () => {
    expect(decryptV1Field(TEST_KEY, 'AbCdEf0123456789Hp/bCFSsFPBoi6suIrx8jw==', '2')).toBe(PLAIN);
    expect(decryptV1Field(TEST_KEY, 'AbCdEf0123456789Zv+F9WBfgSpBp9KaenXJYA==', '1')).toBe(PLAIN);
  });

  it('round-trips with a fresh random iv each time', () => {
    for (const type of ['1', '2'] as const) {
      const a = encryptV1Field(TEST_KEY, PLAIN, type);
      const b = encryptV1Field(TEST_KEY, PLAIN, type);
      expect(a.slice(0, 16)).toMatch(/^[A-Za-z0-9]{16}$/);
      expect(a).not.toBe(b);
      expect(decryptV1Field(TEST_KEY, a, type)).toBe(PLAIN);
      expect(decryptV1Field(TEST_KEY, b, type)).toBe(PLAIN);
    }
  });

  it('round-trips non-ASCII, empty and block-sized plaintexts', () => {
    for (const plain of ['管理员 密码 ✓ 🚀', '', '0123456789abcdef', 'x'.repeat(1000)]) {
      for (const type of ['1', '2'] as const) {
        expect(decryptV1Field(TEST_KEY, encryptV1Field(TEST_KEY, plain, type), type)).toBe(plain);
      }
    }
  });

  it('generates ivs from [A-Za-z0-9]', () => {
    for (let i = 0; i < 50; i++) expect(randomV1Iv()).toMatch(/^[A-Za-z0-9]{16}$/);
  });

  it('refuses an iv that is not 16 characters from [A-Za-z0-9]', () => {
    for (const iv of ['', 'short', 'AbCdEf01234567890', 'AbCdEf012345678+', 'AbCdEf012345678é', 'AbCdEf01234567 9']) {
      expect(() => encryptV1Field(TEST_KEY, PLAIN, '1', iv)).toThrow(RangeError);
    }
  });

  it('returns undefined for the wrong key or the wrong key size', () => {
    expect(decryptV1Field('other-key', 'AbCdEf0123456789Zv+F9WBfgSpBp9KaenXJYA==', '1')).toBeUndefined();
    expect(decryptV1Field(TEST_KEY, 'AbCdEf0123456789Zv+F9WBfgSpBp9KaenXJYA==', '2')).toBeUndefined();
    expect(decryptV1Field(TEST_KEY, 'AbCdEf0123456789Hp/bCFSsFPBoi6suIrx8jw==', '1')).toBeUndefined();
  });

  it('returns undefined for malformed values instead of throwing', () => {
    const bad = [
      '',
      'AbCdEf0123456789',
      'AbCdEf01234',
      'AbCdEf0123456789!!!!not base64!!!',
      'AbCdEf0123456789Zv+F9WBfgSpBp9KaenXJYA',
      'AbCdEf0123456789Zv+F9WBfgSpBp9KaenXJYA=',
      'AbCdEf0123456789AAAA',
      'AbCdEf0123456789' + Buffer.alloc(17).toString('base64'),
      'éééééééééééééééé' + 'Zv+F9WBfgSpBp9KaenXJYA==',
    ];
    for (const value of bad) expect(decryptV1Field(TEST_KEY, value, '1')).toBeUndefined();
    expect(decryptV1Field(TEST_KEY, 'AbCdEf0123456789Zv+F9WBfgSpBp9KaenXJYA==', '3' as EncryptType)).toBeUndefined();
  });

  it('keeps deriving correct keys when more keys are used than the cache holds', () => {
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    for (const key of keys) {
      expect(deriveV1FieldKey(key, 256)).toEqual(javaSha1PrngBytes(Buffer.from(key, 'utf8'), 32));
    }
    expect(deriveV1FieldKey(TEST_KEY, 128).toString('hex')).toBe('d541c57628630b2c5fd2ed8e8e9c7d26');
  });
});
