import type { DynamoDb } from '#lib/aws/clients.ts';
import { supervisionSettings, type Config } from '#lib/config.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import { billingRecorder, type BillingRecorder } from './billingFacts.ts';

/** The recorder from the configuration: the provisioning worker's and the supervision flows' (one per container). */
export function billingRecorderFor(cfg: Config, dynamo: DynamoDb): BillingRecorder {
  const tables = { main: cfg.MAIN_TABLE };
  return billingRecorder({
    billing: billingStore(dynamo, tables),
    supervision: supervisionStore(dynamo, tables),
    supervisionSettings: supervisionSettings(cfg),
    timeZone: cfg.SETTLEMENT_TIME_ZONE,
    currency: cfg.SETTLEMENT_CURRENCY,
  });
}
