import { STATEMENT_COLUMNS, STATEMENT_CSV_HEADER, statementCsvRow } from './csv.ts';
import type { TextSink } from './files.ts';
import type { CurrencyTotals, Period, SettlementProblem, SettlementProblemCode, StatementLine } from './model.ts';
import { StatementTotals } from './rules.ts';

/**
 * The statement as a stream: the segments' sorted parts merged by lineId (k-way, one batch of lines per part in
 * memory), rendered to the CSV, the JSON document and the lines file at once. The same input always gives the same
 * bytes: fixed column order, no version, run id or time of writing inside the files.
 */

/** A problem as one JSON Lines record (LF-terminated), keys in a fixed order. */
export function problemJsonLine(problem: SettlementProblem): string {
  const ordered: Record<string, string> = { code: problem.code, ref: problem.ref };
  if (problem.productId !== undefined) ordered.productId = problem.productId;
  ordered.message = problem.message;
  return `${JSON.stringify(ordered)}\n`;
}

/** The order problems are listed in (as compareProblems): by ref, then code. */
export const problemKey = (problem: Pick<SettlementProblem, 'ref' | 'code'>): string => `${problem.ref}\u0000${problem.code}`;

const LINE_FIELDS = new Map<string, number>(STATEMENT_COLUMNS.map((c, i) => [c, i]));
const REQUIRED_LINE_FIELDS = ['lineId', 'kind', 'instanceId', 'productId', 'currency', 'at', 'gross', 'fee', 'tax', 'net'] as const;
const PROBLEM_CODES = new Set<SettlementProblemCode>([
  'NO_FEE_SHARE',
  'NO_PRICE',
  'NO_PRODUCT',
  'CURRENCY_MISMATCH',
  'BAD_AMOUNT',
  'BAD_SETTING',
]);

function record(text: string, what: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${what} record is not an object: ${text.slice(0, 200)}`);
  return value as Record<string, unknown>;
}

/**
 * A statement line read back from a part (as statementJsonLine wrote it). Its text is copied into the statement
 * as it is, so it must be exactly what statementJsonLine gives for the line.
 */
export function parseLineRecord(text: string): StatementLine {
  const value = record(text, 'statement line');
  let last = -1;
  for (const [field, v] of Object.entries(value)) {
    const position = LINE_FIELDS.get(field);
    if (position === undefined || typeof v !== 'string')
      throw new Error(`statement line has an unexpected field ${field}: ${text.slice(0, 200)}`);
    if (position <= last) throw new Error(`statement line's fields are not in column order: ${text.slice(0, 200)}`);
    last = position;
  }
  for (const field of REQUIRED_LINE_FIELDS)
    if (value[field] === undefined) throw new Error(`statement line lacks ${field}: ${text.slice(0, 200)}`);
  return value as unknown as StatementLine;
}

/** A problem read back from a part (as problemJsonLine wrote it). */
export function parseProblemRecord(text: string): SettlementProblem {
  const value = record(text, 'problem');
  const { code, ref, productId, message } = value;
  if (
    !PROBLEM_CODES.has(code as SettlementProblemCode) ||
    typeof ref !== 'string' ||
    typeof message !== 'string' ||
    (productId !== undefined && typeof productId !== 'string')
  ) {
    throw new Error(`malformed problem record: ${text.slice(0, 200)}`);
  }
  return productId === undefined
    ? { code: code as SettlementProblemCode, ref, message }
    : { code: code as SettlementProblemCode, ref, productId, message };
}

/** Reads one sorted source a record at a time. */
class Cursor<T> {
  private batch: string[] = [];
  private index = 0;
  key: string | undefined;
  value: T | undefined;
  text: string | undefined;

  constructor(
    private readonly source: AsyncIterator<string[]>,
    private readonly parse: (text: string) => T,
    private readonly keyOf: (value: T) => string,
    readonly name: string,
  ) {}

  /** Moves to the next record; key is undefined at the end. */
  async advance(): Promise<void> {
    while (this.index >= this.batch.length) {
      const next = await this.source.next();
      if (next.done) {
        this.key = undefined;
        this.value = undefined;
        this.text = undefined;
        return;
      }
      this.batch = next.value;
      this.index = 0;
    }
    const text = this.batch[this.index++]!;
    const value = this.parse(text);
    const key = this.keyOf(value);
    if (this.key !== undefined && !(this.key < key)) throw new Error(`${this.name} is not sorted: "${key}" after "${this.key}"`);
    this.key = key;
    this.value = value;
    this.text = text;
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }
}

/** A record of a sorted source: its value and its text as stored (one JSON Lines record, without the LF). */
export interface SourceRecord<T> {
  value: T;
  text: string;
}

/**
 * The records of several sources, each sorted by key (plain code-unit order), as one sorted stream. A key seen
 * twice is an error: each line of a statement comes from exactly one segment.
 */
export async function* mergeSorted<T>(
  sources: { name: string; batches: AsyncIterable<string[]> }[],
  parse: (text: string) => T,
  keyOf: (value: T) => string,
): AsyncGenerator<SourceRecord<T>> {
  const cursors = sources.map((s) => new Cursor(s.batches[Symbol.asyncIterator](), parse, keyOf, s.name));
  try {
    await Promise.all(cursors.map((c) => c.advance()));
    let last: string | undefined;
    for (;;) {
      let best: Cursor<T> | undefined;
      for (const c of cursors) if (c.key !== undefined && (best === undefined || c.key < best.key!)) best = c;
      if (best === undefined) return;
      if (best.key === last) throw new Error(`"${last}" appears twice in the statement (${best.name})`);
      last = best.key;
      yield { value: best.value!, text: best.text! };
      await best.advance();
    }
  } finally {
    await Promise.all(cursors.map((c) => c.close().catch(() => undefined)));
  }
}

/** Collects small writes and passes them on in chunks of about 64 KiB. */
export class ChunkedSink {
  private pending: string[] = [];
  private size = 0;

  constructor(
    readonly sink: TextSink,
    private readonly chunk = 65_536,
  ) {}

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.size += text.length;
    if (this.size >= this.chunk) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.size = 0;
    await this.sink.write(text);
  }
}

/** Receives every line of the statement in order (the diff against the previous version). */
export interface LineObserver {
  line(lineId: string, json: string): Promise<void>;
}

export interface RenderTargets {
  csv: TextSink;
  json: TextSink;
  /** lines.jsonl: the lines as JSON Lines. */
  lines?: TextSink;
  observer?: LineObserver;
}

export interface Rendered {
  lineCount: number;
  problems: number;
  totals: Record<string, CurrencyTotals>;
}

/**
 * Writes the statement: CSV (header + one row per line), the JSON document
 * `{"period":…,"lines":[…],"problems":[…],"totals":{…}}` with one record per line of text, and the lines file.
 * Totals are per currency, sums of the rounded lines. The sinks are flushed, not closed.
 */
export async function renderStatement(
  period: Period,
  lines: AsyncIterable<SourceRecord<StatementLine>>,
  problems: () => AsyncIterable<SourceRecord<SettlementProblem>>,
  targets: RenderTargets,
): Promise<Rendered> {
  const csv = new ChunkedSink(targets.csv);
  const json = new ChunkedSink(targets.json);
  const jsonl = targets.lines ? new ChunkedSink(targets.lines) : undefined;
  const totals = new StatementTotals();

  await csv.write(STATEMENT_CSV_HEADER);
  await json.write(`{"period":${JSON.stringify(period)},"lines":[`);
  let lineCount = 0;
  for await (const { value: line, text: record } of lines) {
    totals.add(line);
    await csv.write(statementCsvRow(line));
    await json.write(lineCount === 0 ? `\n${record}` : `,\n${record}`);
    if (jsonl) await jsonl.write(`${record}\n`);
    if (targets.observer) await targets.observer.line(line.lineId, record);
    lineCount++;
  }
  await json.write(`${lineCount > 0 ? '\n' : ''}],"problems":[`);
  let problemCount = 0;
  for await (const { text: record } of problems()) {
    await json.write(problemCount === 0 ? `\n${record}` : `,\n${record}`);
    problemCount++;
  }
  const sums = totals.get();
  await json.write(`${problemCount > 0 ? '\n' : ''}],"totals":${JSON.stringify(sums)}}\n`);
  await Promise.all([csv.flush(), json.flush(), jsonl?.flush()]);
  return { lineCount, problems: problemCount, totals: sums };
}
