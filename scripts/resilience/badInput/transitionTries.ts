/** Supervision decisions (transitions) the routes refuse, and odd order and order line ids in their paths. */
import fc from 'fast-check';
import { APPEAL_OUTCOMES } from '#lib/supervision/model.ts';
import { anyText, blank, DELETE, loneSurrogate, overLong, smallWrongType, withField } from './arbitraries.ts';
import type { Body, BuildContext } from './cases.ts';
import { validProof } from './proofTries.ts';
import {
  anyLine,
  nonObjectBodyTries,
  proofIdArb,
  type SellerTry,
  supervisionPost,
  type TryBuild,
  unsupervisedLine,
} from './sellerTries.ts';

const ACTIONS = ['startReview', 'accept', 'reject', 'openAppeal', 'closeAppeal'] as const;
type Action = (typeof ACTIONS)[number];
const reasonArb = fc.oneof(
  fc.constantFrom('the buyer signed the acceptance', '验收不通过：缺少部署文档', ' trimmed '),
  fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ''),
);

/**
 * A valid decision of each kind. On the fixture's supervised line (AWAITING_DELIVERY, no appeal) every one is refused:
 * 409 for a decision the state does not allow, 422 for an appeal citing proofs that are not verified (`evidence`
 * is never empty there: an appeal without evidence would be recorded).
 */
const validTransition = fc
  .tuple(
    fc.constantFrom(...ACTIONS),
    reasonArb,
    fc.option(
      fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.trim() !== ''),
      { nil: undefined },
    ),
    fc.array(proofIdArb, { minLength: 1, maxLength: 20 }),
    fc.option(fc.constantFrom('seller', 'buyer'), { nil: undefined }),
    fc.option(fc.constantFrom(...APPEAL_OUTCOMES), { nil: undefined }),
  )
  .map(([action, reason, note, evidence, appellant, outcome]) => {
    const noted = note !== undefined ? { note } : {};
    const body: Body =
      action === 'startReview' || action === 'accept'
        ? { action, ...noted }
        : action === 'reject'
          ? { action, reason, ...noted }
          : action === 'openAppeal'
            ? { action, reason, evidence, ...(appellant ? { appellant } : {}), ...noted }
            : { action, reason, ...(outcome ? { outcome } : {}), ...noted };
    return { action, body, onSupervised: action === 'openAppeal' ? 422 : 409 };
  });

/** A field another decision takes, valid there: refused on this one (each decision's fields are exact). */
const MISPLACED_FIELDS: readonly [Action, string, unknown][] = [
  ['accept', 'reason', 'fine'],
  ['accept', 'evidence', []],
  ['startReview', 'reason', 'x'],
  ['reject', 'evidence', []],
  ['reject', 'outcome', 'upheld'],
  ['reject', 'appellant', 'seller'],
  ['closeAppeal', 'evidence', []],
  ['closeAppeal', 'appellant', 'buyer'],
  ['openAppeal', 'outcome', 'upheld'],
];

/** One thing wrong with a decision: refused (422) by its schema, before the order line is looked up. */
const brokenTransition: fc.Arbitrary<(body: Body, action: Action) => Body> = fc.oneof(
  fc
    .oneof(
      smallWrongType,
      fc.constantFrom<unknown>(
        DELETE,
        null,
        'Accept',
        'approve',
        'proofSubmitted',
        'created',
        'open_appeal',
        'openappeal',
        'accept ',
        '',
        '__proto__',
        'toString',
        'ａｃｃｅｐｔ',
      ),
      anyText(20).filter((s) => !(ACTIONS as readonly string[]).includes(s)),
      loneSurrogate,
    )
    .map((value) => (body: Body) => withField(body, 'action', value)),
  fc
    .oneof(fc.constantFrom<unknown>(DELETE, null), smallWrongType, blank, overLong(2000))
    .map(
      (value) => (body: Body, action: Action) =>
        withField(action === 'startReview' || action === 'accept' ? { ...body, action: 'reject' } : body, 'reason', value),
    ),
  fc.oneof(fc.constant<unknown>(null), smallWrongType, blank, overLong(2000)).map((value) => (body: Body) => ({ ...body, note: value })),
  fc
    .oneof(
      fc.oneof(
        proofIdArb,
        fc.integer(),
        fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
        fc.constant(null),
      ),
      fc.array(proofIdArb, { minLength: 21, maxLength: 100 }),
      fc
        .tuple(
          fc.array(proofIdArb, { maxLength: 5 }),
          fc.oneof(
            proofIdArb.map((id) => id.toLowerCase()),
            proofIdArb.map((id) => id.slice(1)),
            proofIdArb.map((id) => `${id}0`),
            fc
              .tuple(proofIdArb, fc.nat({ max: 25 }), fc.constantFrom('I', 'L', 'O', 'U', 'i', '-', ' '))
              .map(([id, at, c]) => id.slice(0, at) + c + id.slice(at + 1)),
            fc.constantFrom<unknown>('', ' ', 5, null, ['x'], 'proofs/o/l/x'),
            anyText(30).filter((s) => !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(s)),
          ),
        )
        .map(([good, bad]) => [...good, bad]),
    )
    .map((value) => (body: Body) => ({
      ...body,
      action: 'openAppeal',
      reason: typeof body.reason === 'string' ? body.reason : 'appeal',
      evidence: value,
    })),
  fc
    .oneof(
      fc.constantFrom<unknown>('accepted', 'Upheld', 'upheld ', '', 'won', 0, true),
      anyText(12).filter((s) => !(APPEAL_OUTCOMES as readonly string[]).includes(s)),
    )
    .map((value) => (body: Body) => ({
      action: 'closeAppeal',
      reason: typeof body.reason === 'string' ? body.reason : 'decided',
      outcome: value,
    })),
  fc
    .oneof(
      fc.constantFrom<unknown>('huawei', 'Seller', 'marketplace', 'system', '', 1),
      anyText(12).filter((s) => s !== 'seller' && s !== 'buyer'),
    )
    .map((value) => () => ({ action: 'openAppeal', reason: 'appeal', evidence: [], appellant: value })),
  fc.tuple(fc.constantFrom(...MISPLACED_FIELDS), reasonArb).map(([[action, field, value], reason]) => () => {
    const base: Body =
      action === 'accept' || action === 'startReview'
        ? { action }
        : action === 'openAppeal'
          ? { action, reason, evidence: [] }
          : { action, reason };
    return { ...base, [field]: value };
  }),
  fc
    .tuple(
      anyText(12, 1).filter((k) => !['action', 'reason', 'note', 'evidence', 'outcome', 'appellant'].includes(k)),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([k, v]) => (body: Body) => ({ ...body, [k]: v })),
);

export const transitionTries: fc.Arbitrary<TryBuild> = fc.oneof(
  // Valid decisions the fixture's flow refuses (409; 422 for an appeal citing proofs that are not verified).
  {
    arbitrary: validTransition.map((t) => (ctx: BuildContext): SellerTry => {
      const line = ctx.fixture.supervised;
      return supervisionPost(line, 'transitions', t.body, [t.onSupervised]);
    }),
    weight: 4,
  },
  // Valid decisions on an order line without a flow: 404.
  {
    arbitrary: fc.tuple(validTransition, fc.nat()).map(([t, pick]) => (ctx: BuildContext): SellerTry => {
      const line = unsupervisedLine(ctx, pick);
      return supervisionPost(line, 'transitions', t.body, [404]);
    }),
    weight: 2,
  },
  // An appeal without evidence on an order line without a flow: 404 (on the supervised line it would be recorded).
  {
    arbitrary: fc.tuple(reasonArb, fc.nat()).map(([reason, pick]) => (ctx: BuildContext): SellerTry => {
      const line = unsupervisedLine(ctx, pick);
      return supervisionPost(line, 'transitions', { action: 'openAppeal', reason }, [404]);
    }),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(validTransition, fc.array(brokenTransition, { minLength: 1, maxLength: 2 }), fc.boolean(), fc.nat())
      .map(([t, breakers, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
        let body = t.body;
        for (const b of breakers) body = b(body, t.action);
        const line = anyLine(ctx, elsewhere, pick);
        return supervisionPost(line, 'transitions', body, [422]);
      }),
    weight: 4,
  },
  {
    arbitrary: nonObjectBodyTries('transitions'),
    weight: 1,
  },
);

/** An id as a path segment: percent-encoded as a client would, with the decoded text the router validates. */
const idSegment: fc.Arbitrary<{ segment: string; decoded: string | undefined }> = fc.oneof(
  fc
    .oneof(
      anyText(60, 1),
      fc.constantFrom(
        'é',
        'é',
        '中文订单',
        '😀'.repeat(64),
        '😀'.repeat(65),
        '\u0000',
        'a\nb',
        '\u007f',
        '\u202eevil',
        '\ufeffid',
        '#SUPERVISION',
        'a#b',
        'a/b',
        '..',
        '.',
        ' ',
        '%',
        '%41',
      ),
    )
    .map((s) => ({ segment: encodeURIComponent(s), decoded: s })),
  fc.integer({ min: 129, max: 3_000 }).map((n) => ({ segment: 'o'.repeat(n), decoded: 'o'.repeat(n) })),
  fc.integer({ min: 129, max: 600 }).map((n) => ({ segment: encodeURIComponent('😀'.repeat(n)), decoded: '😀'.repeat(n) })),
  fc.integer({ min: 100, max: 128 }).map((n) => ({ segment: 'o'.repeat(n), decoded: 'o'.repeat(n) })),
  fc
    .constantFrom('%', '%Z', '%ZZ', '%E0%A4', '%ED%A0%80', '%C0%AF', '%FF%FE', 'a%', '%%41')
    .map((segment) => ({ segment, decoded: undefined })),
);

/**
 * Odd order and order line ids in the path: 400 when not ids the routes take (bad encoding, empty, over 128 characters,
 * counted in code points), else 404 (no flow).
 */
export const idTries: fc.Arbitrary<TryBuild> = fc
  .tuple(
    idSegment,
    fc.constantFrom('orderId', 'orderLineId', 'both'),
    idSegment,
    fc.constantFrom('GET proofs', 'POST proofs', 'POST transitions'),
    validProof,
    validTransition,
  )
  .map(([a, which, b, route, proof, transition]) => (ctx: BuildContext): SellerTry => {
    const own = { segment: encodeURIComponent(`${ctx.tag}-o`), decoded: `${ctx.tag}-o` };
    const [order, orderLine] = which === 'orderId' ? [a, own] : which === 'orderLineId' ? [own, a] : [a, b];
    const valid = (s: { decoded: string | undefined }) =>
      s.decoded !== undefined && [...s.decoded].length >= 1 && [...s.decoded].length <= 128;
    const tail = route === 'POST transitions' ? 'transitions' : 'proofs';
    const body =
      route === 'POST proofs'
        ? JSON.stringify(proof(ctx.fixture))
        : route === 'POST transitions'
          ? JSON.stringify(transition.body)
          : undefined;
    return {
      method: route === 'GET proofs' ? 'GET' : 'POST',
      path: `/seller/supervision/${order.segment}/${orderLine.segment}/${tail}`,
      ...(body !== undefined ? { body } : {}),
      statuses: valid(order) && valid(orderLine) ? [404] : [400],
      ids: [order.decoded ?? order.segment, orderLine.decoded ?? orderLine.segment],
    };
  });
