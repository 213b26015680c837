/** What the flows of one run share: the faulting client, a plain one to read the state, the tables, the run's ids. */
import { randomBytes } from 'node:crypto';
import type { DynamoDb } from '#lib/aws/clients.ts';
import type { StoreTables } from '#lib/store/dynamo.ts';
import { FaultInjector, storeLikeClient } from './faultInjector.ts';

export interface FaultContext {
  /** The client the flows use: it carries the injector. */
  client: DynamoDb;
  injector: FaultInjector;
  /** A plain client that reads the state. */
  inspect: DynamoDb;
  tables: StoreTables;
  /** Unique per run: the start of every id the flows invent. */
  prefix: string;
  /** Usage windows: hour starts (ISO) fixed for the run, so every case reports into the same windows. */
  usageHours: [string, string];
  /** Next id number. */
  counter: number;
}

export const HOUR_MS = 3_600_000;
const hourStart = (hoursAgo: number, now: number) => new Date(now - (now % HOUR_MS) - hoursAgo * HOUR_MS).toISOString();

export interface FaultContextOptions {
  /** Unique per run (default: random). */
  prefix?: string;
  /** A layer between the injector and the client (a broken store, to show the checks notice it). */
  beneath?: (client: DynamoDb) => DynamoDb;
}

export function faultContext(tables: StoreTables, options: FaultContextOptions = {}): FaultContext {
  const { prefix = `F${randomBytes(3).toString('hex')}`, beneath = (client: DynamoDb) => client } = options;
  const injector = new FaultInjector();
  const client = injector.wrap(beneath(storeLikeClient(injector.sendAttempt)));
  const now = Date.now();
  return { client, injector, inspect: storeLikeClient(), tables, prefix, usageHours: [hourStart(3, now), hourStart(2, now)], counter: 0 };
}

export function closeFaultContext(ctx: FaultContext): void {
  ctx.client.destroy();
  ctx.inspect.destroy();
}

export const nextTag = (ctx: FaultContext) => `${ctx.prefix}-${(ctx.counter++).toString(36)}`;
