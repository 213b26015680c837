import { settlementDynamoClient } from '#lib/aws/clients.ts';
import { sqsConsumer } from '#lib/aws/sqsConsumer.ts';
import { config } from '#lib/config.ts';
import { log } from '#lib/log.ts';
import { settlementDeps } from '#lib/settlement/deps.ts';
import { parseSettlementMessage } from '#lib/settlement/messages.ts';
import { abandonRun, handleSettlementMessage, SETTLEMENT_MAX_RECEIVES } from '#lib/settlement/worker.ts';
import { lazy } from '#lib/shared/lazy.ts';

/**
 * Consumes the settlement queue: settles one segment of a month, or assembles the statement once every segment is
 * done. A failed record returns to the queue; on its last receive the run is marked FAILED and the message goes to
 * the dead-letter queue. A message that is not a settlement message fails at once and changes nothing.
 */
const deps = lazy(() => settlementDeps(config(), { dynamo: settlementDynamoClient(), log }));

export const handler = sqsConsumer({
  kind: 'settlement message',
  parse: parseSettlementMessage,
  handle: async (message, record) => {
    const outcome = await handleSettlementMessage(deps(), message);
    if (outcome.outcome === 'skipped') log.info('settlement message skipped', { messageId: record.messageId, reason: outcome.reason });
  },
  describe: (message) => ({ type: message.type, period: message.period, runId: message.runId }),
  failed: async (message, error, receives) => {
    if (receives >= SETTLEMENT_MAX_RECEIVES) await abandonRun(deps(), message, error).catch(() => undefined);
  },
  log,
});
