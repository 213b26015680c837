import type { UsagePushOutcome, UsagePushRecord } from '#lib/koogallery/openApi/contract.ts';

/**
 * The marketplace's usage API (spec §8.2) as the usage push sees it: it holds each record once by its metering_sn,
 * answers a batch it already holds entirely as a duplicate (MKT.9005), and can be told to refuse the next requests.
 */
export function fakeUsageApi() {
  const held = new Map<string, UsagePushRecord>();
  const requests: UsagePushRecord[][] = [];
  const refusals: Extract<UsagePushOutcome, { ok: false }>[] = [];
  const pushUsage = async (records: UsagePushRecord[]): Promise<UsagePushOutcome> => {
    requests.push(structuredClone(records));
    const refusal = refusals.shift();
    if (refusal) return refusal;
    const fresh = records.filter((r) => !held.has(r.metering_sn));
    for (const r of fresh) held.set(r.metering_sn, r);
    return fresh.length === 0
      ? { ok: true, code: 'MKT.9005', duplicate: true, via: 'primary' }
      : { ok: true, code: 'MKT.0000', duplicate: false, via: 'primary' };
  };
  return {
    pushUsage,
    /** Every request's records, in order. */
    requests,
    /** The records the marketplace holds, in the order it took them. */
    held: () => [...held.values()],
    /** The marketplace already has this record (e.g. from an earlier deployment's push). */
    hold(record: UsagePushRecord) {
      held.set(record.metering_sn, record);
    },
    /** The next request(s) are refused with this outcome. */
    refuseNext(refusal: Omit<Extract<UsagePushOutcome, { ok: false }>, 'ok'>, times = 1) {
      for (let i = 0; i < times; i++) refusals.push({ ok: false, ...refusal });
    },
  };
}
