/**
 * What every operator command gets: the stack's settings, the answer's form (table or JSON), the flows' dependencies
 * (built once, on first use), the operator's principal, and `operatorAction`, the one door every change goes
 * through, so each change is recorded with who made it.
 */
import { dynamoClient } from '#lib/aws/clients.ts';
import { recordSellerActionOrLog } from '#lib/audit/sellerActions.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { hostname, userInfo } from 'node:os';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseConfig, type Config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import type { SellerDeps } from '#lib/seller-api/allRoutes.ts';
import type { AnyRoute, Route } from '#lib/seller-api/defineRoute.ts';
import { sellerContext } from '#lib/seller-api/deps.ts';
import { SellerApiError } from '#lib/seller-api/errors.ts';
import { InvalidQueryError } from '#lib/seller-api/ports.ts';
import { errorMessage } from '#lib/shared/errors.ts';
import { issuesMessage, Refusal } from '#lib/shared/refusal.ts';
import { iso } from '#lib/shared/time.ts';
import type { CliOutput } from '../local/cli.ts';
import type { Answer } from './output.ts';
import { SettingsError, type OperatorSettings } from './settings.ts';

/** Bad input (exit code 2): nothing was changed; the message says what to give instead. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The request was understood and refused (exit code 1): no such thing, or not in a state to do it. */
export class Refused extends Error {
  override name = 'Refused';
}

/** A command that printed its own refusal and ends the CLI with this exit code. */
export class CommandExit extends Error {
  override name = 'CommandExit';
  constructor(readonly code: number) {
    super(`exit code ${code}`);
  }
}

/** One operator change: who, what, to what, with what result, when. */
export interface OperatorActionRecord {
  actor: string;
  action: string;
  target: string;
  result: 'done' | 'refused' | 'failed';
  at: string;
  /** Why it was refused or failed. */
  message?: string;
}

/** Keeps the record of an operator change (the audit table's writer plugs in here). */
export type ActionRecorder = (record: OperatorActionRecord) => Promise<void>;

export interface OperatorContext {
  settings: OperatorSettings;
  answer: Answer;
  io: CliOutput;
  now: () => number;
  log: Log;
  /** The functions' configuration, from the stack's settings. */
  config: () => Config;
  /** The seller API's flows (views, usage, supervision, statements) on this stack. */
  seller: () => SellerDeps;
  /** Who runs the CLI: the AWS principal on a stage, `local:<user>@<host>` locally. */
  principal: () => Promise<string>;
  record: ActionRecorder;
}

/** The flows' log for a command line: warnings and errors on stderr, the rest kept quiet. */
export function cliLog(io: CliOutput): Log {
  const line = (level: string) => (message: string, extra?: Record<string, unknown>) =>
    io.err(`${level}: ${message}${extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : ''}`);
  return { info: () => undefined, warn: line('warning'), error: line('error') };
}

/** The AWS principal the default credential chain resolves to (STS GetCallerIdentity). */
export async function awsPrincipal(region: string): Promise<string> {
  const sts = new STSClient({ region, maxAttempts: 2 });
  try {
    const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
    if (!Arn) throw new Error('STS answered no ARN');
    return Arn;
  } catch (error) {
    throw new SettingsError(`could not tell who you are on AWS (STS GetCallerIdentity): ${errorMessage(error)}`);
  } finally {
    sts.destroy();
  }
}

/** The operator's principal: on a stage the AWS identity, locally `local:<user>@<host>`. */
export function operatorPrincipal(
  settings: OperatorSettings,
  aws: (region: string) => Promise<string> = awsPrincipal,
): () => Promise<string> {
  let found: Promise<string> | undefined;
  return () =>
    (found ??= settings.source === 'stage' ? aws(settings.region) : Promise.resolve(`local:${userInfo().username}@${hostname()}`));
}

/**
 * Settings the functions' configuration cross-checks but the CLI never uses: it neither calls the marketplace's Open
 * API nor verifies the marketplace's calls, so a stage's outputs name no secret. The local stack's own values win.
 */
const UNUSED_BY_THE_CLI = { ORDER_QUERY: 'false', KOOGALLERY_ACCESS_KEY_PARAMETER: 'not-read-by-the-operator-cli' };

export interface ContextOptions {
  io: CliOutput;
  json: boolean;
  now?: () => number;
  record?: ActionRecorder;
  principal?: () => Promise<string>;
}

/** The context of one command line on the stack `settings` describes. */
export function operatorContext(settings: OperatorSettings, options: ContextOptions): OperatorContext {
  const log = cliLog(options.io);
  let config: Config | undefined;
  let seller: SellerDeps | undefined;
  const ctx: OperatorContext = {
    settings,
    answer: { io: options.io, json: options.json },
    io: options.io,
    now: options.now ?? Date.now,
    log,
    config: () => (config ??= parseConfig({ ...UNUSED_BY_THE_CLI, ...settings.env })),
    seller: () => (seller ??= sellerContext(ctx.config(), log).deps),
    principal: options.principal ?? operatorPrincipal(settings),
    record: options.record ?? ((record) => auditTableRecorder(ctx)(record)),
  };
  return ctx;
}

/**
 * Writes each operator change to the stack's audit table as a seller action of an `operator` actor, like the seller
 * API's router writes a key's (lib/audit/sellerActions.ts). A record that cannot be written is an error on stderr;
 * the change itself is done by then.
 */
export function auditTableRecorder(ctx: OperatorContext): ActionRecorder {
  return async (record) => {
    await recordSellerActionOrLog(
      { actions: sellerActionLog(dynamoClient(), ctx.config().AUDIT_TABLE), now: ctx.now, log: ctx.log },
      {
        actor: { kind: 'operator', principal: record.actor },
        action: record.action,
        target: record.target ? { id: record.target.slice(0, 256) } : {},
        result: { outcome: record.result === 'done' ? 'ok' : record.result },
        channel: 'operator',
        at: record.at,
      },
    );
  };
}

/** A refusal of a flow or a route as the CLI reports it; undefined for a failure. */
export function refusalOf(error: unknown): UsageError | Refused | undefined {
  if (error instanceof UsageError || error instanceof Refused) return error;
  if (error instanceof CommandExit) return error.code === 2 ? new UsageError(error.message) : new Refused(error.message);
  if (error instanceof InvalidQueryError) return new UsageError(error.message);
  const code = error instanceof Refusal || error instanceof SellerApiError ? error.code : undefined;
  if (code === undefined) return undefined;
  const message = errorMessage(error);
  return code === 'invalid_request' || code === 'unprocessable' || code === 'invalid_json' ? new UsageError(message) : new Refused(message);
}

/**
 * Every change the CLI makes runs here: it names the operator, runs the change, and records the outcome (done,
 * refused, failed) with the action and its target.
 */
export async function operatorAction<T>(ctx: OperatorContext, action: string, target: string, run: () => Promise<T>): Promise<T> {
  const actor = await ctx.principal();
  const done = (result: OperatorActionRecord['result'], message?: string) =>
    ctx.record({ actor, action, target, result, at: iso(ctx.now()), ...(message ? { message } : {}) });
  let value: T;
  try {
    value = await run();
  } catch (error) {
    await done(refusalOf(error) ? 'refused' : 'failed', errorMessage(error));
    throw error;
  }
  await done('done');
  return value;
}

/** Runs a seller API route in process: its schemas check the input (a refusal is a UsageError), then its flow runs. */
export async function callRoute<R>(
  ctx: OperatorContext,
  route: Route<unknown, unknown, unknown, R, SellerDeps>,
  input: { params?: Record<string, string>; query?: Record<string, string | undefined>; body?: unknown },
): Promise<R> {
  const check = (schema: AnyRoute<SellerDeps>['params'], value: unknown, where: string): unknown => {
    if (!schema) return undefined;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new UsageError(issuesMessage(parsed.error, where));
    return parsed.data;
  };
  const query = Object.fromEntries(Object.entries(input.query ?? {}).filter(([, v]) => v !== undefined));
  const answer = await route.handle(
    {
      params: check(route.params, input.params ?? {}, 'argument'),
      query: check(route.query, query, 'option'),
      body: check(route.body, input.body, 'input'),
      key: undefined,
      correlationId: `cli-${ctx.now()}`,
      now: ctx.now(),
    },
    ctx.seller(),
  );
  return answer.body;
}
