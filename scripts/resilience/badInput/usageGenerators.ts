/** Generators of usage uploads (POST /seller/usage) that must be refused, as a whole or record by record. */
import fc from 'fast-check';
import { anyText, DELETE, loneSurrogate, notIsoTime, notJsonText, overLong, smallWrongType, withField } from './arbitraries.ts';
import { type BuildContext, idsOf, sellerRecipe } from './cases.ts';
import { bearer, sellerEvent } from './events.ts';
import { usageRecord } from './sellerRoutes.ts';

/** Usage request bodies that are not JSON: 400 (413 past the size limit). */
export const sellerBadJson = sellerRecipe(
  'seller: bad JSON',
  fc
    .tuple(
      notJsonText([
        '',
        '{',
        '{"records":[',
        '{"records":[{}],}',
        "{'records':[]}",
        '{"records":NaN}',
        '\ufeff{"records":[]}',
        '{"records":[]}}',
        'undefined',
        '{"a":1}{"b":2}',
        '[1,]',
      ]),
      fc.boolean(),
    )
    .map(([text, base64]) => (ctx: BuildContext) => ({
      event: sellerEvent({
        method: 'POST',
        path: '/seller/usage',
        authorization: bearer(ctx.fixture.sellerKeys.full),
        body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text,
        base64,
      }),
      expect: { statuses: [400] },
      ids: [],
    })),
);

/** Usage request bodies of the wrong shape: 422. */
export const sellerWrongTypes = sellerRecipe(
  'seller: wrong types',
  fc
    .oneof(
      fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
      fc.dictionary(
        anyText(10, 1).filter((k) => k !== 'records'),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 4 },
      ),
      fc
        .oneof(
          fc.string(),
          fc.integer(),
          fc.constant(null),
          fc.boolean(),
          fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
          fc.constant([]),
        )
        .map((records) => ({ records })),
      fc
        .tuple(
          fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 20 }),
          anyText(10, 1).filter((k) => k !== 'records'),
        )
        .map(([records, extra]) => ({ records, [extra]: 1 })),
    )
    .map((value) => (ctx: BuildContext) => ({
      event: sellerEvent({
        method: 'POST',
        path: '/seller/usage',
        authorization: bearer(ctx.fixture.sellerKeys.full),
        body: JSON.stringify(value),
      }),
      expect: { statuses: [422] },
      ids: idsOf(value),
    })),
);

/** More than 1000 records, or a body past the seller API's size limit: 413. */
export const sellerHugeArrays = sellerRecipe(
  'seller: huge arrays and bodies',
  fc
    .tuple(
      fc.constantFrom('records', 'records of valid shape', 'bytes'),
      fc.integer({ min: 1_001, max: 50_000 }),
      fc.integer({ min: 1, max: 500_000 }),
      fc.nat(),
    )
    .map(([shape, count, extra, pick]) => (ctx: BuildContext) => {
      const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
      let body: string;
      if (shape === 'records') body = JSON.stringify({ records: Array.from({ length: count }, (_, i) => i) });
      else if (shape === 'records of valid shape') {
        const record = usageRecord(seeded.instanceId, ctx.nowMs);
        body = JSON.stringify({ records: Array.from({ length: Math.min(count, 4_000) }, () => record) });
      } else {
        body = JSON.stringify({
          records: [{ ...usageRecord(seeded.instanceId, ctx.nowMs), pad: 'x'.repeat(ctx.fixture.sellerMaxBodyBytes + extra) }],
        });
      }
      return {
        event: sellerEvent({ method: 'POST', path: '/seller/usage', authorization: bearer(ctx.fixture.sellerKeys.full), body }),
        expect: { statuses: [413] },
        ids: [seeded.instanceId],
      };
    }),
);

/** One thing wrong with a usage record that would otherwise be accepted. */
const brokenRecord: fc.Arbitrary<(record: Record<string, unknown>, nowMs: number) => unknown> = fc.oneof(
  fc
    .jsonValue({ maxDepth: 2 })
    .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map((v) => () => v),
  fc
    .constantFrom('instanceId', 'beginTime', 'endTime', 'value')
    .map((field) => (r: Record<string, unknown>) => withField(r, field, DELETE)),
  fc
    .tuple(fc.constantFrom('instanceId', 'beginTime', 'endTime', 'value', 'clientRef'), smallWrongType)
    .map(([field, v]) => (r: Record<string, unknown>) => ({ ...r, [field]: v })),
  fc
    .constantFrom(
      '0',
      '-1',
      '1.00001',
      '1e3',
      ' 1',
      '1 ',
      'NaN',
      '',
      '0x10',
      '+1',
      '1,5',
      '0.00000',
      '1234567890123',
      '١',
      '1.',
      '.5',
      '0.0000',
    )
    .map((value) => (r: Record<string, unknown>) => ({ ...r, value })),
  fc
    .oneof(notIsoTime, fc.constantFrom('shift 30m', 'shift 1ms', 'local offset', 'no Z', 'future', 'too old'))
    .map((how) => (r: Record<string, unknown>, nowMs: number) => {
      const hour = 3_600_000;
      const begin = Math.floor(nowMs / hour) * hour - hour;
      const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');
      switch (how) {
        case 'shift 30m':
          return { ...r, beginTime: iso(begin + hour / 2), endTime: iso(begin + 1.5 * hour) };
        case 'shift 1ms':
          return { ...r, beginTime: new Date(begin + 1).toISOString() };
        case 'local offset':
          return { ...r, beginTime: iso(begin).replace('Z', '+00:00') };
        case 'no Z':
          return { ...r, beginTime: iso(begin).replace('Z', '') };
        case 'future':
          return { ...r, beginTime: iso(begin + 3 * hour), endTime: iso(begin + 4 * hour) };
        case 'too old':
          return { ...r, beginTime: iso(begin - 22 * 24 * hour), endTime: iso(begin - 22 * 24 * hour + hour) };
        default:
          return { ...r, beginTime: how };
      }
    }),
  fc
    .oneof(
      anyText(20).filter((s) => !/^\d{4}-/.test(s)),
      fc.constant('2099-01-01T00:00:00Z'),
    )
    .map((endTime) => (r: Record<string, unknown>) => ({ ...r, endTime })),
  fc
    .oneof(fc.constant('unknown'), loneSurrogate, overLong(64), fc.constant(''))
    .map((kind) => (r: Record<string, unknown>) => ({ ...r, instanceId: kind === 'unknown' ? `${String(r.instanceId)}-unknown` : kind })),
  fc
    .oneof(fc.constantFrom('', 'has space', 'semi;colon', 'ü', '#'), overLong(128))
    .map((clientRef) => (r: Record<string, unknown>) => ({ ...r, clientRef })),
  fc
    .tuple(
      anyText(10, 1).filter((k) => !['instanceId', 'beginTime', 'endTime', 'value', 'clientRef'].includes(k)),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([k, v]) => (r: Record<string, unknown>) => ({ ...r, [k]: v })),
);

/** A well-formed usage request whose every record is wrong: 200, every record `rejected`, nothing written. */
export const sellerGarbageRecords = sellerRecipe(
  'seller: garbage usage records',
  fc
    .tuple(fc.array(fc.tuple(brokenRecord, fc.nat()), { minLength: 1, maxLength: 60 }), fc.boolean())
    .map(([breakers, withRefs]) => (ctx: BuildContext) => {
      const records = breakers.map(([breakRecord, pick], i) => {
        const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
        const record = { ...usageRecord(seeded.instanceId, ctx.nowMs), ...(withRefs ? { clientRef: `${ctx.tag}-${i}` } : {}) };
        return breakRecord(record, ctx.nowMs);
      });
      return {
        event: sellerEvent({
          method: 'POST',
          path: '/seller/usage',
          authorization: bearer(ctx.fixture.sellerKeys.full),
          body: JSON.stringify({ records }),
        }),
        expect: { allRejected: records.length },
        ids: idsOf(records),
      };
    }),
);
