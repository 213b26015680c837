/**
 * In-memory fakes of the ports the domains declare (lib/instances/ports.ts, lib/licenses/ports.ts,
 * lib/outbox/ports.ts, lib/usage/ports.ts, lib/provisioning/ports.ts), so the produce call, the provisioning worker,
 * usage ingest and the usage push run in unit tests without DynamoDB Local or a queue. The stores share one memory
 * table: a transaction planned across them commits all or nothing. The DynamoDB adapters are proven against the
 * emulator by the integration tests.
 */
import { fakeInstanceStore } from './instanceStore.ts';
import { fakeLicenseStore } from './licenseStore.ts';
import { memoryTable } from './memoryTable.ts';
import { fakeOutboxStore } from './outboxStore.ts';
import { fakePublisher } from './publisher.ts';
import { fakeUsageLedger } from './usageLedger.ts';

export { auditRecords, fakeAuditLog } from './auditLog.ts';
export { fakeInstanceStore, type FakeInstanceStore } from './instanceStore.ts';
export { fakeLicenseStore } from './licenseStore.ts';
export { InjectedFault, memoryTable, touches, type Fault, type MemoryTable } from './memoryTable.ts';
export { fakeOutboxStore, type FakeOutboxStore } from './outboxStore.ts';
export { fakeOrderBilling, fakeOrderQuery, fakeProduct, type BillingRow } from './provisioning.ts';
export { fakePublisher, type FakePublisher } from './publisher.ts';
export { recordingLog } from './log.ts';
export { fakeUsageApi } from './usageApi.ts';
export { fakeUsageLedger } from './usageLedger.ts';

/** Every store over one memory table, and the provisioning queue. */
export function fakeStores() {
  const table = memoryTable();
  return {
    table,
    store: fakeInstanceStore(table),
    licenses: fakeLicenseStore(table),
    outbox: fakeOutboxStore(table),
    ledger: fakeUsageLedger(table),
    publisher: fakePublisher(),
  };
}
