/** What the flows of one run share: the faulting client, a plain one to read the state, the tables, the run's ids. */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StoreTables } from '#lib/store/dynamo.ts';
import { FaultInjector, storeLikeClient } from './faultInjector.ts';

export interface FaultContext {
  /** The client the flows use: it carries the injector. */
  client: DynamoDBClient;
  injector: FaultInjector;
  /** A plain client that reads the state. */
  inspect: DynamoDBClient;
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

export function faultContext(tables: StoreTables, prefix = `F${randomBytes(3).toString('hex')}`): FaultContext {
  const client = storeLikeClient();
  const injector = new FaultInjector();
  injector.install(client);
  const now = Date.now();
  return { client, injector, inspect: storeLikeClient(), tables, prefix, usageHours: [hourStart(3, now), hourStart(2, now)], counter: 0 };
}

export function closeFaultContext(ctx: FaultContext): void {
  ctx.client.destroy();
  ctx.inspect.destroy();
}

export const nextTag = (ctx: FaultContext) => `${ctx.prefix}-${(ctx.counter++).toString(36)}`;
