/** Figures as the scripts' reports print them: counts, durations, memory, percentiles, the machine. */
import { cpus, totalmem } from 'node:os';

/** A number with thousands separators (en-US). */
export const int = (n: number) => n.toLocaleString('en-US');

/** Milliseconds as seconds, one decimal. */
export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Bytes as whole MiB; `n/a` when not known. */
export const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`);

/** The value at percentile `p` (0 to 100) of numbers sorted ascending; 0 when there are none. */
export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

/** The machine a run measured on: cores, CPU model, RAM and Node version. */
export const machineLine = () =>
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${mib(totalmem())} RAM, Node ${process.versions.node}`;
