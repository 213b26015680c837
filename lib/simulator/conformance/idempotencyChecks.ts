/**
 * Idempotency checks (§3.9): a call sent again, or concurrently, gives the same instance and the same answer; debug
 * traffic (testFlag=1) works end to end.
 */
import { newOrderId, requestBody } from '../requests.ts';
import { codeOf, OK } from './answerRule.ts';
import { renewal } from './checkRequests.ts';
import type { CheckDef } from './trial.ts';

export const idempotencyChecks: CheckDef[] = [
  {
    id: 'idem.resend',
    group: 'idempotency',
    title: 'the same newInstance sent 3 times gives one instanceId (§3.1)',
    run: async (t) => {
      // A resend has the same order line, a new businessId (spec §3.1) and a new nonce.
      const orderId = newOrderId();
      const ids = new Set<string>();
      for (let i = 1; i <= 3; i++) {
        const { instanceId } = await t.newInstance({ orderId }, `newInstance #${i}`);
        ids.add(instanceId);
      }
      if (ids.size > 1) t.fail(`${ids.size} different instanceIds: ${[...ids].join(', ')}`);
    },
  },
  {
    id: 'idem.concurrent',
    group: 'idempotency',
    title: '10 concurrent copies of a newInstance give one instanceId',
    run: async (t) => {
      const orderId = newOrderId();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => t.s.client.call(requestBody('newInstance', { orderId }), { timeoutMs: t.s.timeoutMs })),
      );
      const ids = new Set<string>();
      results.forEach((r, i) => {
        t.judge(`copy #${i + 1}`, r, { v1: false, expect: [OK] });
        if (typeof r.json?.instanceId === 'string') ids.add(r.json.instanceId);
        else if (codeOf(r) === OK) t.fail(`copy #${i + 1}: answered ${OK} without an instanceId`);
      });
      if (ids.size > 1) t.fail(`${ids.size} different instanceIds for one order line`);
    },
  },
  {
    id: 'idem.renewal',
    group: 'idempotency',
    title: 'the same renewal order sent twice answers 000000 both times',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      const body = renewal(instanceId);
      await t.send({ label: 'renewal', body, expect: [OK] });
      await t.send({ label: 'same renewal again', body, expect: [OK] });
      await t.send({ label: 'queryInstance after the renewals', body: requestBody('queryInstance', { instanceId }), expect: [OK] });
    },
  },
  {
    id: 'idem.debug',
    group: 'idempotency',
    title: 'debug traffic (testFlag=1): newInstance and queryInstance work end to end',
    run: async (t) => {
      const { instanceId } = await t.newInstance({ testFlag: '1' }, 'debug newInstance');
      const r = await t.poll('debug queryInstance', () => requestBody('queryInstance', { instanceId, testFlag: '1' }));
      if (codeOf(r) !== OK) return;
      const info = r.json?.info;
      if (
        !Array.isArray(info) ||
        !info.some((i: unknown) => i !== null && typeof i === 'object' && (i as Record<string, unknown>).instanceId === instanceId)
      ) {
        t.fail('debug queryInstance: info has no entry for the instance');
      }
    },
  },
];
