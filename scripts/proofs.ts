/**
 * The seller's delivery-proof CLI (service supervision, spec §8.3), a client of the seller API:
 *
 *   npm run proofs -- upload --order <orderId> --line <orderLineId> --kind <kind> [--service-start <iso>]
 *                     [--content-type <type>] [--url <seller API>] [--key <API key>] [--timeout <seconds>] <file>
 *   npm run proofs -- show --order <orderId> --line <orderLineId> [--url <seller API>] [--key <API key>]
 *
 * `upload` works out the file's type (from its first bytes, else its name), size and SHA-256, asks the seller API for
 * an upload form, uploads the file to S3 with it, then waits until the server has checked the file.
 * The key defaults to SELLER_API_KEY, the URL to http://127.0.0.1:3000 (the local stack).
 * Exit codes: 0 done (upload: the proof is VERIFIED), 1 refused or failed, 2 bad arguments.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { errorMessage } from '#lib/shared/errors.ts';
import { sleep } from '#lib/shared/time.ts';
import { isIsoInstant } from '#lib/supervision/stateMachine.ts';
import { PROOF_KINDS, type ProofKind } from '#lib/supervision/proofs.ts';
import { SNIFF_HEAD_BYTES, SNIFFED_TYPES, sniffContentType } from '#lib/supervision/sniff.ts';
import { consoleOutput, parseCommandLine, runIfMain, type CliOutput } from './local/cli.ts';

export const USAGE = `Usage:
  proofs upload --order <orderId> --line <orderLineId> --kind <kind> [--service-start <iso>]
                [--content-type <type>] [--url <seller API>] [--key <API key>] [--timeout <seconds>] <file>
  proofs show --order <orderId> --line <orderLineId> [--url <seller API>] [--key <API key>]
Kinds: ${PROOF_KINDS.join(', ')}
The key defaults to $SELLER_API_KEY; the URL to http://127.0.0.1:3000.`;

const DEFAULT_URL = 'http://127.0.0.1:3000';
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

export interface ProofsCliDeps {
  fetch: typeof fetch;
  readFile: (path: string) => Promise<Uint8Array>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  env: Record<string, string | undefined>;
}

const defaultDeps: ProofsCliDeps = {
  fetch: (...args) => fetch(...args),
  readFile: (path) => readFile(path),
  sleep,
  now: Date.now,
  env: process.env,
};

interface ApiAnswer {
  status: number;
  json: Record<string, unknown>;
}

interface ProofLine {
  proofId: string;
  kind: string;
  fileName: string;
  state: string;
  round: number;
  rejection?: { reason: string; message: string };
  downloadUrl?: string;
}

interface ViewLine {
  supervision: { state: string; round: number; appeal?: { reason: string }; serviceStartAt?: string; acceptedAt?: string };
  currentRound?: { missingKinds: string[] };
  history: { version: number; at: string; actor: string; action: string; from?: string; to: string; reason?: string }[];
  proofs: ProofLine[];
}

const errorText = (answer: ApiAnswer): string => {
  const error = answer.json.error as { code?: string; message?: string } | undefined;
  return error ? `${answer.status} ${error.code ?? ''}: ${error.message ?? ''}` : `HTTP ${answer.status}`;
};

/** The S3 error answer's code and message, from its XML. */
const s3ErrorText = (status: number, xml: string): string => {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
  return code ? `${status} ${code}: ${message ?? ''}` : `HTTP ${status}`;
};

/** Runs one command line (without `node` and the script); returns the exit code. */
export async function runProofsCli(
  argv: readonly string[],
  io: CliOutput = consoleOutput,
  deps: ProofsCliDeps = defaultDeps,
): Promise<number> {
  const line = parseCommandLine(
    argv,
    {
      order: { type: 'string' },
      line: { type: 'string' },
      kind: { type: 'string' },
      'service-start': { type: 'string' },
      'content-type': { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      timeout: { type: 'string' },
    },
    USAGE,
    io,
  );
  if (!line.ok) return line.exitCode;
  const { command, target, values, usageError } = line;
  if (command !== 'upload' && command !== 'show') return usageError(`unknown command ${JSON.stringify(command)}`);
  if (!values.order) return usageError(`${command} needs --order`);
  if (!values.line) return usageError(`${command} needs --line`);
  const apiKey = values.key ?? deps.env.SELLER_API_KEY;
  if (!apiKey) return usageError('an API key is needed: --key or SELLER_API_KEY');
  let base: URL;
  try {
    base = new URL(values.url ?? DEFAULT_URL);
  } catch {
    return usageError(`--url is not a URL: ${JSON.stringify(values.url)}`);
  }
  const path = `/seller/supervision/${encodeURIComponent(values.order)}/${encodeURIComponent(values.line)}`;

  const api = async (method: 'GET' | 'POST', suffix: string, body?: unknown): Promise<ApiAnswer> => {
    const response = await deps.fetch(new URL(`${base.pathname.replace(/\/$/, '')}${path}${suffix}`, base), {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = {};
    }
    return { status: response.status, json };
  };

  if (command === 'show') {
    if (target !== undefined) return usageError(`unexpected argument ${JSON.stringify(target)}`);
    if (values.kind || values['service-start'] || values['content-type'] || values.timeout)
      return usageError('show takes only --order, --line, --url and --key');
    const answer = await api('GET', '/proofs');
    if (answer.status !== 200) {
      io.err(`error: ${errorText(answer)}`);
      return 1;
    }
    printView(io, answer.json as unknown as ViewLine);
    return 0;
  }

  // upload
  if (target === undefined) return usageError('upload needs a file');
  if (!values.kind) return usageError('upload needs --kind');
  if (!(PROOF_KINDS as readonly string[]).includes(values.kind)) return usageError(`--kind must be one of ${PROOF_KINDS.join(', ')}`);
  const serviceStart = values['service-start'];
  if (serviceStart !== undefined && !isIsoInstant(serviceStart))
    return usageError('--service-start must be an ISO 8601 instant, e.g. 2026-02-01T00:00:00+08:00');
  const timeoutSeconds = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) return usageError('--timeout must be a positive number of seconds');

  let bytes: Uint8Array;
  try {
    bytes = await deps.readFile(target);
  } catch (error) {
    io.err(`error: cannot read ${target}: ${errorMessage(error)}`);
    return 1;
  }
  const fileName = basename(target);
  const detected = detectContentType(fileName, bytes);
  const contentType = values['content-type'] ?? detected.contentType;
  if (!contentType) {
    io.err(
      `error: cannot tell what ${fileName} is (neither its content nor its name is PDF, PNG, JPEG, ZIP, DOCX or XLSX); use --content-type`,
    );
    return 1;
  }
  if (detected.sniffed && detected.byName && detected.sniffed !== detected.byName && !values['content-type']) {
    io.err(`warning: ${fileName} is named like ${detected.byName} but its content is ${detected.sniffed}; declaring ${detected.sniffed}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  io.out(`file     ${fileName}: ${bytes.length} bytes, ${contentType}, sha256 ${sha256}`);

  const requested = await api('POST', '/proofs', {
    kind: values.kind as ProofKind,
    fileName,
    contentType,
    size: bytes.length,
    sha256,
    ...(serviceStart !== undefined ? { serviceStartAt: serviceStart } : {}),
  });
  if (requested.status !== 200) {
    io.err(`error: upload refused: ${errorText(requested)}`);
    return 1;
  }
  const { proofId, upload } = requested.json as {
    proofId: string;
    upload: { url: string; fields: Record<string, string>; expiresAt: string };
  };
  io.out(`proof    ${proofId}: upload form valid until ${upload.expiresAt}`);

  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([bytes], { type: contentType }), fileName);
  const stored = await deps.fetch(upload.url, { method: 'POST', body: form });
  const storedText = await stored.text();
  if (!stored.ok) {
    io.err(`error: the upload was refused by S3: ${s3ErrorText(stored.status, storedText)}`);
    return 1;
  }
  io.out(`uploaded ${bytes.length} bytes (HTTP ${stored.status}); waiting for the check`);

  const deadline = deps.now() + timeoutSeconds * 1000;
  for (;;) {
    const answer = await api('GET', '/proofs');
    if (answer.status !== 200) {
      io.err(`error: ${errorText(answer)}`);
      return 1;
    }
    const view = answer.json as unknown as ViewLine;
    const proof = view.proofs.find((p) => p.proofId === proofId);
    if (proof?.state === 'VERIFIED') {
      io.out(`verified proof ${proofId}; supervision is ${view.supervision.state} (round ${view.supervision.round})`);
      const missing = view.currentRound?.missingKinds ?? [];
      if (missing.length > 0) io.out(`still missing for this round: ${missing.join(', ')}`);
      return 0;
    }
    if (proof?.state === 'REJECTED') {
      io.err(`error: proof ${proofId} rejected: ${proof.rejection?.reason ?? ''} ${proof.rejection?.message ?? ''}`.trimEnd());
      return 1;
    }
    if (deps.now() >= deadline) {
      io.err(`error: proof ${proofId} not checked after ${timeoutSeconds} s (still ${proof?.state ?? 'unknown'})`);
      return 1;
    }
    await deps.sleep(POLL_MS);
  }
}

function printView(io: CliOutput, view: ViewLine): void {
  const s = view.supervision;
  io.out(`supervision ${s.state}, round ${s.round}${s.appeal ? `, appeal open: ${s.appeal.reason}` : ''}`);
  if (s.serviceStartAt) io.out(`  service start  ${s.serviceStartAt}`);
  if (s.acceptedAt) io.out(`  accepted       ${s.acceptedAt}`);
  const missing = view.currentRound?.missingKinds ?? [];
  if (missing.length > 0) io.out(`  missing        ${missing.join(', ')}`);
  io.out('history');
  for (const h of view.history) {
    io.out(
      `  v${h.version}  ${h.at}  ${h.actor.padEnd(11)} ${h.action.padEnd(14)} ${h.from ?? '-'} -> ${h.to}${h.reason ? `  (${h.reason})` : ''}`,
    );
  }
  io.out('proofs');
  if (view.proofs.length === 0) io.out('  none');
  for (const p of view.proofs) {
    const why = p.rejection ? `  ${p.rejection.reason}: ${p.rejection.message}` : '';
    io.out(`  ${p.proofId}  round ${p.round}  ${p.kind.padEnd(16)} ${p.state.padEnd(15)} ${p.fileName}${why}`);
  }
}

runIfMain(import.meta.url, () => runProofsCli(process.argv.slice(2)));
