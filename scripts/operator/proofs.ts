/**
 * `koogallery proofs`: delivery proofs of service supervision (spec §8.3). `upload` works out the file's type (from
 * its first bytes, else its name), size and SHA-256, asks for an upload form (as the seller API's
 * `POST /seller/supervision/{orderId}/{orderLineId}/proofs` does), posts the file to S3 with it, then waits until the
 * server has checked the file. `list` shows an order line's supervision, its history and its proofs.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getSupervision, requestProof } from '#lib/seller-api/routes/supervision.ts';
import { errorMessage } from '#lib/shared/errors.ts';
import { PROOF_KINDS } from '#lib/supervision/proofs.ts';
import { SNIFF_HEAD_BYTES, SNIFFED_TYPES, sniffContentType } from '#lib/supervision/sniff.ts';
import type { Command, OptionValues } from './command.ts';
import { required, text } from './command.ts';
import { callRoute, operatorAction, Refused, UsageError, type OperatorContext } from './context.ts';
import { fields, show, table, withProgress } from './output.ts';

const DEFAULT_TIMEOUT_SECONDS = 30;
const POLL_MS = 500;

const BY_EXTENSION: Record<string, string> = {
  '.pdf': SNIFFED_TYPES.pdf,
  '.png': SNIFFED_TYPES.png,
  '.jpg': SNIFFED_TYPES.jpeg,
  '.jpeg': SNIFFED_TYPES.jpeg,
  '.zip': SNIFFED_TYPES.zip,
  '.docx': SNIFFED_TYPES.docx,
  '.xlsx': SNIFFED_TYPES.xlsx,
};

/** The file's content type: what its bytes are, else what its name says; undefined when neither tells. */
export function detectContentType(
  fileName: string,
  bytes: Uint8Array,
): { contentType: string | undefined; byName: string | undefined; sniffed: string | undefined } {
  const byName = BY_EXTENSION[extname(fileName).toLowerCase()];
  const sniffed = sniffContentType(bytes.subarray(0, SNIFF_HEAD_BYTES));
  return { contentType: sniffed ?? byName, byName, sniffed };
}

/** The order line the options name. */
function orderLine(values: OptionValues): { orderId: string; orderLineId: string } {
  return {
    orderId: required(values, 'order', 'the order id'),
    orderLineId: required(values, 'line', 'the order line id'),
  };
}

type View = Awaited<ReturnType<typeof supervisionOf>>;

const supervisionOf = (ctx: OperatorContext, params: { orderId: string; orderLineId: string }) =>
  callRoute(ctx, getSupervision, { params });

function viewLines({ supervision: s, currentRound, history, proofs }: View): string[] {
  return [
    ...fields([
      ['order line', `${s.orderId} / ${s.orderLineId}`],
      ['instance', s.instanceId],
      ['state', `${s.state} (round ${s.round})`],
      ['appeal', s.appeal ? `open since ${s.appeal.openedAt}: ${s.appeal.reason}` : undefined],
      ['service start', s.serviceStartAt],
      ['accepted', s.acceptedAt],
      ['missing', currentRound.missingKinds.join(', ')],
    ]),
    '',
    'history',
    ...table(
      ['V', 'AT', 'ACTOR', 'ACTION', 'FROM', 'TO', 'REASON'],
      history.map((h) => [
        h.version,
        h.at,
        h.by?.kind === 'operator' ? `${h.actor} (${h.by.principal})` : h.actor,
        h.action,
        h.from,
        h.to,
        h.reason,
      ]),
    ).map((l) => `  ${l}`),
    '',
    'proofs',
    ...(proofs.length === 0
      ? ['  none']
      : table(
          ['PROOF', 'ROUND', 'KIND', 'STATE', 'FILE', 'REJECTION'],
          proofs.map((p) => [
            p.proofId,
            p.round,
            p.kind,
            p.state,
            p.fileName,
            p.rejection ? `${p.rejection.reason}: ${p.rejection.message}` : '',
          ]),
        ).map((l) => `  ${l}`)),
  ];
}

/** The S3 error answer's code and message, from its XML. */
const s3ErrorText = (status: number, xml: string): string => {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
  return code ? `${status} ${code}: ${message ?? ''}` : `HTTP ${status}`;
};

/** The file to upload and what it declares, checked before anything is asked of the stack. */
async function proofFile(path: string, values: OptionValues, io: OperatorContext['io']) {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${errorMessage(error)}`);
  }
  const fileName = basename(path);
  const detected = detectContentType(fileName, bytes);
  const contentType = text(values, 'content-type') ?? detected.contentType;
  if (!contentType)
    throw new UsageError(
      `cannot tell what ${fileName} is (neither its content nor its name is PDF, PNG, JPEG, ZIP, DOCX or XLSX): give --content-type`,
    );
  if (detected.sniffed && detected.byName && detected.sniffed !== detected.byName && !text(values, 'content-type'))
    io.err(`warning: ${fileName} is named like ${detected.byName} but its content is ${detected.sniffed}; declaring ${detected.sniffed}`);
  return { bytes, fileName, contentType, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Posts the file with the upload form's fields, as a browser form would. */
async function postForm(upload: { url: string; fields: Record<string, string> }, file: Awaited<ReturnType<typeof proofFile>>) {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([file.bytes], { type: file.contentType }), file.fileName);
  const stored = await fetch(upload.url, { method: 'POST', body: form });
  const answer = await stored.text();
  if (!stored.ok) throw new Refused(`S3 refused the upload: ${s3ErrorText(stored.status, answer)}`);
}

/** Waits until the proof is checked: its state and the order line's supervision then. */
async function checked(ctx: OperatorContext, line: { orderId: string; orderLineId: string }, proofId: string, timeoutSeconds: number) {
  const deadline = ctx.now() + timeoutSeconds * 1000;
  for (;;) {
    const view = await supervisionOf(ctx, line);
    const proof = view.proofs.find((p) => p.proofId === proofId);
    if (proof?.state === 'VERIFIED') return { proof, view };
    if (proof?.state === 'REJECTED')
      throw new Refused(`proof ${proofId} rejected: ${proof.rejection?.reason ?? ''} ${proof.rejection?.message ?? ''}`.trimEnd());
    if (ctx.now() >= deadline)
      throw new Refused(
        `proof ${proofId} not checked after ${timeoutSeconds} s (still ${proof?.state ?? 'unknown'}): see koogallery proofs list --order ${line.orderId} --line ${line.orderLineId}`,
      );
    await sleep(POLL_MS);
  }
}

function timeoutOf(values: OptionValues): number {
  const raw = text(values, 'timeout');
  const seconds = raw === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  return seconds;
}

export const proofCommands: Command[] = [
  {
    area: 'proofs',
    name: 'upload',
    synopsis:
      'proofs upload <file> --order <orderId> --line <orderLineId> --kind <kind> [--service-start <iso>] [--content-type <type>] [--timeout <seconds>]',
    summary: `upload a delivery proof and wait for its check (kinds: ${PROOF_KINDS.join(', ')}; the type is read from the file)`,
    options: {
      order: { type: 'string' },
      line: { type: 'string' },
      kind: { type: 'string' },
      'service-start': { type: 'string' },
      'content-type': { type: 'string' },
      timeout: { type: 'string' },
    },
    args: [1, 1],
    async run(ctx, { args, values }) {
      const line = orderLine(values);
      const kind = required(values, 'kind', `one of ${PROOF_KINDS.join(', ')}`);
      const serviceStartAt = text(values, 'service-start');
      const timeoutSeconds = timeoutOf(values);
      const file = await proofFile(args[0]!, values, ctx.io);
      const target = `${line.orderId}/${line.orderLineId}/${file.fileName}`;
      const done = await operatorAction(ctx, 'proofs.upload', target, async () => {
        const { proofId, upload } = await callRoute(ctx, requestProof, {
          params: line,
          body: {
            kind,
            fileName: file.fileName,
            contentType: file.contentType,
            size: file.bytes.length,
            sha256: file.sha256,
            ...(serviceStartAt !== undefined ? { serviceStartAt } : {}),
          },
        });
        await withProgress(ctx.io, `uploading ${file.fileName} (${file.bytes.length} bytes)`, () => postForm(upload, file));
        return withProgress(ctx.io, `waiting for the check of proof ${proofId}`, () => checked(ctx, line, proofId, timeoutSeconds));
      });
      const { proof, view } = done;
      show(ctx.answer, { proof, supervision: view.supervision, currentRound: view.currentRound }, () => [
        `verified proof ${proof.proofId} (${file.fileName}: ${file.bytes.length} bytes, ${file.contentType}, sha256 ${file.sha256})`,
        `supervision is ${view.supervision.state} (round ${view.supervision.round})`,
        ...(view.currentRound.missingKinds.length > 0
          ? [`still missing for this round: ${view.currentRound.missingKinds.join(', ')}`]
          : []),
      ]);
      return 0;
    },
  },
  {
    area: 'proofs',
    name: 'list',
    synopsis: 'proofs list --order <orderId> --line <orderLineId>',
    summary: "an order line's supervision: its state, history and proofs",
    options: { order: { type: 'string' }, line: { type: 'string' } },
    args: [0, 0],
    async run(ctx, { values }) {
      const view = await supervisionOf(ctx, orderLine(values));
      show(ctx.answer, view, () => viewLines(view));
      return 0;
    },
  },
];
