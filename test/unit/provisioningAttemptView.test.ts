import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Instance, ProvisioningAttempt } from '#lib/instances/model.ts';
import { PROVISIONING_VISIBILITY_SECONDS, provisioningAttemptView } from '#lib/provisioning/attemptView.ts';
import { CALL_LIFETIME_MS } from '#lib/provisioning/worker.ts';

/** When the seller is told a provisioning retry is due, and when not. */

const START = Date.parse('2026-03-01T10:00:00.000Z');
const REDELIVERY = '2026-03-01T10:03:00.000Z';
const instance = (fields: Partial<Instance> = {}): Instance => ({
  instanceId: 'i-1',
  orderId: 'o-1',
  orderLineId: 'o-1-000001',
  businessId: 'i-1',
  state: 'PROVISIONING',
  test: false,
  createdAt: '2026-03-01T09:59:00.000Z',
  updatedAt: '2026-03-01T09:59:00.000Z',
  version: 1,
  ...fields,
});
const attempt = (fields: Partial<ProvisioningAttempt> = {}): ProvisioningAttempt => ({
  instanceId: 'i-1',
  eventId: 'i-1:1',
  attempts: 2,
  status: 'answered',
  startedAt: new Date(START).toISOString(),
  answeredAt: new Date(START + 5_000).toISOString(),
  lastError: 'webhook: HTTP 503',
  ...fields,
});

describe('provisioningAttemptView', () => {
  it("uses the provisioning queue's visibility timeout of serverless.yml", () => {
    expect(readFileSync('serverless.yml', 'utf8')).toMatch(
      new RegExp(`provisioningVisibilitySeconds: ${PROVISIONING_VISIBILITY_SECONDS}\\n`),
    );
  });

  it('a failed call of an instance still waiting: the queue delivers again a visibility timeout after the call started', () => {
    expect(provisioningAttemptView(instance(), attempt(), START + 60_000)).toEqual({
      attempts: 2,
      status: 'answered',
      startedAt: '2026-03-01T10:00:00.000Z',
      answeredAt: '2026-03-01T10:00:05.000Z',
      lastError: 'webhook: HTTP 503',
      nextRetryAt: REDELIVERY,
    });
  });

  it('a call in flight has no retry due; one whose worker died has', () => {
    const calling = attempt({ status: 'calling', answeredAt: undefined, lastError: undefined });
    expect(provisioningAttemptView(instance(), calling, START + 10_000)).not.toHaveProperty('nextRetryAt');
    expect(provisioningAttemptView(instance(), calling, START + CALL_LIFETIME_MS).nextRetryAt).toBe(REDELIVERY);
  });

  it('no retry is shown once its time passed, nor for an instance provisioned, failed for good or reported stuck', () => {
    expect(provisioningAttemptView(instance(), attempt(), START + 180_000)).not.toHaveProperty('nextRetryAt');
    for (const done of [
      instance({ state: 'ACTIVE', appInfo: { frontEndUrl: 'https://t.example.com' } }),
      instance({ state: 'PROVISIONING_FAILED' }),
      instance({ provisioning: { stuckSince: '2026-03-01T11:00:00.000Z' } }),
    ])
      expect(provisioningAttemptView(done, attempt(), START + 60_000), done.state).not.toHaveProperty('nextRetryAt');
  });

  it('a successful call shows no error', () => {
    const ok = provisioningAttemptView(instance({ state: 'ACTIVE' }), attempt({ lastError: undefined }), START);
    expect(ok).toEqual({ attempts: 2, status: 'answered', startedAt: '2026-03-01T10:00:00.000Z', answeredAt: '2026-03-01T10:00:05.000Z' });
  });
});
