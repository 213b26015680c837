/** The shape of one operator command (`koogallery <area> <command> [args] [--options]`). */
import type { ParseArgsConfig } from 'node:util';
import { UsageError, type OperatorContext } from './context.ts';
import type { Answer } from './output.ts';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
/** Parsed options (no command declares `multiple`, so no arrays in practice). */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandInput {
  args: string[];
  values: OptionValues;
}

export interface Command {
  area: string;
  name: string;
  /** e.g. `keys create --name <name> --scopes <scope>[,<scope>...]` */
  synopsis: string;
  summary: string;
  options?: OptionsConfig;
  /** How many arguments follow the command: [least, most]. */
  args: readonly [number, number];
  /** The command needs no stack (it changes nothing on one): it runs with this, before any stack is looked for. */
  withoutStack?: (answer: Answer, input: CommandInput) => Promise<number>;
  run(ctx: OperatorContext, input: CommandInput): Promise<number>;
}

/** A string option's value, or undefined. */
export const text = (values: OptionValues, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

/** The option's value; a UsageError when it is missing. */
export function required(values: OptionValues, name: string, what: string): string {
  const value = text(values, name);
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required (${what})`);
  return value;
}

/** `--test` and `--real` as the listing's test filter; both at once is bad input. */
export function testFilter(values: OptionValues): 'true' | 'false' | undefined {
  if (values.test === true && values.real === true)
    throw new UsageError('--test and --real exclude each other: give one of them, or neither');
  return values.test === true ? 'true' : values.real === true ? 'false' : undefined;
}

/** A positive integer option, or undefined. */
export function positiveInt(values: OptionValues, name: string): number | undefined {
  const value = text(values, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}
