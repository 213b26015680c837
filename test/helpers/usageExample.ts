import type { UsagePushRecord } from '#lib/koogallery/openApi/contract.ts';

/** The usage record of the spec's §7.7 example (its signature test vector signs exactly this record, pushed in 2022). */
export const SPEC_USAGE_RECORD: UsagePushRecord = {
  instance_id: '7f141bf1-aec8-4859-8323-fb3a8ad50721',
  record_time: '20220809T091000Z',
  begin_time: '20220809T080000Z',
  end_time: '20220809T090000Z',
  usage_value: '99',
  metering_sn: 'a1b2c3d4',
};
