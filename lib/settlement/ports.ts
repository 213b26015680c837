import type { InstanceStore } from '../instances/ports.ts';
import type { Log } from '../log.ts';
import type { BillingStore } from '../store/billingStore.ts';
import type { StatementStore } from '../store/statementStore.ts';
import type { StatementFiles } from './files.ts';
import type { SettlementMessage } from './messages.ts';
import type { SettlementSettings } from './model.ts';

/** Where a run's messages go: the settlement queue (queue.ts sends them with SQS). */
export interface SettlementQueue {
  send(messages: readonly SettlementMessage[]): Promise<void>;
}

/** What the settlement flow works with (deps.ts builds them from the configuration). */
export interface SettlementDeps {
  statements: StatementStore;
  billing: Pick<BillingStore, 'readShard' | 'changedSince'>;
  instances: Pick<InstanceStore, 'getInstances'>;
  files: StatementFiles;
  queue: SettlementQueue;
  settings: SettlementSettings;
  now: () => number;
  log: Log;
  /** How long closing waits for the `bill` index before its second look (default INDEX_LAG_MS). */
  indexLagMs?: number;
}
