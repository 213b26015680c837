import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import {
  RUN_STATUSES,
  type SegmentMarker,
  type SettlementRun,
  type StatementHeader,
  type StatementVersion,
} from '#lib/settlement/statementRecords.ts';

/**
 * The items of a month's statement partition (statementStore.ts) read back as settlement's records: checked, with
 * defaults for what an older header lacks, and without keys or index attributes.
 */

const totalsSchema = z.record(
  z.string(),
  z.object({ lines: z.number(), gross: z.string(), fee: z.string(), tax: z.string(), net: z.string() }),
);

const headerSchema = z.object({
  period: z.string(),
  status: z.enum(['DRAFT', 'CLOSED']).catch('DRAFT'),
  latestVersion: z.number().default(0),
  sha256: z.string().optional(),
  lineCount: z.number().default(0),
  totals: totalsSchema.default({}),
  problems: z.number().default(0),
  runStartedAt: z.string().optional(),
  createdAt: z.string().default(''),
  updatedAt: z.string().default(''),
  closedAt: z.string().optional(),
  activeRunId: z.string().optional(),
  activeRunStartedAt: z.string().optional(),
  lastRunId: z.string().optional(),
  lastRunStatus: z.enum(RUN_STATUSES).optional(),
  lastRunFinishedAt: z.string().optional(),
});

export function toHeader(item: Record<string, AttributeValue>): StatementHeader {
  const { activeRunId, activeRunStartedAt, lastRunId, lastRunStatus, lastRunFinishedAt, ...rest } = headerSchema.parse(unmarshall(item));
  return {
    ...rest,
    ...(activeRunId ? { activeRun: { runId: activeRunId, startedAt: activeRunStartedAt ?? '' } } : {}),
    ...(lastRunId && lastRunStatus ? { lastRun: { runId: lastRunId, status: lastRunStatus, finishedAt: lastRunFinishedAt ?? '' } } : {}),
  };
}

const versionSchema = z.object({
  period: z.string(),
  version: z.number(),
  csvKey: z.string(),
  jsonKey: z.string(),
  linesKey: z.string(),
  diffKey: z.string().optional(),
  sha256Csv: z.string(),
  sha256Json: z.string(),
  csvBytes: z.number(),
  jsonBytes: z.number(),
  lineCount: z.number(),
  totals: totalsSchema,
  problems: z.number(),
  diff: z.object({ against: z.number(), added: z.number(), removed: z.number(), changed: z.number() }).optional(),
  runId: z.string(),
  runStartedAt: z.string(),
  createdAt: z.string(),
});

const runSchema = z.object({
  runId: z.string(),
  period: z.string(),
  status: z.enum(RUN_STATUSES),
  segments: z.number(),
  segmentsDone: z.number(),
  trigger: z.union([
    z.enum(['schedule', 'seller']),
    z.object({ kind: z.literal('key'), keyId: z.string(), name: z.string() }),
    z.object({ kind: z.literal('operator'), principal: z.string() }),
    z.object({ kind: z.literal('anonymous'), keyId: z.string().optional() }),
  ]),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  version: z.number().optional(),
  error: z.string().optional(),
});

const markerSchema = z.object({
  segment: z.number(),
  linesKey: z.string(),
  problemsKey: z.string(),
  lines: z.number(),
  problems: z.number(),
});

/** Only our own fields, never keys or index attributes. */
const fieldsOf = <T extends z.ZodObject>(schema: T, item: Record<string, AttributeValue>): z.output<T> => schema.parse(unmarshall(item));

export const toVersion = (item: Record<string, AttributeValue>): StatementVersion => fieldsOf(versionSchema, item);
export const toRun = (item: Record<string, AttributeValue>): SettlementRun => fieldsOf(runSchema, item);
export const toMarker = (item: Record<string, AttributeValue>): SegmentMarker => fieldsOf(markerSchema, item);
