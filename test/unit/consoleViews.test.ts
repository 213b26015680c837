import { describe, expect, it } from 'vitest';
import { shownBody } from '../../console/src/bodies.ts';
import { pushCounts } from '../../console/src/pushCounts.ts';
import { decisionBody, proofContentType, settledProof } from '../../console/src/supervision.ts';
import type { Proof, SupervisionDetail } from '../../console/src/types.ts';
import { CHART, chartBars, usageBuckets, type ChartWindow } from '../../console/src/usageChart.ts';

/** The console's pure views: how a kept message body is shown, and the usage chart's buckets and bars. */

describe('a kept message body as shown', () => {
  it('pretty prints a whole body as JSON text, markup included as text', () => {
    const shown = shownBody({ truncated: false, body: { note: '<img src=x onerror=alert(1)>', n: 1 } });
    expect(shown).toEqual({ truncated: false, text: '{\n  "note": "<img src=x onerror=alert(1)>",\n  "n": 1\n}' });
  });

  it('shows a cut body as its text and says it was truncated', () => {
    expect(shownBody({ truncated: true, text: '{"records":[{"a' })).toEqual({ truncated: true, text: '{"records":[{"a' });
    expect(shownBody({ truncated: true })).toEqual({ truncated: true, text: '' });
  });

  it('shows nothing when no body was kept, and null for a kept empty body', () => {
    expect(shownBody(undefined)).toBeUndefined();
    expect(shownBody({ truncated: false })).toEqual({ truncated: false, text: 'null' });
  });
});

const w = (beginTime: string, state: ChartWindow['state'], value: string): ChartWindow => ({ beginTime, state, value });

describe('the usage chart', () => {
  const windows = [
    w('2026-11-20T09:00:00.000Z', 'REJECTED', '1.5'),
    w('2026-11-20T08:00:00.000Z', 'ACCEPTED', '2'),
    w('2026-11-20T08:00:00.000Z', 'OPEN', '0.5'),
    w('2026-11-21T00:00:00.000Z', 'PUSHING', '3'),
  ];

  it('sums windows per hour, oldest first, by push state', () => {
    expect(usageBuckets(windows, 'hour')).toEqual([
      { label: '2026-11-20T08', pushed: 2, pending: 0.5, refused: 0 },
      { label: '2026-11-20T09', pushed: 0, pending: 0, refused: 1.5 },
      { label: '2026-11-21T00', pushed: 0, pending: 3, refused: 0 },
    ]);
  });

  it('sums windows per UTC day', () => {
    expect(usageBuckets(windows, 'day')).toEqual([
      { label: '2026-11-20', pushed: 2, pending: 0.5, refused: 1.5 },
      { label: '2026-11-21', pushed: 0, pending: 3, refused: 0 },
    ]);
  });

  it('counts a value it cannot read as nothing', () => {
    expect(usageBuckets([w('2026-11-20T08:00:00.000Z', 'ACCEPTED', 'x')], 'hour')[0]!.pushed).toBe(0);
  });

  it('stacks bars so the tallest bucket fills the chart', () => {
    const { bars, max } = chartBars(usageBuckets(windows, 'day'));
    expect(max).toBe(4);
    const slot = CHART.width / 2;
    expect(bars).toEqual([
      { kind: 'pushed', x: 0, y: 100, width: slot - CHART.gap, height: 100 },
      { kind: 'pending', x: 0, y: 75, width: slot - CHART.gap, height: 25 },
      { kind: 'refused', x: 0, y: 0, width: slot - CHART.gap, height: 75 },
      { kind: 'pending', x: slot, y: 50, width: slot - CHART.gap, height: 150 },
    ]);
  });

  it('draws nothing for no usage', () => {
    expect(chartBars([])).toEqual({ bars: [], max: 0 });
    expect(chartBars([{ label: 'x', pushed: 0, pending: 0, refused: 0 }])).toEqual({ bars: [], max: 0 });
  });
});

describe("the overview's usage pushes", () => {
  const push = (resultCode: string, records?: number) => ({
    messageId: `m-${resultCode}-${records}`,
    at: '2026-11-20T08:00:00.000Z',
    channel: 'usagePush',
    resultCode,
    ...(records === undefined ? {} : { records }),
  });

  it('counts accepted records, and refused or failed pushes with their records', () => {
    const page = { items: [push('000000', 3), push('000000', 2), push('MKT.9002', 4), push('NETWORK_ERROR')] };
    expect(pushCounts(page)).toEqual({ pushes: 4, acceptedRecords: 5, refusedPushes: 2, refusedRecords: 4, more: false });
  });

  it('says when there were more pushes than the page', () => {
    expect(pushCounts({ items: [], nextCursor: 'c' })).toEqual({
      pushes: 0,
      acceptedRecords: 0,
      refusedPushes: 0,
      refusedRecords: 0,
      more: true,
    });
  });
});

describe('service supervision in the console', () => {
  it('sends the text as the reason where a decision needs one, else as an optional note', () => {
    expect(decisionBody('reject', ' missing deployment report ')).toEqual({ action: 'reject', reason: 'missing deployment report' });
    expect(decisionBody('openAppeal', 'buyer unreachable')).toEqual({ action: 'openAppeal', reason: 'buyer unreachable' });
    expect(decisionBody('closeAppeal', '')).toEqual({ action: 'closeAppeal', reason: '' });
    expect(decisionBody('accept', 'signed on site')).toEqual({ action: 'accept', note: 'signed on site' });
    expect(decisionBody('startReview', '  ')).toEqual({ action: 'startReview' });
  });

  it("declares the browser's content type, else the one of the file name's extension", () => {
    expect(proofContentType('a.pdf', 'application/pdf')).toBe('application/pdf');
    expect(proofContentType('scan.JPG', '')).toBe('image/jpeg');
    expect(proofContentType('sheet.xlsx', '')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(proofContentType('notes', '')).toBe('application/octet-stream');
  });

  it('finds a proof once its check is over, not while it awaits its upload', () => {
    const proof = (proofId: string, state: Proof['state']): Proof => ({
      proofId,
      kind: 'acceptance',
      fileName: 'a.pdf',
      size: 10,
      state,
      round: 1,
      requestedAt: '2026-12-01T00:00:00.000Z',
    });
    const detail = (proofs: Proof[]) => ({ proofs }) as unknown as SupervisionDetail;
    expect(settledProof(detail([proof('p1', 'AWAITING_UPLOAD')]), 'p1')).toBeUndefined();
    expect(settledProof(detail([proof('p1', 'VERIFIED')]), 'p1')?.state).toBe('VERIFIED');
    expect(settledProof(detail([proof('p1', 'REJECTED')]), 'p1')?.state).toBe('REJECTED');
    expect(settledProof(detail([proof('p1', 'VERIFIED')]), 'p2')).toBeUndefined();
  });
});
