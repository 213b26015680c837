import { Refusal } from '#lib/shared/refusal.ts';
import * as notices from '#lib/notifications/events.ts';
import type { Notify } from '#lib/notifications/notifier.ts';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import type { Log } from '#lib/log.ts';
import { iso } from '#lib/shared/time.ts';
import { downloadUrl, proofUploadForm } from '#lib/supervision/presign.ts';
import { BillFormatError, type BillColumns } from './billColumns.ts';
import { billRows, parseCsvRecords, reconcile, type ReconcileReport } from './billComparison.ts';
import { checkPeriod, NothingToCloseError } from './errors.ts';
import type { StatementFiles } from './files.ts';
import type { Period, StatementLine } from './model.ts';
import type { ReconciliationRecord, ReconciliationStore, SettlementDeps, StatementStore } from './ports.ts';
import { parseLineRecord } from './render.ts';

/**
 * Reconciliation of a month's statement against the marketplace's bill export (docs/settlement.md):
 *  1. the seller asks for an upload form and uploads the export (CSV, at most BILL_MAX_BYTES) to
 *     `bills/<period>/<uploadId>.csv` with it — the key is the server's, like a proof's;
 *  2. asking for the report compares the export line by line with the statement's latest version and keeps the
 *     full report as `statements/<period>/reconciliation/<uploadId>-v<n>.json`; the answer carries its totals, the
 *     rows that need a look (first REPORT_ROWS) and a short-lived link to the whole report.
 * The export is held in memory (it is at most BILL_MAX_BYTES); our lines are read from the version's lines file.
 */

export const BILL_MAX_BYTES = 20 * 1024 * 1024;
export const BILL_UPLOAD_SECONDS = 15 * 60;
export const REPORT_URL_SECONDS = 5 * 60;
/** Rows shown in the answer; the full report is behind its link. */
export const REPORT_ROWS = 500;

/** A refusal the seller API answers with 404, 409 or 422. */
export class ReconciliationError extends Refusal {
  override name = 'ReconciliationError';
  constructor(code: 'not_found' | 'conflict' | 'unprocessable', message: string) {
    super(code, message);
  }
}

export interface ReconciliationDeps {
  statements: Pick<StatementStore, 'getHeader' | 'getVersion'>;
  records: ReconciliationStore;
  files: StatementFiles;
  s3: S3Client;
  presigner: S3Client;
  columns: BillColumns;
  now: () => number;
  log: Log;
  /** Tells the seller's people of differences with the bill (lib/notifications); nobody when absent. */
  notify?: Notify | undefined;
}

export interface BillUploadAnswer {
  uploadId: string;
  key: string;
  upload: { url: string; fields: Record<string, string>; expiresAt: string };
}

export interface ReconciliationAnswer {
  period: Period;
  version: number;
  billKey: string;
  billRows: number;
  /** Bill rows that could not be read (bad amount, missing id): listed, not guessed. */
  billProblems: { row: number; message: string }[];
  compare: ReconcileReport['compare'];
  totals: ReconcileReport['totals'];
  /** Rows other than MATCHED first, then matched ones, at most REPORT_ROWS. */
  rows: ReconcileReport['rows'];
  rowsTotal: number;
  reportKey: string;
  reportUrl: string;
}

async function latestVersion(deps: ReconciliationDeps, period: Period) {
  const header = await deps.statements.getHeader(period);
  if (!header || header.latestVersion === 0) throw new NothingToCloseError(period);
  const version = await deps.statements.getVersion(period, header.latestVersion);
  if (!version) throw new Error(`statement ${period} v${header.latestVersion} has no version record`);
  return version;
}

/** An upload form for the month's bill export; the month needs a statement to compare it with. */
export async function requestBillUpload(
  deps: ReconciliationDeps,
  period: Period,
  body: { size: number; sha256Base64: string },
): Promise<BillUploadAnswer> {
  checkPeriod(period);
  await latestVersion(deps, period);
  const uploadId = randomUUID();
  const key = `bills/${period}/${uploadId}.csv`;
  const upload = await proofUploadForm(deps.presigner, {
    bucket: deps.files.bucket,
    key,
    contentType: 'text/csv',
    sha256Base64: body.sha256Base64,
    maxBytes: body.size,
    expiresSeconds: BILL_UPLOAD_SECONDS,
  });
  const at = iso(deps.now());
  await deps.records.put({ period, uploadId, billKey: key, requestedAt: at });
  deps.log.info('bill upload requested', { period, uploadId, size: body.size });
  return { uploadId, key, upload };
}

async function readBill(deps: ReconciliationDeps, key: string): Promise<string | undefined> {
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.files.bucket, Key: key }));
    if ((out.ContentLength ?? 0) > BILL_MAX_BYTES)
      throw new ReconciliationError('unprocessable', `the bill export is larger than ${BILL_MAX_BYTES} bytes`);
    return (await out.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((error as Error).name === 'NoSuchKey' || status === 404) return undefined;
    throw error;
  }
}

async function ourLines(files: StatementFiles, key: string): Promise<StatementLine[]> {
  const lines: StatementLine[] = [];
  for await (const batch of files.lines(key)) for (const text of batch) lines.push(parseLineRecord(text));
  return lines;
}

const byAttention = (a: { status: string; key: string }, b: { status: string; key: string }) =>
  Number(a.status === 'MATCHED') - Number(b.status === 'MATCHED') || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The report of the latest uploaded bill against the latest statement version. */
export async function reconciliationReport(deps: ReconciliationDeps, period: Period): Promise<ReconciliationAnswer> {
  checkPeriod(period);
  const record: ReconciliationRecord | undefined = await deps.records.get(period);
  if (!record)
    throw new ReconciliationError('not_found', `no bill export was uploaded for ${period}: POST …/reconciliation for an upload form`);
  const version = await latestVersion(deps, period);
  const text = await readBill(deps, record.billKey);
  if (text === undefined)
    throw new ReconciliationError('conflict', `the bill export for ${period} (upload ${record.uploadId}) has not arrived yet`);
  let bill: ReturnType<typeof billRows>;
  try {
    bill = billRows(parseCsvRecords(text), deps.columns);
  } catch (error) {
    if (error instanceof BillFormatError) throw new ReconciliationError('unprocessable', error.message);
    throw error;
  }
  const report = reconcile(await ourLines(deps.files, version.linesKey), bill.rows);
  const reportKey = `statements/${period}/reconciliation/${record.uploadId}-v${version.version}.json`;
  const writer = deps.files.writer(reportKey, 'application/json');
  await writer.write(JSON.stringify({ period, version: version.version, billKey: record.billKey, billProblems: bill.problems, ...report }));
  await writer.close();
  const at = iso(deps.now());
  await deps.records.put({ ...record, reportKey, reportVersion: version.version, reportedAt: at, totals: report.totals });
  const differences = notices.reconciliationDifferences({
    month: period,
    version: version.version,
    uploadId: record.uploadId,
    amountDiffers: report.totals.amountDiffers,
    onlyOurs: report.totals.onlyOurs,
    onlyTheirs: report.totals.onlyTheirs,
    at,
  });
  if (differences) await deps.notify?.(differences);
  deps.log.info('bill reconciled', {
    period,
    version: version.version,
    ...report.totals,
    currencies: Object.keys(report.totals.currencies),
  });
  return {
    period,
    version: version.version,
    billKey: record.billKey,
    billRows: bill.rows.length,
    billProblems: bill.problems.slice(0, REPORT_ROWS),
    compare: report.compare,
    totals: report.totals,
    rows: [...report.rows].sort(byAttention).slice(0, REPORT_ROWS),
    rowsTotal: report.rows.length,
    reportKey,
    reportUrl: await downloadUrl(deps.presigner, { bucket: deps.files.bucket, key: reportKey, expiresSeconds: REPORT_URL_SECONDS }),
  };
}

/** Reconciliation's collaborators beside a settlement's (same store, files and clock). */
export function reconciliationDeps(
  settlement: Pick<SettlementDeps, 'statements' | 'files' | 'now' | 'log' | 'notify'>,
  options: { records: ReconciliationStore; s3: S3Client; presigner: S3Client; columns: BillColumns },
): ReconciliationDeps {
  return {
    statements: settlement.statements,
    files: settlement.files,
    now: settlement.now,
    log: settlement.log,
    notify: settlement.notify,
    ...options,
  };
}
