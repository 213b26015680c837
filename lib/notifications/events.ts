/**
 * The notifications of each business event, built from what the flow that noticed it knows. Ids make each event
 * told once: the same event noticed again (a retried message, a second sweep) builds the same id.
 */
import type { Notification } from './model.ts';

const instancePath = (instanceId: string) => `/seller/instances/${encodeURIComponent(instanceId)}`;
const testNote = (test: boolean | undefined) => (test ? ' (a test instance of the marketplace debugger)' : '');

export function orderPaid(i: {
  instanceId: string;
  orderId: string;
  orderLineId: string;
  productId?: string | undefined;
  at: string;
}): Notification {
  return {
    id: `order.paid:${i.orderId}:${i.orderLineId}`,
    type: 'order.paid',
    at: i.at,
    subject: `New order ${i.orderId}: instance ${i.instanceId} is ready`,
    summary: `A buyer's order ${i.orderId}${i.productId ? ` of product ${i.productId}` : ''} was provisioned: instance ${i.instanceId} is ACTIVE.`,
    target: { instanceId: i.instanceId, orderId: i.orderId, orderLineId: i.orderLineId },
    link: instancePath(i.instanceId),
  };
}

export function provisioningFailed(i: {
  instanceId: string;
  orderId: string;
  eventId: string;
  reason: string;
  test?: boolean | undefined;
  at: string;
}): Notification {
  return {
    id: `provisioning.failed:${i.instanceId}:${i.eventId}`,
    type: 'provisioning.failed',
    at: i.at,
    subject: `Provisioning failed for instance ${i.instanceId}`,
    summary:
      `The instance of order ${i.orderId}${testNote(i.test)} is PROVISIONING_FAILED: ${i.reason.slice(0, 500)}\n` +
      'Fix the cause, then retry it (seller API or operator CLI). The marketplace refunds orders that are not delivered.',
    target: { instanceId: i.instanceId, orderId: i.orderId },
    link: instancePath(i.instanceId),
  };
}

export function provisioningStuck(i: { instanceId: string; orderId: string; since: string; requeues: number; at: string }): Notification {
  return {
    id: `provisioning.stuck:${i.instanceId}:${i.since}`,
    type: 'provisioning.stuck',
    at: i.at,
    subject: `Provisioning stuck for instance ${i.instanceId}`,
    summary:
      `The instance of order ${i.orderId} has been provisioning since ${i.since} and was re-queued ${i.requeues} times ` +
      'without finishing. Look at its provisioning attempts and the dead-letter queue.',
    target: { instanceId: i.instanceId, orderId: i.orderId },
    link: instancePath(i.instanceId),
  };
}

export function usageRefused(i: { instanceId: string; beginTime: string; code: string; message: string; at: string }): Notification {
  return {
    id: `usage.refused:${i.instanceId}:${i.beginTime}`,
    type: 'usage.refused',
    at: i.at,
    subject: `Usage refused for instance ${i.instanceId}`,
    summary:
      `The marketplace refused the usage window starting ${i.beginTime} (${i.code}): ${i.message.slice(0, 500)}\n` +
      'It will not be billed until it is fixed and sent again.',
    target: { instanceId: i.instanceId },
    link: `/seller/usage?instanceId=${encodeURIComponent(i.instanceId)}`,
  };
}

const supervisionPath = (orderId: string, orderLineId: string) =>
  `/seller/supervision/${encodeURIComponent(orderId)}/${encodeURIComponent(orderLineId)}/proofs`;

/** A supervised order line whose delivery proofs the seller must now upload: a new order, or a rejected round. */
export function supervisionAwaitingProofs(i: {
  orderId: string;
  orderLineId: string;
  instanceId: string;
  /** When the flow began waiting (its `waiting.since`): one notification per waiting period. */
  since: string;
  dueAt: string;
  at: string;
}): Notification {
  return {
    id: `supervision.awaitingProofs:${i.orderId}:${i.orderLineId}:${i.since}`,
    type: 'supervision.awaitingProofs',
    at: i.at,
    subject: `Delivery proofs wanted for order ${i.orderId}`,
    summary:
      `Order line ${i.orderLineId} (instance ${i.instanceId}) is under service supervision and waits for the seller's delivery ` +
      `proofs since ${i.since}. Deliver, then upload them (seller API or koogallery proofs) by ${i.dueAt}; the line is not ` +
      'billed before the buyer accepts.',
    target: { orderId: i.orderId, orderLineId: i.orderLineId, instanceId: i.instanceId },
    link: supervisionPath(i.orderId, i.orderLineId),
  };
}

/** A supervision flow's deadline is near (or passed): the seller's proofs, or the buyer's decision on them. */
export function supervisionDeadline(i: {
  orderId: string;
  orderLineId: string;
  instanceId: string;
  waitingFor: 'proofs' | 'decision';
  since: string;
  dueAt: string;
  at: string;
}): Notification {
  const passed = Date.parse(i.dueAt) <= Date.parse(i.at);
  const what = i.waitingFor === 'proofs' ? 'the delivery proofs' : "the buyer's decision on the delivery proofs";
  return {
    id: `supervision.deadline:${i.orderId}:${i.orderLineId}:${i.waitingFor}:${i.since}`,
    type: 'supervision.deadline',
    at: i.at,
    subject: `Supervision of order ${i.orderId}: ${i.waitingFor === 'proofs' ? 'proofs' : 'decision'} due ${i.dueAt.slice(0, 16)}Z`,
    summary:
      `Order line ${i.orderLineId} (instance ${i.instanceId}) has waited for ${what} since ${i.since}; the deadline ` +
      `${passed ? 'passed at' : 'is'} ${i.dueAt}.\n` +
      (i.waitingFor === 'proofs'
        ? 'Upload the proofs now, or appeal with a letter of commitment if the buyer cannot be reached.'
        : 'Remind the buyer, or appeal an idle buyer so the order can close and settle.'),
    target: { orderId: i.orderId, orderLineId: i.orderLineId, instanceId: i.instanceId },
    link: supervisionPath(i.orderId, i.orderLineId),
  };
}

export function statementWritten(i: { month: string; version: number; lines: number; problems: number; at: string }): Notification {
  const withProblems = i.problems > 0;
  return {
    id: `statement.${withProblems ? 'problems' : 'ready'}:${i.month}:v${i.version}`,
    type: withProblems ? 'statement.problems' : 'statement.ready',
    at: i.at,
    subject: withProblems
      ? `Statement ${i.month} v${i.version}: ${i.problems} problem${i.problems === 1 ? '' : 's'}`
      : `Statement ${i.month} v${i.version} is ready`,
    summary: withProblems
      ? `The statement of ${i.month} (version ${i.version}, ${i.lines} lines) lists ${i.problems} problems to look at before the month is closed.`
      : `The statement of ${i.month} (version ${i.version}, ${i.lines} lines) is ready to read and to close.`,
    target: { month: i.month },
    link: `/seller/statements/${i.month}`,
  };
}

export function reconciliationDifferences(i: {
  month: string;
  version: number;
  uploadId: string;
  amountDiffers: number;
  onlyOurs: number;
  onlyTheirs: number;
  at: string;
}): Notification | undefined {
  const differences = i.amountDiffers + i.onlyOurs + i.onlyTheirs;
  if (differences === 0) return undefined;
  return {
    id: `reconciliation.differences:${i.month}:${i.uploadId}:v${i.version}`,
    type: 'reconciliation.differences',
    at: i.at,
    subject: `Bill of ${i.month}: ${differences} difference${differences === 1 ? '' : 's'} with our statement`,
    summary:
      `The marketplace's bill export for ${i.month} and our statement version ${i.version} differ: ${i.amountDiffers} amounts differ, ` +
      `${i.onlyOurs} lines only in ours, ${i.onlyTheirs} only in the bill.`,
    target: { month: i.month },
    link: `/seller/statements/${i.month}/reconciliation`,
  };
}

/** Told at most once a day per queue while it holds messages. */
export function dlqNotEmpty(i: { queue: string; messages: number; at: string }): Notification {
  return {
    id: `dlq.notEmpty:${i.queue}:${i.at.slice(0, 10)}`,
    type: 'dlq.notEmpty',
    at: i.at,
    subject: `Dead-letter queue ${i.queue} holds ${i.messages} message${i.messages === 1 ? '' : 's'}`,
    summary:
      `${i.messages} lifecycle events failed five times and wait in ${i.queue}. Fix the cause, then redrive them ` +
      '(seller API or operator CLI).',
    target: { queue: i.queue },
  };
}
