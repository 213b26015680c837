/**
 * `koogallery reconciliation`: a month's statement against the marketplace's bill export. Upload the export (the
 * seller API's presigned POST form, so S3 checks its size and SHA-256), then read the report: totals per currency,
 * counts, and the rows that need a look.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { BILL_MAX_BYTES, ReconciliationError } from '#lib/settlement/reconciliation.ts';
import { getReconciliation, requestReconciliation } from '#lib/seller-api/routes/statements.ts';
import type { Command } from './command.ts';
import { callRoute, CommandExit, operatorAction, UsageError, type OperatorContext } from './context.ts';
import { fields, show, table, withProgress } from './output.ts';
import { period } from './statements.ts';

/** Rows that need a look, shown in the table (the whole report is behind its link, and in --json). */
export const ROWS_SHOWN = 50;

/** The export's bytes, refused before anything is asked for: missing, not a file, empty or too large. */
export async function readBillFile(file: string, maxBytes = BILL_MAX_BYTES): Promise<Buffer> {
  const found = await stat(file).catch(() => undefined);
  if (!found) throw new UsageError(`no file ${JSON.stringify(file)}`);
  if (!found.isFile()) throw new UsageError(`${JSON.stringify(file)} is not a file`);
  if (found.size === 0) throw new UsageError(`${JSON.stringify(file)} is empty`);
  if (found.size > maxBytes)
    throw new UsageError(`${JSON.stringify(file)} is ${found.size} bytes; a bill export may have at most ${maxBytes}`);
  return readFile(file);
}

/** Posts the file with the presigned form (its fields first, the file last, as S3 wants). */
async function postForm(upload: { url: string; fields: Record<string, string> }, bytes: Buffer, fileName: string): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'text/csv' }), fileName);
  const answer = await fetch(upload.url, { method: 'POST', body: form });
  if (answer.ok) return;
  const body = await answer.text().catch(() => '');
  const reason = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? (body.slice(0, 200) || answer.statusText);
  throw new Error(`the upload was refused (HTTP ${answer.status}): ${reason}`);
}

/** A refusal of the report printed with the way out, ending the CLI with exit code 1. */
function reportRefused(ctx: OperatorContext, month: string, error: ReconciliationError): CommandExit {
  ctx.io.err(`error: ${error.message}`);
  if (error.code === 'not_found') ctx.io.err(`upload it: koogallery reconciliation upload ${month} <file.csv>`);
  return new CommandExit(1);
}

export const reconciliationCommands: Command[] = [
  {
    area: 'reconciliation',
    name: 'upload',
    synopsis: 'reconciliation upload <YYYY-MM> <file.csv>',
    summary: `upload the marketplace's bill export (CSV, at most ${BILL_MAX_BYTES / 1024 / 1024} MB) of a month that has a statement`,
    args: [2, 2],
    async run(ctx, { args }) {
      const month = period(args[0]!);
      const file = args[1]!;
      const bytes = await readBillFile(file);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const uploaded = await operatorAction(ctx, 'reconciliation.upload', month, async () => {
        const form = await callRoute(ctx, requestReconciliation, { params: { period: month }, body: { size: bytes.length, sha256 } });
        await withProgress(ctx.io, `uploading ${file} (${bytes.length} bytes)`, () => postForm(form.upload, bytes, basename(file)));
        return { period: month, uploadId: form.uploadId, key: form.key, bytes: bytes.length, sha256 };
      });
      show(ctx.answer, uploaded, () => [
        `uploaded ${file} for ${month} (${bytes.length} bytes, upload ${uploaded.uploadId}): koogallery reconciliation show ${month}`,
      ]);
      return 0;
    },
  },
  {
    area: 'reconciliation',
    name: 'show',
    synopsis: 'reconciliation show <YYYY-MM>',
    summary: "the latest bill export against the month's latest statement: totals per currency, counts, rows that need a look",
    args: [1, 1],
    async run(ctx, { args }) {
      const month = period(args[0]!);
      let report;
      try {
        report = await callRoute(ctx, getReconciliation, { params: { period: month } });
      } catch (error) {
        if (error instanceof ReconciliationError) throw reportRefused(ctx, month, error);
        throw error;
      }
      show(ctx.answer, report, () => reportLines(report));
      return 0;
    },
  },
];

type Report = Awaited<ReturnType<typeof getReconciliation.handle>>['body'];

/** The report as `label  value` lines and tables. */
export function reportLines(report: Report): string[] {
  const { totals } = report;
  const attention = report.rows.filter((r) => r.status !== 'MATCHED');
  const hidden = totals.amountDiffers + totals.onlyOurs + totals.onlyTheirs - Math.min(attention.length, ROWS_SHOWN);
  return [
    ...fields([
      ['period', report.period],
      ['statement version', report.version],
      ['bill export', report.billKey],
      ['bill rows', report.billRows],
      ['compared', report.compare],
      ['matched', totals.matched],
      ['amount differs', totals.amountDiffers],
      ['only ours', totals.onlyOurs],
      ['only theirs', totals.onlyTheirs],
      ['full report', report.reportUrl],
    ]),
    '',
    ...table(
      ['CURRENCY', 'OURS', 'THEIRS', 'DIFFERENCE'],
      Object.entries(totals.currencies).map(([currency, t]) => [currency, t.ours, t.theirs, t.difference]),
    ),
    ...(attention.length === 0
      ? ['', 'every line matches']
      : [
          '',
          ...table(
            ['STATUS', 'KEY', 'CURRENCY', 'OURS', 'THEIRS', 'BILL ROWS'],
            attention.slice(0, ROWS_SHOWN).map((r) => [r.status, r.key, r.currency, r.ours, r.theirs, r.billRows?.join(',')]),
          ),
          ...(hidden > 0 ? [`… ${hidden} more in the full report`] : []),
        ]),
    ...(report.billProblems.length === 0
      ? []
      : [
          '',
          ...table(
            ['BILL ROW', 'PROBLEM'],
            report.billProblems.map((p) => [p.row, p.message]),
          ),
        ]),
  ];
}
