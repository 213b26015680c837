/**
 * The operator CLI: `npx koogallery <area> <command> [arguments] [--options]`, against the local stack (no
 * setting: `npm start` publishes what it needs) or a deployed stage (`--stage NAME [--region R]`).
 * `--json` answers one JSON document for scripts; `--help` works anywhere and needs no stack.
 * Exit codes: 0 done, 1 refused (no such thing, not in a state to do it), 2 bad input or no stack to work on.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '#lib/shared/errors.ts';
import { consoleOutput, type CliOutput } from '../local/cli.ts';
import { STACK_FILE } from '../local/stackFile.ts';
import type { Command } from './command.ts';
import { CommandExit, operatorContext, refusalOf, UsageError, type ActionRecorder } from './context.ts';
import { instanceCommands } from './instances.ts';
import { keyCommands } from './keys.ts';
import { kitKeygenCommands } from './kitKeygen.ts';
import { kitTenantCommands } from './kitTenants.ts';
import { licenseCommands } from './licenses.ts';
import { messageCommands } from './messages.ts';
import { notificationCommands } from './notifications.ts';
import { proofCommands } from './proofs.ts';
import { reconciliationCommands } from './reconciliation.ts';
import {
  applySettings,
  describeOutputs,
  localSettings,
  SettingsError,
  stageSettings,
  type DescribeOutputs,
  type OperatorSettings,
} from './settings.ts';
import { statementCommands } from './statements.ts';
import { usageCommands } from './usage.ts';

export const COMMANDS: readonly Command[] = [
  ...keyCommands,
  ...instanceCommands,
  ...messageCommands,
  ...notificationCommands,
  ...statementCommands,
  ...reconciliationCommands,
  ...usageCommands,
  ...licenseCommands,
  ...proofCommands,
  ...kitKeygenCommands,
  ...kitTenantCommands,
];

const AREAS = [...new Set(COMMANDS.map((c) => c.area))];

const GLOBAL_OPTIONS = `Options (every command):
  --stage <name>   a deployed stage: reads the stack koogallery-isv-<name> (AWS credentials from the usual chain)
  --region <r>     the stage's region (default: AWS_REGION, else ap-southeast-1)
  --json           answer in JSON, for scripts
  --help, -h       this help; needs no stack
Without --stage: the local stack that \`npm start\` runs.`;

function usage(area?: string, command?: Command): string {
  if (command) return `Usage: koogallery ${command.synopsis}\n  ${command.summary}\n\n${GLOBAL_OPTIONS}`;
  const shown = area ? COMMANDS.filter((c) => c.area === area) : COMMANDS;
  const lines = shown.map((c) => `  koogallery ${c.synopsis}\n      ${c.summary}`);
  return `Usage: koogallery <area> <command> [arguments] [--options]\nAreas: ${AREAS.join(', ')}\n\n${lines.join('\n')}\n\n${GLOBAL_OPTIONS}`;
}

interface GlobalOptions {
  stage?: string;
  region?: string;
  json: boolean;
  help: boolean;
  /** The command line without them. */
  rest: string[];
}

/** Takes the options every command shares out of the line, wherever they are. */
function globalOptions(argv: readonly string[]): GlobalOptions {
  const found: GlobalOptions = { json: false, help: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--stage' || name === '--region') {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('-')) throw new UsageError(`${name} needs a value`);
      found[name === '--stage' ? 'stage' : 'region'] = value;
    } else if (arg === '--json') found.json = true;
    else if (arg === '--help' || arg === '-h') found.help = true;
    else found.rest.push(arg);
  }
  if (found.region !== undefined && found.stage === undefined) throw new UsageError('--region names the region of a --stage');
  return found;
}

/** The command's arguments and options, checked against what it takes. */
function commandInput(command: Command, rest: readonly string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: rest.slice(2), options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const [least, most] = command.args;
  const args = parsed.positionals;
  if (args.length < least)
    throw new UsageError(`${command.area} ${command.name} needs ${least === 1 ? 'an argument' : `${least} arguments`}`);
  if (args.length > most) throw new UsageError(`unexpected argument ${JSON.stringify(args[most])}`);
  return { args, values: parsed.values };
}

export interface RunOptions {
  io?: CliOutput;
  /** The local stack's file (default .local/stack.json). */
  stackFile?: string;
  /** Reads a stage's stack outputs (default: CloudFormation DescribeStacks). */
  describe?: DescribeOutputs;
  now?: () => number;
  record?: ActionRecorder;
  principal?: () => Promise<string>;
  /** The environment the settings are applied to (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

async function settingsFor(options: GlobalOptions, run: RunOptions): Promise<OperatorSettings> {
  if (options.stage !== undefined)
    return stageSettings(options.stage, options.region, run.describe ?? describeOutputs, run.env ?? process.env);
  return localSettings(run.stackFile ?? STACK_FILE);
}

/** Runs one command line (without `node` and the script); returns the exit code. */
export async function runKoogallery(argv: readonly string[], run: RunOptions = {}): Promise<number> {
  const io = run.io ?? consoleOutput;
  let command: Command | undefined;
  let area: string | undefined;
  try {
    const options = globalOptions(argv);
    [area] = options.rest;
    const name = options.rest[1];
    command = COMMANDS.find((c) => c.area === area && c.name === name);
    if (options.help) {
      io.out(usage(AREAS.includes(area ?? '') ? area : undefined, command));
      return 0;
    }
    if (area === undefined) throw new UsageError('name an area and a command');
    if (!AREAS.includes(area)) throw new UsageError(`unknown area ${JSON.stringify(area)}`);
    if (!command)
      throw new UsageError(name === undefined ? `name a command of ${area}` : `unknown command ${JSON.stringify(`${area} ${name}`)}`);
    const input = commandInput(command, options.rest);
    if (command.withoutStack) return await command.withoutStack({ io, json: options.json }, input);
    const settings = await settingsFor(options, run);
    applySettings(settings, run.env ?? process.env);
    const ctx = operatorContext(settings, {
      io,
      json: options.json,
      ...(run.now ? { now: run.now } : {}),
      ...(run.record ? { record: run.record } : {}),
      ...(run.principal ? { principal: run.principal } : {}),
    });
    return await command.run(ctx, input);
  } catch (error) {
    if (error instanceof CommandExit) return error.code;
    if (error instanceof SettingsError) {
      io.err(`error: ${error.message}`);
      return 2;
    }
    const refusal = refusalOf(error);
    if (refusal instanceof UsageError) {
      io.err(`error: ${refusal.message}`);
      io.err(
        command
          ? `usage: koogallery ${command.synopsis}`
          : 'see: koogallery --help' + (area && AREAS.includes(area) ? ` (or koogallery ${area} --help)` : ''),
      );
      return 2;
    }
    if (refusal) {
      io.err(`error: ${refusal.message}`);
      return 1;
    }
    io.err(`error: ${errorMessage(error)}`);
    return 1;
  }
}
