import { BillFormatError, type BillColumns } from './billColumns.ts';
import type { StatementLine } from './model.ts';
import { formatCents, parseDecimal, parseMoney, roundTo } from './money.ts';

/**
 * Reconciliation: the marketplace's bill export (a CSV from the Seller Console, spec §8.4) against our statement.
 * The export's column names are not documented, so they are configuration (BILL_COLUMNS); the defaults below are
 * plausible English names, not confirmed ones.
 */

/**
 * Records of a CSV text (RFC 4180): fields separated by commas, records by CRLF, LF or CR; a field in double
 * quotes may hold commas, line breaks and doubled quotes. A leading UTF-8 byte order mark and blank lines are
 * skipped. Broken quoting throws BillFormatError with the line number rather than guessing.
 */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let inQuotes = false;
  let closedQuote = false;
  let line = 1;
  let quoteLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const endField = () => {
    record.push(field);
    field = '';
    closedQuote = false;
  };
  const endRecord = () => {
    const blank = record.length === 0 && field === '' && !closedQuote;
    endField();
    if (!blank) records.push(record);
    record = [];
  };

  while (i < text.length) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        closedQuote = true;
      } else {
        if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
    } else if (closedQuote) {
      throw new BillFormatError(`CSV line ${line}: text after the closing quote of a field`);
    } else if (c === '"') {
      if (field !== '') throw new BillFormatError(`CSV line ${line}: a quote inside an unquoted field`);
      inQuotes = true;
      quoteLine = line;
      i++;
    } else {
      field += c;
      i++;
    }
  }
  if (inQuotes) throw new BillFormatError(`CSV line ${quoteLine}: a quoted field is never closed`);
  if (field !== '' || record.length > 0 || closedQuote) endRecord();
  return records;
}

/** One row of the bill, amount in cents. `row` is its record number in the file (1 = the first record). */
export interface BillRow {
  row: number;
  orderId: string;
  orderLineId: string;
  instanceId?: string;
  currency?: string;
  type?: string;
  /** 2 decimals, as in our statement: "-12.30". */
  amount: string;
}

export interface BillProblem {
  row: number;
  message: string;
}

/** Digits grouped by thousands, "1,234.56": the separators are dropped; any other form must be a plain decimal. */
const GROUPED = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

/** Cents of a bill amount, or why it is not one (more than 2 non-zero decimals would need a rounding we do not guess). */
function billCents(raw: string): bigint | string {
  const text = GROUPED.test(raw) ? raw.replaceAll(',', '') : raw;
  const value = parseDecimal(text);
  if (value === undefined) return `amount "${raw}" is not a decimal number`;
  const cents = roundTo(value, 2);
  if (value.scale > 2 && cents * 10n ** BigInt(value.scale - 2) !== value.units) return `amount "${raw}" has more than 2 decimals`;
  return cents;
}

const normalized = (header: string): string => header.trim().toLowerCase();

/**
 * The bill's rows. The header is the first record holding the configured orderId, orderLineId and amount
 * names (trimmed, case ignored), so title lines above it are skipped; optional columns that are absent are
 * ignored. A row with a bad amount or without any id is a problem, not a crash; blank rows and repeats of the
 * header are skipped.
 */
export function billRows(records: readonly (readonly string[])[], columns: BillColumns): { rows: BillRow[]; problems: BillProblem[] } {
  const required = [columns.orderId, columns.orderLineId, columns.amount];
  const headerAt = records.findIndex((r) => {
    const names = new Set(r.map(normalized));
    return required.every((n) => names.has(normalized(n)));
  });
  if (headerAt < 0) {
    const first = records.find((r) => r.some((c) => c.trim() !== '')) ?? [];
    const names = new Set(first.map(normalized));
    const missing = required.filter((n) => !names.has(normalized(n)));
    throw new BillFormatError(
      `no header row with the columns ${required.map((n) => `"${n}"`).join(', ')}; the first row lacks ${missing.map((n) => `"${n}"`).join(', ')} (set BILL_COLUMNS to the export's names)`,
    );
  }
  const header = records[headerAt]!.map(normalized);
  const indexOf = (n: string | undefined) => (n === undefined ? -1 : header.indexOf(normalized(n)));
  const at = {
    orderId: indexOf(columns.orderId),
    orderLineId: indexOf(columns.orderLineId),
    amount: indexOf(columns.amount),
    instanceId: indexOf(columns.instanceId),
    currency: indexOf(columns.currency),
    type: indexOf(columns.type),
  };

  const rows: BillRow[] = [];
  const problems: BillProblem[] = [];
  for (let r = headerAt + 1; r < records.length; r++) {
    const record = records[r]!;
    if (record.every((c) => c.trim() === '')) continue;
    if (record.length === header.length && record.every((c, i) => normalized(c) === header[i])) continue; // the header again, on each page
    const cell = (i: number) => (i < 0 ? '' : (record[i] ?? '').trim());
    const row = r + 1;
    const cents = billCents(cell(at.amount));
    if (typeof cents === 'string') {
      problems.push({ row, message: cents });
      continue;
    }
    const bill: BillRow = { row, orderId: cell(at.orderId), orderLineId: cell(at.orderLineId), amount: formatCents(cents) };
    for (const field of ['instanceId', 'currency', 'type'] as const) {
      const value = cell(at[field]);
      if (value !== '') bill[field] = value;
    }
    if (bill.orderLineId === '' && bill.instanceId === undefined) {
      problems.push({ row, message: 'no order line id and no instance id: nothing to match it by' });
      continue;
    }
    rows.push(bill);
  }
  return { rows, problems };
}

export type ReconcileStatus = 'MATCHED' | 'AMOUNT_DIFFERS' | 'ONLY_OURS' | 'ONLY_THEIRS';

export interface ReconcileRow {
  status: ReconcileStatus;
  /** ORDER:<orderLineId>, REFUND:<orderLineId> or USAGE:<instanceId>. */
  key: string;
  /** Our currency, else the bill's. */
  currency: string;
  /** Set when the bill's currency differs from ours. */
  theirsCurrency?: string;
  /** Our amount (net or gross), summed over our lines with this key. */
  ours?: string;
  /** The bill's amount, summed over its rows with this key. */
  theirs?: string;
  /** The bill's record numbers, so the seller can find them. */
  billRows?: number[];
}

export interface CurrencyComparison {
  ours: string;
  theirs: string;
  /** theirs − ours */
  difference: string;
}

export interface ReconcileReport {
  compare: 'net' | 'gross';
  totals: {
    matched: number;
    amountDiffers: number;
    onlyOurs: number;
    onlyTheirs: number;
    /** Per currency: our lines' sum, the bill's sum and the difference. */
    currencies: Record<string, CurrencyComparison>;
  };
  rows: ReconcileRow[];
}

export interface ReconcileOptions {
  /** Which of our amounts the bill's amount is compared with: net (the default, what the seller is paid) or gross. */
  compare?: 'net' | 'gross';
  /** The currency of bill rows that name none; default: our statement's currency when it has exactly one. */
  currency?: string;
}

interface Side {
  cents: bigint;
  currencies: Set<string>;
  rows: number[];
}

function addTo(map: Map<string, Side>, key: string, cents: bigint, currency: string, row?: number): void {
  const side = map.get(key) ?? { cents: 0n, currencies: new Set<string>(), rows: [] };
  side.cents += cents;
  side.currencies.add(currency);
  if (row !== undefined) side.rows.push(row);
  map.set(key, side);
}

/** Our line's match key: the order line and its sign, or the instance for usage. */
export function statementKey(line: StatementLine): string {
  return line.kind === 'USAGE' ? `USAGE:${line.instanceId}` : `${line.kind}:${line.orderLineId ?? ''}`;
}

/**
 * Compares the bill with our statement. A bill row is a usage row when its instance has a USAGE line with us (or
 * it has no order line id); otherwise it is an order line, a refund when its amount is negative. Rows with the
 * same key on one side are summed (a bill may split one order line over several rows). Report rows are sorted
 * by key, comparing code units.
 */
export function reconcile(ours: Iterable<StatementLine>, theirs: readonly BillRow[], options: ReconcileOptions = {}): ReconcileReport {
  const compare = options.compare ?? 'net';
  const ourSide = new Map<string, Side>();
  const totals = new Map<string, { ours: bigint; theirs: bigint }>();
  const total = (currency: string) => {
    const t = totals.get(currency) ?? { ours: 0n, theirs: 0n };
    totals.set(currency, t);
    return t;
  };
  const usageInstances = new Set<string>();

  for (const line of ours) {
    const cents = parseMoney(line[compare]);
    if (cents === undefined) throw new RangeError(`${line.lineId}: ${compare} is not an amount with 2 decimals: "${line[compare]}"`);
    if (line.kind === 'USAGE') usageInstances.add(line.instanceId);
    addTo(ourSide, statementKey(line), cents, line.currency);
    total(line.currency).ours += cents;
  }

  const ourCurrencies = [...totals.keys()];
  const fallbackCurrency = options.currency ?? (ourCurrencies.length === 1 ? ourCurrencies[0]! : '');
  const theirSide = new Map<string, Side>();
  for (const row of theirs) {
    const cents = parseMoney(row.amount);
    if (cents === undefined) throw new RangeError(`bill row ${row.row}: amount is not an amount with 2 decimals: "${row.amount}"`);
    const usage = row.instanceId !== undefined && (usageInstances.has(row.instanceId) || row.orderLineId === '');
    const key = usage ? `USAGE:${row.instanceId}` : `${cents < 0n ? 'REFUND' : 'ORDER'}:${row.orderLineId}`;
    const currency = row.currency ?? fallbackCurrency;
    addTo(theirSide, key, cents, currency, row.row);
    total(currency).theirs += cents;
  }

  const counts = { matched: 0, amountDiffers: 0, onlyOurs: 0, onlyTheirs: 0 };
  const rows: ReconcileRow[] = [];
  const keys = [...new Set([...ourSide.keys(), ...theirSide.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const o = ourSide.get(key);
    const t = theirSide.get(key);
    const currencyOf = (s: Side) => [...s.currencies].sort().join('+');
    if (o && t) {
      const same = currencyOf(o) === currencyOf(t) && o.currencies.size === 1 && o.cents === t.cents;
      const status: ReconcileStatus = same ? 'MATCHED' : 'AMOUNT_DIFFERS';
      counts[same ? 'matched' : 'amountDiffers']++;
      rows.push({
        status,
        key,
        currency: currencyOf(o),
        ...(currencyOf(t) !== currencyOf(o) ? { theirsCurrency: currencyOf(t) } : {}),
        ours: formatCents(o.cents),
        theirs: formatCents(t.cents),
        billRows: t.rows,
      });
    } else if (o) {
      counts.onlyOurs++;
      rows.push({ status: 'ONLY_OURS', key, currency: currencyOf(o), ours: formatCents(o.cents) });
    } else if (t) {
      counts.onlyTheirs++;
      rows.push({ status: 'ONLY_THEIRS', key, currency: currencyOf(t), theirs: formatCents(t.cents), billRows: t.rows });
    }
  }

  const currencies: Record<string, CurrencyComparison> = {};
  for (const currency of [...totals.keys()].sort()) {
    const t = totals.get(currency)!;
    currencies[currency] = { ours: formatCents(t.ours), theirs: formatCents(t.theirs), difference: formatCents(t.theirs - t.ours) };
  }
  return { compare, totals: { ...counts, currencies }, rows };
}
