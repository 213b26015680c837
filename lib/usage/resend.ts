import type { UsageLedger, UsageWindow } from './ports.ts';
import { MAX_AGE_MS } from './windows.ts';
import { iso } from '#lib/shared/time.ts';

/**
 * Sending a refused usage window again, once the seller fixed the cause (a product's usage setting, the AK/SK…):
 * REJECTED → OPEN and due for the next hourly push, which seals it under the next revision, so the record it sends
 * carries a new metering_sn and is not taken for the refused one (docs/decisions.md). Only a REJECTED window moves;
 * a refused request changes nothing.
 */

export type ResendResult =
  { ok: true; window: UsageWindow } | { ok: false; code: 'not_found' | 'conflict' | 'unprocessable'; reason: string };

export async function resendRejectedWindow(
  target: { instanceId: string; beginTime: string },
  deps: { ledger: UsageLedger; now: () => number },
): Promise<ResendResult> {
  const [window] = await deps.ledger.getWindows([target]);
  if (!window) return { ok: false, code: 'not_found', reason: `no usage window of ${target.instanceId} beginning ${target.beginTime}` };
  if (window.state !== 'REJECTED') {
    return { ok: false, code: 'conflict', reason: `the window is ${window.state}: only a REJECTED window can be sent again` };
  }
  const nowMs = deps.now();
  // The marketplace refuses begin times older than 21 days (MKT.9004): the push would refuse it again unsent.
  if (Date.parse(window.beginTime) < nowMs - MAX_AGE_MS) {
    return { ok: false, code: 'unprocessable', reason: 'the window began more than 21 days ago: the marketplace no longer takes it' };
  }
  const reopened = await deps.ledger.resend(window, iso(nowMs));
  if (!reopened) return { ok: false, code: 'conflict', reason: 'the window changed meanwhile: read it again' };
  return { ok: true, window: reopened };
}
