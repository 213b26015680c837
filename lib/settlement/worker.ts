import { errorText } from '#lib/shared/errors.ts';
import { iso } from '#lib/shared/time.ts';
import { assemble } from './assemble.ts';
import type { MessageOutcome, SettlementMessage } from './messages.ts';
import type { SettlementDeps } from './ports.ts';
import { runSegment } from './segment.ts';

/**
 * The settlement worker's V8 heap limit (serverless.yml sets `NODE_OPTIONS=--max-old-space-size=<this>`): a segment
 * holds one shard's sorted lines and a page of input, the assembly one batch per part, so its live set is small, and
 * a bounded heap keeps memory flat as months grow instead of letting garbage pile up (docs/performance.md).
 */
export const WORKER_HEAP_MB = 192;

/** A message is received at most this many times before it goes to the dead-letter queue (resources/sqs.yml). */
export const SETTLEMENT_MAX_RECEIVES = 5;

/** Handles one settlement queue message. */
export function handleSettlementMessage(deps: SettlementDeps, message: SettlementMessage): Promise<MessageOutcome> {
  return message.type === 'segment' ? runSegment(deps, message) : assemble(deps, message);
}

/** A message that failed for the last time (it goes to the dead-letter queue): its run is FAILED. */
export async function abandonRun(deps: SettlementDeps, message: SettlementMessage, error: unknown): Promise<void> {
  const reason = `${message.type === 'segment' ? `segment ${message.kind} ${message.shard}` : 'assembly'} failed ${SETTLEMENT_MAX_RECEIVES} times: ${errorText(error)}`;
  await deps.statements.failRun(message.period, message.runId, reason, iso(deps.now()));
  deps.log.error('settlement run failed', { period: message.period, runId: message.runId, reason });
}
