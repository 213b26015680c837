/**
 * The audit table's message-log records in the memory table: planned inside a transaction (the produce call) or
 * appended on their own (the usage push). Like every audit write they only ever create.
 */
import type { AuditRecord } from '#lib/audit/records.ts';
import { mustBeNew, put, type MemoryTable, type MemoryWrite } from './memoryTable.ts';

const AUDIT = 'audit';

/** The record as a write that fails (label `audit`) if a record with its time and correlation id exists. */
export const auditWrite = (record: AuditRecord): MemoryWrite => put('audit', [AUDIT, record.at, record.correlationId], record, mustBeNew);

/** Appends one record outside a transaction (lib/store/auditLog.ts's contract): throws if it exists already. */
export function fakeAuditLog(table: MemoryTable): (record: AuditRecord) => Promise<void> {
  return async (record) => {
    const result = await table.commit([auditWrite(record)]);
    if (!result.ok) throw new Error(`ConditionalCheckFailed: audit record ${record.at} ${record.correlationId} exists`);
  };
}

/** Every message-log record, oldest first. */
export const auditRecords = (table: MemoryTable): AuditRecord[] => table.list<AuditRecord>(AUDIT).map((row) => row.value);
