/**
 * What the seller's command-line tools (`npm run licenses`, `npm run keys`) share: output, the
 * `<command> [target] --options` shape with its usage errors (exit code 2), and running as the entry point.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage } from '#lib/shared/errors.ts';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const consoleOutput: CliOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Prints the error and the usage; the exit code of a usage error. */
export function usageError(io: CliOutput, usage: string, message: string): number {
  io.err(`error: ${message}`);
  io.err(usage);
  return 2;
}

/** The parsed options: strings and booleans, absent when not given. */
export type OptionValues<T extends ParseArgsOptionsConfig> = { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };

export type CommandLine<T extends ParseArgsOptionsConfig> =
  { ok: true; command: string; target: string | undefined; values: OptionValues<T> } | { ok: false; exitCode: number };

/** `<command> [target] --options`, with `--help`; anything else is a usage error. */
export function parseCommandLine<T extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: T,
  usage: string,
  io: CliOutput,
): CommandLine<T> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    return { ok: false, exitCode: usageError(io, usage, errorMessage(error)) };
  }
  const [command, target, ...extra] = parsed.positionals;
  if ((parsed.values as Record<string, unknown>).help) {
    io.out(usage);
    return { ok: false, exitCode: 0 };
  }
  if (command === undefined) return { ok: false, exitCode: usageError(io, usage, 'a command is required') };
  if (extra.length > 0) return { ok: false, exitCode: usageError(io, usage, `unexpected argument ${JSON.stringify(extra[0])}`) };
  return { ok: true, command, target, values: parsed.values as OptionValues<T> };
}

/** Whether `moduleUrl` (a module's import.meta.url) is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  try {
    return entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs `main` when `moduleUrl` is the script node was started with, and sets the exit code. */
export function runIfMain(moduleUrl: string, main: () => Promise<number>): void {
  if (!isEntryPoint(moduleUrl)) return;
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`error: ${errorMessage(error)}`);
      process.exitCode = 1;
    },
  );
}
