import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { config } from '../lib/config.ts';
import { log } from '../lib/log.ts';
import { settlementDeps } from '../lib/settlement/deps.ts';
import { settlementDynamoClient } from '../lib/aws/clients.ts';
import { parseSettlementMessage } from '../lib/settlement/messages.ts';
import type { SettlementDeps } from '../lib/settlement/ports.ts';
import { abandonRun, handleSettlementMessage, SETTLEMENT_MAX_RECEIVES } from '../lib/settlement/worker.ts';

/**
 * Consumes the settlement queue (Powertools batch, partial failures): settles one segment of a month, or assembles
 * the statement once every segment is done. A failed record returns to the queue; on its last receive the run is
 * marked FAILED and the message goes to the dead-letter queue. A message that is not a settlement message fails
 * at once and changes nothing.
 */

let deps: SettlementDeps | undefined;
const settlement = (): SettlementDeps => (deps ??= settlementDeps(config(), { dynamo: settlementDynamoClient(), log }));

const processor = new BatchProcessor(EventType.SQS);

async function record(message: SQSRecord): Promise<void> {
  const parsed = parseSettlementMessage(message.body);
  if (!parsed.ok) {
    log.error('invalid settlement message', { messageId: message.messageId, issue: parsed.issue });
    throw new Error(`invalid settlement message: ${parsed.issue}`);
  }
  try {
    const outcome = await handleSettlementMessage(settlement(), parsed.value);
    if (outcome.outcome === 'skipped') log.info('settlement message skipped', { messageId: message.messageId, reason: outcome.reason });
  } catch (error) {
    const receives = Number(message.attributes?.ApproximateReceiveCount ?? '1');
    log.warn('settlement message failed; the queue will retry it', {
      messageId: message.messageId,
      type: parsed.value.type,
      period: parsed.value.period,
      runId: parsed.value.runId,
      receives,
      error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    });
    if (receives >= SETTLEMENT_MAX_RECEIVES) await abandonRun(settlement(), parsed.value, error).catch(() => undefined);
    throw error;
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, record, processor, { context, throwOnFullBatchFailure: false });
}
