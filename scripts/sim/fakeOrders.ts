import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { orderTime } from '#lib/simulator/requests.ts';
import { addPeriod, mockOrder, type FakeOrder, type MockOrderId } from '../local/fake-openapi.ts';

/**
 * Orders on the fake Open API (scripts/local/fake-openapi.ts), so a server that queries every order (Query Order,
 * spec §8.1) finds the ones the simulator invents: a new order id with the terms of one of the marketplace's mock
 * orders.
 */

/** An order in the terms of a marketplace mock order, under a new id, created now (expiring a period from now). */
export function orderLike(
  mock: MockOrderId,
  orderId: string,
  nowMs: number,
  overrides: { orderType?: string; expireTime?: string } = {},
): FakeOrder {
  const template = mockOrder(mock, 1);
  const createTime = orderTime(nowMs);
  return {
    ...template,
    orderId,
    createTime,
    ...(overrides.orderType ? { orderType: overrides.orderType } : {}),
    orderLine: template.orderLine.map((line) => {
      const expireTime =
        overrides.expireTime ??
        (line.periodType ? addPeriod(createTime, line.periodType as 'year' | 'month' | 'day', line.periodNumber ?? 1) : undefined);
      return { ...line, orderLineId: `${orderId}-000001`, ...(expireTime ? { expireTime } : {}) };
    }),
  };
}

/** The mock order whose terms an activity's order takes. */
const MOCK_FOR: Record<string, MockOrderId> = {
  newInstance: 'MOCKPERIODYEARNEW',
  refreshInstance: 'MOCKMONTYRENEW',
  upgradeInstance: 'MOCKMONTYCHANGE',
  upgrade: 'MOCKMONTYCHANGE',
};

/**
 * A hook for the marketplace client: before a call carrying a new order (newInstance, a renewal, an upgrade; V2 or
 * V1), registers that order on the fake at `openApiUrl`. Best effort: an order the fake refuses (a deliberately
 * invalid id) is left to the server to refuse.
 */
export function registerOrdersOn(openApiUrl: string, nowMs: () => number = Date.now): (body: JsonObject) => Promise<void> {
  const target = `${openApiUrl.replace(/\/+$/, '')}/fake/orders`;
  return async (body) => {
    const mock = typeof body.activity === 'string' ? MOCK_FOR[body.activity] : undefined;
    if (!mock || typeof body.orderId !== 'string') return;
    const order = orderLike(mock, body.orderId, nowMs());
    if (typeof body.orderLineId === 'string')
      order.orderLine = order.orderLine.map((line) => ({ ...line, orderLineId: String(body.orderLineId) }));
    await fetch(target, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(order),
      signal: AbortSignal.timeout(3_000),
    }).catch(() => undefined);
  };
}
