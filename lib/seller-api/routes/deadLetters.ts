import * as z from 'zod';
import { defineRoute } from '../defineRoute.ts';

/** GET /seller/dlq: how many lifecycle events wait in the provisioning queue's dead-letter queue (redrive: POST /seller/dlq/redrive). */

export interface DeadLetterRouteDeps {
  deadLetters: {
    /** The dead-letter queue's name and its approximate number of messages (visible and in flight). */
    depth(): Promise<{ queue: string; depth: number }>;
  };
}

export const deadLetterDepth = defineRoute({
  method: 'GET',
  path: '/seller/dlq',
  summary: "How many lifecycle events wait in the provisioning queue's dead-letter queue (approximate)",
  description: 'Reads the count only: nothing is received or moved. Redrive them with POST /seller/dlq/redrive once the cause is fixed.',
  scope: 'messages:read',
  response: z.object({
    queue: z.string().describe("The dead-letter queue's name"),
    depth: z.number().int().describe('Approximate number of messages, visible and in flight'),
  }),
  async handle(_input, deps: DeadLetterRouteDeps) {
    return { body: await deps.deadLetters.depth() };
  },
});
