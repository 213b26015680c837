/** Production interface bodies: the documented fields of each activity, valid bodies, and one field broken. */
import fc from 'fast-check';
import { signRequest } from '#lib/koogallery/auth.ts';
import type { JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { anyText, blank, charsOf, DELETE, HEX, loneSurrogate, overLong, wrongType, wrongTypeNotObject } from './arbitraries.ts';
import type { Body, BuildContext } from './cases.ts';

export const ACTIVITIES = [
  'newInstance',
  'queryInstance',
  'refreshInstance',
  'updateInstanceStatus',
  'releaseInstance',
  'upgradeInstance',
  'changeInstanceCheck',
  'refreshLicenseCode',
  'updateLicenseCodeStatus',
  'releaseLicenseCode',
] as const;
export type Activity = (typeof ACTIVITIES)[number];

/** A date the renewals move the seeded instances to, were one of these calls ever accepted. */
export const OTHER_EXPIRY = '20981231235959';

type FieldSpec =
  | { kind: 'text'; required: boolean; max: number }
  | { kind: 'enum'; required: boolean; values: readonly string[] }
  | { kind: 'expireTime' }
  | { kind: 'idList' }
  | { kind: 'productInfo' };

const id = (required = true): FieldSpec => ({ kind: 'text', required, max: 64 });
const testFlagSpec: FieldSpec = { kind: 'enum', required: false, values: ['0', '1'] };
const statusSpec: FieldSpec = { kind: 'enum', required: true, values: ['FREEZE', 'UNFREEZE'] };
const licenseSpec: FieldSpec = { kind: 'text', required: true, max: 128 };

/** The documented fields of each activity (spec §3.1–3.7, §5.1) and their limits. */
export const FIELDS: Record<Activity, Record<string, FieldSpec>> = {
  newInstance: { orderId: id(), orderLineId: id(), businessId: id(), testFlag: testFlagSpec },
  queryInstance: { instanceId: { kind: 'idList' }, testFlag: testFlagSpec },
  refreshInstance: {
    scene: id(),
    orderId: id(),
    orderLineId: id(),
    instanceId: id(),
    productId: id(false),
    expireTime: { kind: 'expireTime' },
    testFlag: testFlagSpec,
  },
  updateInstanceStatus: { instanceId: id(), status: statusSpec, testFlag: testFlagSpec },
  releaseInstance: { instanceId: id(), orderId: id(false), orderLineId: id(false), testFlag: testFlagSpec },
  upgradeInstance: { instanceId: id(), orderId: id(), orderLineId: id(), testFlag: testFlagSpec },
  changeInstanceCheck: { instanceId: id(), productInfo: { kind: 'productInfo' }, testFlag: testFlagSpec },
  refreshLicenseCode: {
    license: licenseSpec,
    scene: id(),
    orderId: id(),
    orderLineId: id(),
    productId: id(false),
    expireTime: { kind: 'expireTime' },
    testFlag: testFlagSpec,
  },
  updateLicenseCodeStatus: { license: licenseSpec, status: statusSpec, testFlag: testFlagSpec },
  releaseLicenseCode: { license: licenseSpec, orderId: id(false), orderLineId: id(false), testFlag: testFlagSpec },
};

/**
 * A valid body for an activity, which would change state if it were accepted: a new instance or license for this
 * request's own ids, or a renewal, freeze, release or upgrade of a seeded instance.
 */
export function validBody(activity: Activity, ctx: BuildContext, pick: number): Body {
  const t = ctx.tag;
  const seeded = ctx.fixture.instances[pick % ctx.fixture.instances.length]!;
  const order = { orderId: `${t}-o`, orderLineId: `${t}-o-000001` };
  switch (activity) {
    case 'newInstance':
      return { activity, ...order, businessId: `${t}-b`, testFlag: '0' };
    case 'queryInstance':
      return { activity, instanceId: ctx.fixture.instances.map((i) => i.instanceId).join(',') };
    case 'refreshInstance':
      return { activity, scene: 'RENEWAL', ...order, instanceId: seeded.instanceId, productId: `${t}-p`, expireTime: OTHER_EXPIRY };
    case 'updateInstanceStatus':
      return { activity, instanceId: seeded.instanceId, status: 'FREEZE' };
    case 'releaseInstance':
      return { activity, instanceId: seeded.instanceId };
    case 'upgradeInstance':
      return { activity, instanceId: seeded.instanceId, ...order };
    case 'changeInstanceCheck':
      return { activity, instanceId: seeded.instanceId, productInfo: { productId: `${t}-p`, skuCode: `${t}-sku` } };
    case 'refreshLicenseCode':
      return { activity, license: `${t}-lic`, scene: 'RENEWAL', ...order, expireTime: OTHER_EXPIRY };
    case 'updateLicenseCodeStatus':
      return { activity, license: `${t}-lic`, status: 'FREEZE' };
    case 'releaseLicenseCode':
      return { activity, license: `${t}-lic` };
  }
}

/** Serialises and signs a body as the marketplace does; the signature is over the body as the server will parse it. */
export function signedV2(
  key: string,
  body: Body,
  nowMs: number,
  nonce: string,
): { raw: string; query: { signature: string; timestamp: string; nonce: string } } {
  const raw = JSON.stringify(body);
  const query = signRequest(key, JSON.parse(raw) as JsonObject, { nowMs, nonce });
  return { raw, query };
}

/** A value that breaks a field of this kind, and what it is. */
function brokenValue(spec: FieldSpec): fc.Arbitrary<{ label: string; value: unknown }> {
  const l = (label: string) => (value: unknown) => ({ label, value });
  const required = spec.kind === 'text' || spec.kind === 'enum' ? spec.required : true;
  const common: fc.Arbitrary<{ label: string; value: unknown }>[] = [
    (spec.kind === 'productInfo' ? wrongTypeNotObject : wrongType).map(l('wrong type')),
  ];
  if (required) common.push(fc.constant({ label: 'missing', value: DELETE }), fc.constant({ label: 'null', value: null }));
  switch (spec.kind) {
    case 'text':
      return fc.oneof(...common, blank.map(l('blank')), overLong(spec.max).map(l('over-long')), loneSurrogate.map(l('lone surrogate')));
    case 'enum':
      return fc.oneof(
        ...common,
        fc
          .constantFrom('freeze', 'FREEZE ', ' UNFREEZE', 'Freeze', '2', '00', 'true', '', 'FREEZE\u0000', 'ＦＲＥＥＺＥ')
          .map(l('not one of the values')),
        anyText(40)
          .filter((s) => !spec.values.includes(s))
          .map(l('not one of the values')),
        overLong(64).map(l('over-long')),
      );
    case 'expireTime':
      return fc.oneof(
        ...common,
        fc
          .constantFrom(
            '2099123123595',
            '209912312359590',
            '20991301000000',
            '20990230000000',
            '20990229000000',
            '20991231240000',
            '20991231236000',
            '20991231235960',
            '2099-12-31T23:59:59Z',
            '２０９９１２３１２３５９５９',
            ' 20991231235959',
            '',
          )
          .map(l('not yyyyMMddHHmmss')),
        anyText(30)
          .filter((s) => !/^\d{14}$/.test(s))
          .map(l('not yyyyMMddHHmmss')),
        loneSurrogate.map(l('lone surrogate')),
      );
    case 'idList':
      return fc.oneof(
        ...common,
        fc.constantFrom('', ',', 'a,,b', ' ,x', 'x,', ' , ').map(l('blank id in the list')),
        fc.integer({ min: 101, max: 400 }).map((n) => l('over 100 ids')(Array.from({ length: n }, (_, i) => `id${i}`).join(','))),
        overLong(64).map((s) => l('id over 64')(`a,${s},b`)),
        fc.integer({ min: 6_501, max: 20_000 }).map((n) => l('list too long')('y'.repeat(n))),
        loneSurrogate.map(l('lone surrogate')),
      );
    case 'productInfo':
      return fc.oneof(
        ...common,
        fc.constantFrom('abc', '[]', '[1]', '1', 'null', '"x"', '{', '', 'true').map(l('not a JSON object string')),
        fc
          .constantFrom<unknown>({ productId: 5 }, { productId: '' }, { skuCode: ['x'] }, { productId: 'x'.repeat(65) }, { skuCode: ' ' })
          .map(l('bad productInfo field')),
        fc.integer({ min: 4_097, max: 10_000 }).map((n) => l('string over 4096')(JSON.stringify({ productId: 'p', pad: 'x'.repeat(n) }))),
        loneSurrogate.map((s) => l('lone surrogate')({ productId: s })),
      );
  }
}

/** A body whose activity field is wrong (wrong type, unknown, missing). */
const brokenActivity: fc.Arbitrary<{ label: string; value: unknown }> = fc.oneof(
  wrongType.map((value) => ({ label: 'activity of the wrong type', value })),
  fc.constant({ label: 'activity missing', value: DELETE }),
  fc.constant({ label: 'activity null', value: null }),
  fc
    .constantFrom(
      'NewInstance',
      'newinstance',
      'newInstance ',
      ' queryInstance',
      'newInstancе',
      'ｎｅｗＩｎｓｔａｎｃｅ',
      'toString',
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'newInstance\u0000',
      'expireInstance',
      'upgrade',
      'instanceStatus',
      '',
    )
    .map((value) => ({ label: 'unknown activity', value })),
  anyText(40)
    .filter((s) => !(ACTIVITIES as readonly string[]).includes(s))
    .map((value) => ({ label: 'unknown activity', value })),
  loneSurrogate.map((value) => ({ label: 'activity with a lone surrogate', value })),
);

/** One field of a valid body broken (or the activity), the rest as valid as it was. */
export const invalidBody: fc.Arbitrary<{ activity: Activity; pick: number; field: string; label: string; value: unknown }> = fc
  .tuple(fc.constantFrom(...ACTIVITIES), fc.nat(), fc.nat())
  .chain(([activity, pick, which]) => {
    const fields = Object.entries(FIELDS[activity]);
    if (which % (fields.length + 1) === fields.length) return brokenActivity.map((b) => ({ activity, pick, field: 'activity', ...b }));
    const [field, spec] = fields[which % (fields.length + 1)]!;
    return brokenValue(spec).map((b) => ({ activity, pick, field, ...b }));
  });

export const nonceArb = fc.string({ unit: charsOf(HEX), minLength: 64, maxLength: 64 });
