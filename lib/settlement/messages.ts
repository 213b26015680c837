import * as z from 'zod';
import { parseJsonMessage, type Parsed } from '#lib/shared/json.ts';
import { BILL_SHARDS } from './model.ts';
import { isPeriod } from './period.ts';

/**
 * The settlement queue's messages: one per segment of a run (a shard of one kind of input), then one to assemble
 * the statement once every segment has finished.
 */

const RUN_ID = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;
const periodField = z.string().refine(isPeriod, 'a period YYYY-MM');
const runIdField = z.string().regex(RUN_ID, 'a run id');

const segmentMessage = z.strictObject({
  type: z.literal('segment'),
  period: periodField,
  runId: runIdField,
  kind: z.enum(['LINE', 'USAGE']),
  shard: z
    .int()
    .min(0)
    .max(BILL_SHARDS - 1),
});
const assembleMessage = z.strictObject({ type: z.literal('assemble'), period: periodField, runId: runIdField });
const settlementMessage = z.discriminatedUnion('type', [segmentMessage, assembleMessage]);

export type SegmentMessage = z.infer<typeof segmentMessage>;
export type AssembleMessage = z.infer<typeof assembleMessage>;
export type SettlementMessage = z.infer<typeof settlementMessage>;

/** A settlement queue message body, checked; the issue says what is wrong with anything else. */
export const parseSettlementMessage = (body: string): Parsed<SettlementMessage> => parseJsonMessage(body, settlementMessage);

/** What handling one message did. */
export type MessageOutcome =
  | { outcome: 'segment'; segmentsDone: number; lines: number; problems: number }
  | { outcome: 'version'; version: number; lineCount: number }
  | { outcome: 'unchanged'; version: number }
  /** Nothing to do: a redelivered message, or a run that is no longer under way. */
  | { outcome: 'skipped'; reason: string };
