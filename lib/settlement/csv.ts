import type { StatementLine } from './model.ts';

/**
 * The statement as files the seller opens: CSV (RFC 4180, CRLF, one header line) and JSON Lines, both with the
 * same fixed columns in the same order, so equal statements give byte-identical files.
 */

export const STATEMENT_COLUMNS = [
  'lineId',
  'kind',
  'orderKind',
  'orderId',
  'orderLineId',
  'refundOrderId',
  'instanceId',
  'productId',
  'adjustmentFor',
  'at',
  'serviceFrom',
  'currency',
  'quantity',
  'unit',
  'unitPrice',
  'gross',
  'fee',
  'tax',
  'net',
] as const satisfies readonly (keyof StatementLine)[];

/** Columns written as plain numbers when they hold one (their minus sign is a sign, not a formula). */
const NUMERIC = new Set<string>(['quantity', 'unitPrice', 'gross', 'fee', 'tax', 'net']);
const NUMBER = /^-?\d+(?:\.\d+)?$/;

/** A spreadsheet would read a cell starting with one of these as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: text that a spreadsheet would run as a formula gets a leading ', then RFC 4180 quoting. */
export function csvCell(value: string, numeric = false): string {
  const text = !(numeric && NUMBER.test(value)) && FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const STATEMENT_CSV_HEADER = `${STATEMENT_COLUMNS.join(',')}\r\n`;

/** One statement line as a CSV row ending in CRLF; absent fields are empty cells. */
export function statementCsvRow(line: StatementLine): string {
  return `${STATEMENT_COLUMNS.map((c) => csvCell(line[c] ?? '', NUMERIC.has(c))).join(',')}\r\n`;
}

/** One statement line as a JSON Lines record ending in LF, keys in column order, absent fields left out. */
export function statementJsonLine(line: StatementLine): string {
  const ordered: Record<string, string> = {};
  for (const c of STATEMENT_COLUMNS) {
    const value = line[c];
    if (value !== undefined) ordered[c] = value;
  }
  return `${JSON.stringify(ordered)}\n`;
}
