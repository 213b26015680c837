/**
 * `koogallery statements`: the monthly settlement statements. Start a month's run (it fans out over the settlement
 * queue, on the stack's own functions), follow and read it, download its files, close the month.
 */
import { writeFile } from 'node:fs/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '#lib/aws/clients.ts';
import { closePeriod } from '#lib/settlement/close.ts';
import type { Period } from '#lib/settlement/model.ts';
import { isPeriod } from '#lib/settlement/period.ts';
import { startRun } from '#lib/settlement/start.ts';
import { statementView } from '#lib/settlement/view.ts';
import { listStatements } from '#lib/seller-api/routes/statements.ts';
import type { Command } from './command.ts';
import { positiveInt, text } from './command.ts';
import { callRoute, operatorAction, Refused, UsageError, type OperatorContext } from './context.ts';
import { fields, show, table, withProgress } from './output.ts';

/** The month argument, checked before anything is read or written. */
export function period(raw: string): Period {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(raw) || !isPeriod(raw))
    throw new UsageError(`the month must be YYYY-MM, e.g. 2026-04, got ${JSON.stringify(raw)}`);
  return raw;
}

const settlement = (ctx: OperatorContext) => ctx.seller().statements.settlement;

const totalsText = (totals: Record<string, { lines: number; net: string }>): string =>
  Object.entries(totals)
    .map(([currency, t]) => `${t.net} ${currency} net (${t.lines} lines)`)
    .join('; ') || 'no lines';

export const statementCommands: Command[] = [
  {
    area: 'statements',
    name: 'list',
    synopsis: 'statements list [--limit <n>] [--cursor <c>]',
    summary: 'the monthly statements, newest month first',
    options: { limit: { type: 'string' }, cursor: { type: 'string' } },
    args: [0, 0],
    async run(ctx, { values }) {
      const limit = positiveInt(values, 'limit');
      const page = await callRoute(ctx, listStatements, {
        query: { limit: limit === undefined ? undefined : String(limit), cursor: text(values, 'cursor') },
      });
      show(ctx.answer, page, () =>
        page.items.length === 0
          ? ['no statements yet: koogallery statements run <YYYY-MM>']
          : table(
              ['PERIOD', 'STATUS', 'VERSION', 'LINES', 'PROBLEMS', 'TOTALS', 'RUN UNDER WAY'],
              page.items.map((h) => [
                h.period,
                h.status,
                h.latestVersion,
                h.lineCount,
                h.problems,
                totalsText(h.totals),
                h.activeRun?.runId,
              ]),
            ),
      );
      return 0;
    },
  },
  {
    area: 'statements',
    name: 'run',
    synopsis: 'statements run <YYYY-MM>',
    summary: "start a month's settlement run (follow it with `statements show`)",
    args: [1, 1],
    async run(ctx, { args }) {
      const month = period(args[0]!);
      const run = await operatorAction(ctx, 'statements.run', month, async () =>
        startRun(settlement(ctx), month, { kind: 'operator', principal: await ctx.principal() }),
      );
      show(ctx.answer, run, () => [
        `settlement run ${run.runId} of ${run.period} started (${run.segments} segments): koogallery statements show ${run.period}`,
      ]);
      return 0;
    },
  },
  {
    area: 'statements',
    name: 'show',
    synopsis: 'statements show <YYYY-MM>',
    summary: "a month's statement: status, totals, every version, the run under way",
    args: [1, 1],
    async run(ctx, { args }) {
      const month = period(args[0]!);
      const view = await statementView(settlement(ctx), month);
      if (!view) throw new Refused(`no statement for ${month}: koogallery statements run ${month}`);
      const { header, versions, activeRun } = view;
      show(ctx.answer, { header, versions, ...(activeRun ? { activeRun } : {}) }, () => [
        ...fields([
          ['period', header.period],
          ['status', header.status],
          ['latest version', header.latestVersion],
          ['lines', header.lineCount],
          ['problems', header.problems],
          ['totals', totalsText(header.totals)],
          ['closed', header.closedAt],
          ['run under way', activeRun ? `${activeRun.runId}: ${activeRun.segmentsDone}/${activeRun.segments} segments` : undefined],
        ]),
        '',
        ...table(
          ['VERSION', 'LINES', 'PROBLEMS', 'RUN', 'CREATED', 'SHA-256 (CSV)'],
          versions.map((v) => [v.version, v.lineCount, v.problems, v.runId, v.createdAt, v.sha256Csv]),
        ),
      ]);
      return 0;
    },
  },
  {
    area: 'statements',
    name: 'download',
    synopsis: 'statements download <YYYY-MM> [--version <n>] [--format csv|json] [--out <file>]',
    summary: "a version's file (default: the latest version's CSV) to --out, or to stdout",
    options: { version: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
    args: [1, 1],
    async run(ctx, { args, values }) {
      const month = period(args[0]!);
      const format = text(values, 'format') ?? 'csv';
      if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got ${JSON.stringify(format)}`);
      const wanted = positiveInt(values, 'version');
      const view = await statementView(settlement(ctx), month);
      if (!view || view.versions.length === 0) throw new Refused(`no statement for ${month}: koogallery statements run ${month}`);
      const version = wanted === undefined ? view.versions[0] : view.versions.find((v) => v.version === wanted);
      if (!version) throw new Refused(`${month} has no version ${wanted} (latest: ${view.header.latestVersion})`);
      const key = format === 'csv' ? version.csvKey : version.jsonKey;
      const s3 = s3Client({ forcePathStyle: ctx.config().S3_FORCE_PATH_STYLE });
      const bytes = await withProgress(ctx.io, `downloading ${key}`, async () => {
        const object = await s3.send(new GetObjectCommand({ Bucket: view.bucket, Key: key }));
        return object.Body ? await object.Body.transformToByteArray() : new Uint8Array();
      });
      const out = text(values, 'out');
      if (out === undefined) {
        process.stdout.write(bytes);
        return 0;
      }
      await writeFile(out, bytes);
      show(ctx.answer, { period: month, version: version.version, format, file: out, bytes: bytes.length }, () => [
        `wrote ${out} (${month} version ${version.version}, ${bytes.length} bytes)`,
      ]);
      return 0;
    },
  },
  {
    area: 'statements',
    name: 'close',
    synopsis: 'statements close <YYYY-MM>',
    summary: 'close a month at its latest version: it is never rewritten; later changes go to the next open month',
    args: [1, 1],
    async run(ctx, { args }) {
      const month = period(args[0]!);
      const closed = await operatorAction(ctx, 'statements.close', month, () => closePeriod(settlement(ctx), month));
      show(ctx.answer, closed, () => [
        closed.alreadyClosed
          ? `${month} was closed already (version ${closed.header.latestVersion}, at ${closed.header.closedAt})`
          : `${month} closed at version ${closed.header.latestVersion}`,
      ]);
      return 0;
    },
  },
];
