import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { UsagePushRecord } from '#lib/koogallery/openApi/contract.ts';
import { usageBody, usageSignature, verifyUsageSignature } from '#lib/koogallery/usageSignature.ts';
import { SPEC_USAGE_RECORD } from '../helpers/usageExample.ts';

// Spec §7.7 test vector (made-up key, not Huawei's).
const KEY = 'testAccessKey-0123456789';
const TS = '1660036200000';
const NONCE = '8d4f1a2b3c';
const BODY =
  '{"usage_records":[{"begin_time":"20220809T080000Z","end_time":"20220809T090000Z","instance_id":"7f141bf1-aec8-4859-8323-fb3a8ad50721","metering_sn":"a1b2c3d4","record_time":"20220809T091000Z","usage_value":"99"}]}';
const SIGNATURE = 'vB73XAxY31yXnVc/qNZsZH7KpxlCzH//1IPu8NwM6Ig=';

const RECORD = SPEC_USAGE_RECORD;

/** The same fields in every rotation of their order. */
function rotations(record: UsagePushRecord): UsagePushRecord[] {
  const entries = Object.entries(record);
  return entries.map((_, i) => Object.fromEntries([...entries.slice(i), ...entries.slice(0, i)]) as unknown as UsagePushRecord);
}

describe('usage push business signature (spec §7.7)', () => {
  it('matches the test vector', () => {
    expect(usageSignature(KEY, TS, NONCE, BODY)).toBe(SIGNATURE);
    expect(usageSignature(KEY, TS, NONCE, Buffer.from(BODY, 'utf8'))).toBe(SIGNATURE);
    const direct = createHmac('sha256', KEY).update(`ts=${TS}&nonce=${NONCE}&body=${BODY}`).digest('base64');
    expect(direct).toBe(SIGNATURE);
  });

  it('usageBody gives the vector body whatever the key order', () => {
    for (const record of rotations(RECORD)) expect(usageBody([record])).toBe(BODY);
    expect(usageSignature(KEY, TS, NONCE, usageBody([RECORD]))).toBe(SIGNATURE);
  });

  it('usageBody keeps the record order, omits absent fields and sorts relate_pkg_instance in', () => {
    expect(usageBody([{ ...RECORD, relate_pkg_instance: undefined }])).toBe(BODY);
    const second: UsagePushRecord = { ...RECORD, metering_sn: 'z9', relate_pkg_instance: 'pkg-1' };
    const body = usageBody([second, RECORD]);
    const parsed = JSON.parse(body) as { usage_records: Record<string, string>[] };
    expect(parsed.usage_records.map((r) => r.metering_sn)).toEqual(['z9', 'a1b2c3d4']);
    expect(Object.keys(parsed.usage_records[0]!)).toEqual([
      'begin_time',
      'end_time',
      'instance_id',
      'metering_sn',
      'record_time',
      'relate_pkg_instance',
      'usage_value',
    ]);
    expect(body).not.toMatch(/\s/);
  });

  it('verifies in constant time and refuses any change', () => {
    expect(verifyUsageSignature(KEY, TS, NONCE, BODY, SIGNATURE)).toBe(true);
    expect(verifyUsageSignature(KEY, TS, NONCE, Buffer.from(BODY), SIGNATURE)).toBe(true);
    expect(verifyUsageSignature('otherKey', TS, NONCE, BODY, SIGNATURE)).toBe(false);
    expect(verifyUsageSignature(KEY, '1660036200001', NONCE, BODY, SIGNATURE)).toBe(false);
    expect(verifyUsageSignature(KEY, TS, '8d4f1a2b3d', BODY, SIGNATURE)).toBe(false);
    expect(verifyUsageSignature(KEY, TS, NONCE, BODY.replace('"99"', '"98"'), SIGNATURE)).toBe(false);
    expect(verifyUsageSignature(KEY, TS, NONCE, BODY, SIGNATURE.slice(0, -1))).toBe(false);
    expect(verifyUsageSignature(KEY, TS, NONCE, BODY, '')).toBe(false);
  });

  it('signs non-ASCII bodies as their UTF-8 bytes', () => {
    const body = usageBody([{ ...RECORD, instance_id: '实例-1' }]);
    const expected = createHmac('sha256', KEY)
      .update(Buffer.from(`ts=${TS}&nonce=${NONCE}&body=${body}`, 'utf8'))
      .digest('base64');
    expect(usageSignature(KEY, TS, NONCE, body)).toBe(expected);
    expect(verifyUsageSignature(KEY, TS, NONCE, Buffer.from(body, 'utf8'), expected)).toBe(true);
  });
});
