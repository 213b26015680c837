/** Statement requests refused: malformed, unsupported, unstarted or never-run months, broken bill uploads, bad listings. */
import fc from 'fast-check';
import { nextPeriod, periodOf } from '#lib/settlement/period.ts';
import { BILL_MAX_BYTES } from '#lib/settlement/reconciliation.ts';
import { STATEMENT_LIST_KIND } from '#lib/store/statementStore.ts';
import { anyText, b64url, badLimit, DELETE, hexDigest, loneSurrogate, notJson, withField } from './arbitraries.ts';
import type { Body, BuildContext, Fixture } from './cases.ts';
import { isRecord } from './judge.ts';
import { monthOf } from './sellerRoutes.ts';
import { badSha256, type SellerTry, sha256Arb, type TryBuild } from './sellerTries.ts';

// Months: one that has not started (2100-01 to 9999-12), one never run (1980-01 to 1999-12, which nothing here settles),
// one outside the supported range (0000-01 to 1969-12).
const monthArb = (from: number, to: number) =>
  fc.tuple(fc.integer({ min: from, max: to }), fc.integer({ min: 1, max: 12 })).map(([y, m]) => monthOf(y, m));
const notStartedMonth = monthArb(2100, 9999);
const neverRunMonth = monthArb(1980, 1999);
const unsupportedMonth = monthArb(0, 1969);

/** A period path segment that is not YYYY-MM once decoded (400), or not percent-encoding at all (400). */
const badPeriodSegment: fc.Arbitrary<string> = fc.oneof(
  fc
    .constantFrom(
      '2026-13',
      '2026-1',
      '2026-00',
      '2026-0',
      '26-01',
      '202601',
      '2026_01',
      '2026-01-01',
      '2026-1-1',
      '2026-012',
      '12026-01',
      '-2026-01',
      '+2026-01',
      '2026-1a',
      'x',
      '.',
      '..',
      'latest',
      '2026-０1',
      '２０２６-０１',
      '2026\u221201',
      '2026\u201301',
      ' 2026-01',
      '2026-01 ',
      '2026-01\n',
      '2026-01\u0000',
      '../x',
      '2026-01/run',
      '2026-01?x',
      '2026-01#x',
      '\u202e10-6202',
    )
    .map(encodeURIComponent),
  fc.constantFrom('2026-01;x', '%2E%2E%2Fx', '2026%2D01x', '%', '%ZZ', '2026-0%', '%ED%A0%80', '%C0%AF', '%FF').map((s) => s),
  fc.integer({ min: 8, max: 5_000 }).map((n) => '2'.repeat(n)),
  fc.integer({ min: 1, max: 1_000 }).map((n) => `2026-01${'0'.repeat(n)}`),
  anyText(40, 1)
    .filter((s) => !/^\d{4}-(0[1-9]|1[0-2])$/.test(s))
    .map(encodeURIComponent),
);

const PERIOD_ROUTES = ['GET statement', 'POST run', 'POST close', 'POST reconciliation', 'GET reconciliation'] as const;
type PeriodRoute = (typeof PERIOD_ROUTES)[number];

/** A request on a month's route; a bill upload gets `body`, or a valid one. */
export function periodTry(route: PeriodRoute, segment: string, statuses: readonly number[], ids: string[], body?: string): SellerTry {
  const base = `/seller/statements/${segment}`;
  switch (route) {
    case 'GET statement':
      return { method: 'GET', path: base, statuses, ids };
    case 'POST run':
      return { method: 'POST', path: `${base}/run`, ...(body !== undefined ? { body } : {}), statuses, ids };
    case 'POST close':
      return { method: 'POST', path: `${base}/close`, ...(body !== undefined ? { body } : {}), statuses, ids };
    case 'GET reconciliation':
      return { method: 'GET', path: `${base}/reconciliation`, statuses, ids };
    default:
      return {
        method: 'POST',
        path: `${base}/reconciliation`,
        body: body ?? JSON.stringify({ size: 4096, sha256: hexDigest(segment) }),
        statuses,
        ids,
      };
  }
}

const validBill = fc.tuple(fc.integer({ min: 1, max: BILL_MAX_BYTES }), sha256Arb).map(([size, sha256]) => ({ size, sha256 }));

/** One thing wrong with a bill upload request: 422 (before the month is looked up). */
const brokenBill: fc.Arbitrary<(body: Body, fixture: Fixture) => unknown> = fc.oneof(
  fc
    .oneof(
      fc.constantFrom<unknown>(0, -1, -4096, 0.5, 1.5, '4096', '', true, [], {}, DELETE, null, BILL_MAX_BYTES + 1, 1e21),
      fc.integer({ min: BILL_MAX_BYTES + 1, max: BILL_MAX_BYTES * 100 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || d < 1),
    )
    .map((value) => (body: Body) => withField(body, 'size', value)),
  badSha256.map((b) => (body: Body, fixture: Fixture) => withField(body, 'sha256', b.value(fixture))),
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom('contentType', 'key', 'period', 'uploadId', '__proto__'),
        anyText(12, 1).filter((k) => k !== 'size' && k !== 'sha256'),
      ),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([k, v]) => (body: Body) => ({ ...body, [k]: v })),
  fc
    .jsonValue({ maxDepth: 3 })
    .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map((v) => () => v),
);

export const statementTries: fc.Arbitrary<TryBuild> = fc.oneof(
  // Not YYYY-MM: 400 on every month route.
  fc.tuple(fc.constantFrom(...PERIOD_ROUTES), badPeriodSegment).map(
    ([route, segment]) =>
      () =>
        periodTry(route, segment, [400], []),
  ),
  // No month at all, or the month's separators unencoded: no route (404).
  fc
    .tuple(
      fc.constantFrom<PeriodRoute>('POST run', 'POST close', 'POST reconciliation', 'GET reconciliation'),
      fc.constantFrom('', '2026/01', '../2026-01', '2026-01/x'),
    )
    .map(
      ([route, segment]) =>
        () =>
          periodTry(route, segment, [404], []),
    ),
  // YYYY-MM outside the supported range (before 1970-01): refused, as a malformed month (400) or by settlement (422).
  fc.tuple(fc.constantFrom(...PERIOD_ROUTES), unsupportedMonth).map(
    ([route, month]) =>
      () =>
        periodTry(route, month, [400], [month]),
  ),
  // A month never run: nothing to read (404), close (409) or reconcile against (409). Never run itself: that would start it.
  fc
    .tuple(
      fc.constantFrom<PeriodRoute>('GET statement', 'POST close', 'POST reconciliation', 'GET reconciliation'),
      neverRunMonth,
      fc.option(notJson, { nil: undefined }),
    )
    .map(
      ([route, month, garbage]) =>
        () =>
          periodTry(route, month, route.startsWith('GET') ? [404] : [409], [month], route === 'POST close' ? garbage : undefined),
    ),
  fc.tuple(neverRunMonth, validBill).map(
    ([month, bill]) =>
      () =>
        periodTry('POST reconciliation', month, [409], [month], JSON.stringify(bill)),
  ),
  // A month that has not started: a run is refused (422), with any body (the route takes none).
  fc.tuple(fc.constantFrom(...PERIOD_ROUTES), notStartedMonth, fc.option(notJson, { nil: undefined })).map(
    ([route, month, garbage]) =>
      () =>
        periodTry(
          route,
          month,
          route === 'POST run' ? [422] : route.startsWith('GET') ? [404] : [409],
          [month],
          route === 'POST reconciliation' ? undefined : garbage,
        ),
  ),
  // The month after next in the statements' time zone (tests settle such months: not an id of this run).
  fc.option(notJson, { nil: undefined }).map((garbage) => (ctx: BuildContext) => {
    const month = nextPeriod(nextPeriod(periodOf(new Date(ctx.nowMs).toISOString(), ctx.fixture.statementTimeZone)));
    return periodTry('POST run', month, [422], [], garbage);
  }),
  // Bill uploads that are not JSON (400) or not the right shape (422).
  fc.tuple(fc.oneof(neverRunMonth, notStartedMonth), notJson, fc.boolean()).map(([month, text, base64]) => () => ({
    ...periodTry('POST reconciliation', month, [400], [month], base64 ? Buffer.from(text, 'utf8').toString('base64') : text),
    ...(base64 ? { base64: true } : {}),
  })),
  fc
    .tuple(fc.oneof(neverRunMonth, notStartedMonth), validBill, fc.array(brokenBill, { minLength: 1, maxLength: 2 }))
    .map(([month, bill, breakers]) => (ctx: BuildContext) => {
      let body: unknown = bill;
      for (const b of breakers) body = b(isRecord(body) ? body : {}, ctx.fixture);
      return periodTry('POST reconciliation', month, [422], [month], JSON.stringify(body));
    }),
);

/** Statement listings the route refuses (400), and cursors it did not issue (400; forged ones of the right shape may be read). */
export const statementListTries: fc.Arbitrary<TryBuild> = fc
  .oneof(
    fc
      .tuple(
        anyText(20, 1).filter((k) => k !== 'limit' && k !== 'cursor'),
        anyText(20),
      )
      .map(([k, v]) => ({ query: { [k]: v }, statuses: [400] })),
    badLimit(1, 100).map((limit) => ({ query: { limit }, statuses: [400] })),
    fc
      .oneof(
        fc.constant(''),
        fc.integer({ min: 2_049, max: 10_000 }).map((n) => 'A'.repeat(n)),
        anyText(100, 1),
      )
      .map((cursor) => ({ query: { cursor }, statuses: [400] })),
    fc
      .uint8Array({ minLength: 1, maxLength: 300 })
      .map((b) => ({ query: { cursor: Buffer.from(b).toString('base64url') }, statuses: [400] })),
    fc
      .constantFrom<unknown>(
        'not json',
        null,
        [],
        {},
        { list: 'statements' },
        { list: 'instances', key: {} },
        { list: 'statements', key: { listKind: 'INSTANCE', listAt: 'x', pk: 'x', sk: '#HEADER' } },
        {
          list: 'statements',
          key: { listKind: STATEMENT_LIST_KIND, listAt: '2026-01', pk: 'STATEMENT#2026-01', sk: '#VERSION' },
        },
        {
          list: 'statements',
          key: { listKind: STATEMENT_LIST_KIND, listAt: '2026-01', pk: 'STATEMENT#2026-01', sk: '#HEADER', extra: 'x' },
        },
        { list: 'statements', key: { listKind: STATEMENT_LIST_KIND, listAt: '', pk: 'STATEMENT#2026-01', sk: '#HEADER' } },
        { list: 'statements', key: { listKind: STATEMENT_LIST_KIND, listAt: 5, pk: 'STATEMENT#2026-01', sk: '#HEADER' } },
      )
      .map((v) => ({ query: { cursor: b64url(v) }, statuses: [400] })),
    fc
      .tuple(
        fc.oneof(
          neverRunMonth,
          notStartedMonth,
          anyText(30, 1),
          loneSurrogate,
          fc.constantFrom('2026-13', '9999-12', '0000-00', '#', 'x'.repeat(1024)),
        ),
        fc.oneof(
          fc.constant('consistent'),
          anyText(30, 1),
          loneSurrogate,
          fc.constantFrom('STATEMENT#', 'INSTANCE#x', '#HEADER', 'x'.repeat(1024)),
        ),
      )
      .map(([listAt, pk]) => ({
        query: {
          cursor: b64url({
            list: 'statements',
            key: { listKind: STATEMENT_LIST_KIND, listAt, pk: pk === 'consistent' ? `STATEMENT#${listAt}` : pk, sk: '#HEADER' },
          }),
          limit: '2',
        },
        statuses: [200, 400],
      })),
  )
  .map(({ query, statuses }) => (): SellerTry => ({ method: 'GET', path: '/seller/statements', query, statuses, ids: [] }));
