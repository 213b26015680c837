import { describe, expect, it } from 'vitest';
import { asyncProvisioning, ConfigError, parseConfig } from '#lib/config.ts';

const minimal = {
  MAIN_TABLE: 'main',
  AUDIT_TABLE: 'audit',
  PROVISIONING_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/q',
  KOOGALLERY_ACCESS_KEY: 'k',
  KOOGALLERY_AK: 'ak',
  KOOGALLERY_SK: 'sk',
};

describe('parseConfig', () => {
  it('applies documented defaults', () => {
    const cfg = parseConfig(minimal);
    expect(cfg).toMatchObject({
      SIGNATURE_WINDOW_SECONDS: 60,
      NONCE_TTL_SECONDS: 300,
      BODY_SIGN: true,
      TEST_INSTANCE_TTL_DAYS: 7,
      MAX_BODY_BYTES: 65536,
      CHANGE_CHECK_POLICY: 'allow',
    });
  });

  it('names the missing setting', () => {
    expect(() => parseConfig({ ...minimal, MAIN_TABLE: undefined })).toThrow(/MAIN_TABLE/);
    expect(() => parseConfig({ ...minimal, KOOGALLERY_ACCESS_KEY: '' })).toThrow(
      /KOOGALLERY_ACCESS_KEY_PARAMETER .* or KOOGALLERY_ACCESS_KEY/,
    );
  });

  it('names a malformed setting', () => {
    expect(() => parseConfig({ ...minimal, NONCE_TTL_SECONDS: 'soon' })).toThrow(ConfigError);
    expect(() => parseConfig({ ...minimal, NONCE_TTL_SECONDS: 'soon' })).toThrow(/NONCE_TTL_SECONDS/);
    expect(() => parseConfig({ ...minimal, BODY_SIGN: 'maybe' })).toThrow(/BODY_SIGN/);
  });

  it('reads flags', () => {
    expect(parseConfig({ ...minimal, BODY_SIGN: 'false' }).BODY_SIGN).toBe(false);
    expect(parseConfig({ ...minimal, BODY_SIGN: '' }).BODY_SIGN).toBe(true);
  });

  it('keeps the webhook off restricted addresses unless WEBHOOK_ALLOW_PRIVATE_HOSTS says otherwise', () => {
    expect(parseConfig(minimal).WEBHOOK_ALLOW_PRIVATE_HOSTS).toBe(false);
    expect(parseConfig({ ...minimal, WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true' }).WEBHOOK_ALLOW_PRIVATE_HOSTS).toBe(true);
    expect(() => parseConfig({ ...minimal, WEBHOOK_ALLOW_PRIVATE_HOSTS: 'sometimes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_HOSTS/);
  });

  it('accepts an SSM parameter name instead of a plain key', () => {
    const { KOOGALLERY_ACCESS_KEY: _k, ...rest } = minimal;
    expect(parseConfig({ ...rest, KOOGALLERY_ACCESS_KEY_PARAMETER: '/x/access-key' }).KOOGALLERY_ACCESS_KEY_PARAMETER).toBe(
      '/x/access-key',
    );
  });

  it('requires the AK/SK while Query Order is on, and the webhook settings in webhook mode', () => {
    const { KOOGALLERY_AK: _a, KOOGALLERY_SK: _s, ...noAkSk } = minimal;
    expect(() => parseConfig(noAkSk)).toThrow(/ORDER_QUERY is on: KOOGALLERY_AK_PARAMETER/);
    expect(parseConfig({ ...noAkSk, ORDER_QUERY: 'false' }).ORDER_QUERY).toBe(false);
    expect(parseConfig({ ...noAkSk, KOOGALLERY_AK_PARAMETER: '/x/ak', KOOGALLERY_SK_PARAMETER: '/x/sk' }).ORDER_QUERY).toBe(true);
    expect(() => parseConfig({ ...minimal, PROVISIONING_MODE: 'webhook' })).toThrow(/PROVISIONING_MODE is webhook: WEBHOOK_URL/);
    expect(() => parseConfig({ ...minimal, PROVISIONING_MODE: 'webhook', WEBHOOK_URL: 'https://h.example/x' })).toThrow(/WEBHOOK_SECRET/);
    expect(
      parseConfig({ ...minimal, PROVISIONING_MODE: 'webhook', WEBHOOK_URL: 'https://h.example/x', WEBHOOK_SECRET: 's' }).PROVISIONING_MODE,
    ).toBe('webhook');
    expect(() => parseConfig({ ...minimal, PROVISIONING_MODE: 'email' })).toThrow(/PROVISIONING_MODE/);
  });

  it('says when provisioning is asynchronous', () => {
    expect(asyncProvisioning(parseConfig(minimal))).toBe(true);
    expect(asyncProvisioning(parseConfig({ ...minimal, ORDER_QUERY: 'false' }))).toBe(false);
    expect(
      asyncProvisioning(
        parseConfig({
          ...minimal,
          ORDER_QUERY: 'false',
          PROVISIONING_MODE: 'webhook',
          WEBHOOK_URL: 'https://h.example/x',
          WEBHOOK_SECRET: 's',
        }),
      ),
    ).toBe(true);
  });
});
