/**
 * What the seller's command-line tools (`npm run licenses`, `npm run keys`, `npm run proofs`, `npm run redrive`) share:
 * output, the `<command> [target] --options` shape with `--help` and its usage errors (exit code 2), the check of the
 * environment, and running as the entry point.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type * as z from 'zod';
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

/** A parsed command line, with `usageError` to refuse it for what the command itself checks. */
export type CommandLine<T extends ParseArgsOptionsConfig> =
  | { ok: true; command: string; target: string | undefined; values: OptionValues<T>; usageError: (message: string) => number }
  | { ok: false; exitCode: number };

/** `<command> [target] --options`, with `--help` (`-h`); anything else is a usage error. */
export function parseCommandLine<T extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: T,
  usage: string,
  io: CliOutput,
): CommandLine<T> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    });
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
  return {
    ok: true,
    command,
    target,
    values: parsed.values as OptionValues<T>,
    usageError: (message) => usageError(io, usage, message),
  };
}

/** The environment as `schema` reads it; undefined, once what is wrong is printed, when it does not pass (exit code 2). */
export function cliEnvironment<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> | undefined {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  console.error(`error: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return undefined;
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
