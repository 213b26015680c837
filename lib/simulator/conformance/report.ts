/** The conformance results for people (an aligned table) and for machines (JSON). */
import type { CheckResult } from './trial.ts';

export function summary(results: readonly CheckResult[]): { passed: number; failed: number } {
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed };
}

/** Aligned columns (ok/FAIL, group, title, code, latency), failures' details under their line, a summary line. */
export function formatTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [
    r.ok ? 'ok' : 'FAIL',
    r.group,
    r.title,
    r.resultCode ?? '-',
    r.latencyMs !== undefined ? `${r.latencyMs} ms` : '-',
  ]);
  const header = ['', 'group', 'check', 'code', 'latency'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header)];
  results.forEach((r, i) => {
    out.push(line(rows[i]!));
    if (!r.ok && r.detail) out.push(`${' '.repeat(widths[0]! + 2)}→ ${r.detail}`);
  });
  const { passed, failed } = summary(results);
  // Worded apart from the test runner's "N passed, N failed" line, which CI reads from the same log.
  out.push('', `conformance: ${passed} of ${results.length} checks passed, ${failed} failed`);
  return out.join('\n');
}

/** `{ ok, passed, failed, results }`, for machines (CI). */
export function formatJson(results: readonly CheckResult[]): string {
  const { passed, failed } = summary(results);
  return JSON.stringify({ ok: failed === 0, passed, failed, results }, null, 2);
}
