/**
 * How the operator CLI answers: readable tables and `key  value` blocks by default, one JSON document with
 * `--json` (for scripts), and a progress line on stderr for anything that takes more than a second.
 */
import type { CliOutput } from '../local/cli.ts';

export type Cell = string | number | boolean | undefined | null;

/** Rows under a header, columns padded to their widest cell; `-` for an empty cell. */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  const text = [header, ...rows.map((row) => row.map((cell) => (cell === undefined || cell === null || cell === '' ? '-' : String(cell))))];
  const widths = header.map((_, column) => Math.max(...text.map((row) => (row[column] ?? '').length)));
  return text.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

/** `label  value` lines, labels aligned; absent values are left out. */
export function fields(pairs: readonly (readonly [string, Cell])[]): string[] {
  const shown = pairs.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${String(value)}`);
}

export interface Answer {
  io: CliOutput;
  json: boolean;
}

/** Prints `value` as JSON with --json, else the lines `render` gives. */
export function show(answer: Answer, value: unknown, render: () => readonly string[]): void {
  if (answer.json) {
    answer.io.out(JSON.stringify(value, null, 2));
    return;
  }
  for (const line of render()) answer.io.out(line);
}

/** After this long without an answer, a progress line says what is going on. */
export const PROGRESS_AFTER_MS = 1_000;

/** Runs `work`; if it takes more than a second, says `label…` on stderr (so --json output stays clean). */
export async function withProgress<T>(io: CliOutput, label: string, work: () => Promise<T>, afterMs = PROGRESS_AFTER_MS): Promise<T> {
  const timer = setTimeout(() => io.err(`${label}…`), afterMs);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
  }
}
