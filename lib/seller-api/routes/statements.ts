import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import {
  BILL_MAX_BYTES,
  BILL_UPLOAD_SECONDS,
  reconciliationReport,
  requestBillUpload,
  type ReconciliationDeps,
} from '#lib/settlement/reconciliation.ts';
import { FIRST_YEAR, isPeriod } from '#lib/settlement/period.ts';
import { closePeriod } from '#lib/settlement/close.ts';
import type { SettlementDeps } from '#lib/settlement/ports.ts';
import { startRun } from '#lib/settlement/start.ts';
import { statementView } from '#lib/settlement/view.ts';
import { iso } from '#lib/shared/time.ts';
import { downloadUrl } from '#lib/supervision/presign.ts';
import { sha256Forms } from '#lib/supervision/proofs.ts';
import { SellerApiError } from '../errors.ts';
import { keyActor, requireKey } from '../apiKeys.ts';
import { defineRoute, type AnyRoute } from '../defineRoute.ts';

/**
 * Monthly settlement statements in the seller API (docs/settlement.md): list and read them with short-lived
 * download links, start a run, close a month, and reconcile it against the marketplace's bill export.
 */

export interface StatementRouteDeps {
  statements: {
    settlement: SettlementDeps;
    reconciliation: ReconciliationDeps;
    /** Signs download links (no checksum parameters in URLs). */
    presigner: S3Client;
  };
}

/** Download links live this long. */
export const DOWNLOAD_SECONDS = 5 * 60;

const PeriodParams = z.strictObject({
  period: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
    .refine(isPeriod, `a month from ${FIRST_YEAR}-01`)
    .describe('YYYY-MM'),
});

const TotalsSchema = z
  .record(z.string(), z.object({ lines: z.number().int(), gross: z.string(), fee: z.string(), tax: z.string(), net: z.string() }))
  .describe('Per currency: sums of the rounded lines');

const HeaderSchema = z.object({
  period: z.string(),
  status: z.enum(['DRAFT', 'CLOSED']),
  latestVersion: z.number().int(),
  sha256: z.string().optional().describe("SHA-256 of the latest version's CSV"),
  lineCount: z.number().int(),
  totals: TotalsSchema,
  problems: z.number().int().describe('Lines withheld for a configuration problem (no fee share, no price, …)'),
  runStartedAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().optional(),
  activeRun: z.object({ runId: z.string(), startedAt: z.string() }).optional(),
  lastRun: z.object({ runId: z.string(), status: z.string(), finishedAt: z.string() }).optional(),
});

const FileLink = z.object({ key: z.string(), url: z.string(), expiresAt: z.string() });

const VersionSchema = z.object({
  version: z.number().int(),
  sha256Csv: z.string(),
  sha256Json: z.string(),
  lineCount: z.number().int(),
  totals: TotalsSchema,
  problems: z.number().int(),
  diff: z.object({ against: z.number().int(), added: z.number().int(), removed: z.number().int(), changed: z.number().int() }).optional(),
  runId: z.string(),
  runStartedAt: z.string(),
  createdAt: z.string(),
  files: z.object({ csv: FileLink, json: FileLink, diff: FileLink.optional() }),
});

export const listStatements = defineRoute({
  method: 'GET',
  path: '/seller/statements',
  summary: 'Monthly statements, newest month first: status (DRAFT or CLOSED), latest version, totals per currency',
  scope: 'statements:read',
  query: z.strictObject({
    limit: z.coerce.number().int().min(1).max(100).optional(),
    cursor: z.string().min(1).max(2048).optional().describe('nextCursor of the previous page'),
  }),
  response: z.object({ items: z.array(HeaderSchema), nextCursor: z.string().optional() }),
  errors: { 400: 'Malformed cursor' },
  async handle({ query }, deps: StatementRouteDeps) {
    const page = await deps.statements.settlement.statements.listHeaders(query);
    return { body: { items: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
  },
});

export const getStatement = defineRoute({
  method: 'GET',
  path: '/seller/statements/{period}',
  summary: `A month's statement: header, totals, every version with links (valid ${DOWNLOAD_SECONDS / 60} minutes) to its CSV, JSON and diff, and the run under way`,
  scope: 'statements:read',
  params: PeriodParams,
  response: z.object({
    header: HeaderSchema,
    versions: z.array(VersionSchema).describe('Newest first'),
    activeRun: z
      .object({ runId: z.string(), status: z.string(), segments: z.number().int(), segmentsDone: z.number().int(), startedAt: z.string() })
      .optional(),
  }),
  errors: { 404: 'The month was never run' },
  async handle({ params, now }, deps: StatementRouteDeps) {
    const view = await statementView(deps.statements.settlement, params.period);
    if (!view) throw new SellerApiError('not_found', `no statement for ${params.period}: POST /seller/statements/${params.period}/run`);
    const expiresAt = iso(now + DOWNLOAD_SECONDS * 1000);
    const link = async (key: string, fileName: string) => ({
      key,
      url: await downloadUrl(deps.statements.presigner, { bucket: view.bucket, key, expiresSeconds: DOWNLOAD_SECONDS, fileName }),
      expiresAt,
    });
    const versions = await Promise.all(
      view.versions.map(async (v) => {
        const name = `statement-${v.period}-v${v.version}`;
        const files = {
          csv: await link(v.csvKey, `${name}.csv`),
          json: await link(v.jsonKey, `${name}.json`),
          ...(v.diffKey ? { diff: await link(v.diffKey, `${name}-diff.jsonl`) } : {}),
        };
        const { period: _p, csvKey: _c, jsonKey: _j, linesKey: _l, diffKey: _d, csvBytes: _cb, jsonBytes: _jb, ...rest } = v;
        return { ...rest, files };
      }),
    );
    const run = view.activeRun;
    return {
      body: {
        header: view.header,
        versions,
        ...(run
          ? {
              activeRun: {
                runId: run.runId,
                status: run.status,
                segments: run.segments,
                segmentsDone: run.segmentsDone,
                startedAt: run.startedAt,
              },
            }
          : {}),
      },
    };
  },
});

export const runStatement = defineRoute({
  method: 'POST',
  path: '/seller/statements/{period}/run',
  summary:
    'Start the settlement run of a month (any month that has started and is not closed). The run fans out over a queue; ' +
    'GET the statement to follow it. Unchanged inputs give no new version; changed inputs give the next version and a diff',
  action: 'statements.run',
  scope: 'statements:write',
  params: PeriodParams,
  response: z.object({ runId: z.string(), period: z.string(), segments: z.number().int(), startedAt: z.string() }),
  successStatus: 202,
  errors: { 409: 'The month is closed, or a run of it is under way', 422: 'The month has not started yet' },
  async handle({ params, key }, deps: StatementRouteDeps) {
    return { body: await startRun(deps.statements.settlement, params.period, keyActor(requireKey(key))) };
  },
});

export const closeStatement = defineRoute({
  method: 'POST',
  path: '/seller/statements/{period}/close',
  summary:
    "Close a month's statement at its latest version: it is never rewritten again, and later changes belonging to it " +
    'become adjustment lines of the next open month. Refused while a run is under way or when inputs changed since the latest version',
  action: 'statements.close',
  scope: 'statements:write',
  params: PeriodParams,
  response: z.object({ header: HeaderSchema, alreadyClosed: z.boolean() }),
  errors: { 409: 'No statement yet, a run under way, the month not ended, or inputs changed since the latest version (run again)' },
  async handle({ params }, deps: StatementRouteDeps) {
    return { body: await closePeriod(deps.statements.settlement, params.period) };
  },
});

const BillUploadRequest = z.strictObject({
  size: z.number().int().min(1).max(BILL_MAX_BYTES).describe('Bytes of the CSV export'),
  sha256: z.string().describe('SHA-256 of the export, 64 hex or 44 base64 characters'),
});

export const requestReconciliation = defineRoute({
  method: 'POST',
  path: '/seller/statements/{period}/reconciliation',
  summary:
    `Upload the marketplace's bill export (CSV, Content-Type text/csv, at most ${BILL_MAX_BYTES / 1024 / 1024} MB) for reconciliation: ` +
    `answers a presigned POST form valid ${BILL_UPLOAD_SECONDS / 60} minutes. Column names: BILL_COLUMNS`,
  action: 'reconciliation.upload',
  scope: 'statements:write',
  params: PeriodParams,
  body: BillUploadRequest,
  response: z.object({
    uploadId: z.string(),
    key: z.string(),
    upload: z.object({ url: z.string(), fields: z.record(z.string(), z.string()), expiresAt: z.string() }),
  }),
  errors: { 409: 'The month has no statement yet', 422: 'Size or SHA-256 malformed' },
  async handle({ params, body }, deps: StatementRouteDeps) {
    const digest = sha256Forms(body.sha256);
    if (!digest) throw new SellerApiError('unprocessable', 'body.sha256: must be 64 hex characters or 44 base64 characters');
    return {
      body: await requestBillUpload(deps.statements.reconciliation, params.period, { size: body.size, sha256Base64: digest.base64 }),
    };
  },
});

const ReconcileRowSchema = z.object({
  status: z.enum(['MATCHED', 'AMOUNT_DIFFERS', 'ONLY_OURS', 'ONLY_THEIRS']),
  key: z.string().describe('ORDER:<orderLineId>, REFUND:<orderLineId> or USAGE:<instanceId>'),
  currency: z.string(),
  theirsCurrency: z.string().optional(),
  ours: z.string().optional(),
  theirs: z.string().optional(),
  billRows: z.array(z.number().int()).optional(),
});

export const getReconciliation = defineRoute({
  method: 'GET',
  path: '/seller/statements/{period}/reconciliation',
  summary:
    "The latest bill export compared line by line with the month's latest statement version: totals on top (matched, amount " +
    'differs, only in ours, only in theirs, sums per currency), the rows that need a look first, and a link to the whole report',
  scope: 'statements:read',
  params: PeriodParams,
  response: z.object({
    period: z.string(),
    version: z.number().int(),
    billKey: z.string(),
    billRows: z.number().int(),
    billProblems: z.array(z.object({ row: z.number().int(), message: z.string() })),
    compare: z.enum(['net', 'gross']),
    totals: z.object({
      matched: z.number().int(),
      amountDiffers: z.number().int(),
      onlyOurs: z.number().int(),
      onlyTheirs: z.number().int(),
      currencies: z.record(z.string(), z.object({ ours: z.string(), theirs: z.string(), difference: z.string() })),
    }),
    rows: z.array(ReconcileRowSchema),
    rowsTotal: z.number().int(),
    reportKey: z.string(),
    reportUrl: z.string(),
  }),
  errors: {
    404: 'No bill export uploaded for the month',
    409: 'No statement yet, or the export has not arrived',
    422: 'The export lacks the configured columns',
  },
  async handle({ params }, deps: StatementRouteDeps) {
    return { body: await reconciliationReport(deps.statements.reconciliation, params.period) };
  },
});

export const statementRoutes: readonly AnyRoute<StatementRouteDeps>[] = [
  listStatements,
  getStatement,
  runStatement,
  closeStatement,
  requestReconciliation,
  getReconciliation,
];
