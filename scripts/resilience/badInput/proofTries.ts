/** Delivery-proof requests the supervision routes refuse. */
import fc from 'fast-check';
import { isProofContentType, PROOF_CONTENT_TYPES, PROOF_KINDS } from '#lib/supervision/proofs.ts';
import { anyText, loneSurrogate, notIsoTime, overLong, smallWrongType, withField } from './arbitraries.ts';
import type { Body, BuildContext, Fixture } from './cases.ts';
import {
  anyLine,
  badSha256,
  type Broken,
  fixedValue,
  missingOrNull,
  nonObjectBodyTries,
  type SellerTry,
  sha256Arb,
  supervisionPath,
  supervisionPost,
  type TryBuild,
  unsupervisedLine,
} from './sellerTries.ts';

/** A delivery-proof request a supervised order line would accept (the recipe sends it only where there is none). */
export const validProof = fc
  .tuple(
    fc.constantFrom(...PROOF_KINDS),
    fc.constantFrom(
      'deployment.pdf',
      'screenshot.png',
      '验收报告.pdf',
      'SOW v2 (signed).docx',
      'logs.zip',
      'x',
      '.env.pdf',
      'a'.repeat(255),
    ),
    fc.constantFrom(...PROOF_CONTENT_TYPES, ' Application/PDF ', 'IMAGE/PNG'),
    fc.integer({ min: 1, max: 1_000_000 }),
    sha256Arb,
    fc.option(fc.constantFrom('2026-01-01T08:00:00+08:00', '2026-10-31T16:00:00Z', '2026-11-01T00:00:00.123Z'), { nil: undefined }),
  )
  .map(([kind, fileName, contentType, size, sha256, serviceStartAt]) => (fixture: Fixture): Body => ({
    kind,
    fileName,
    contentType,
    size: Math.min(size, fixture.proofMaxBytes),
    sha256,
    ...(serviceStartAt ? { serviceStartAt } : {}),
  }));

const PROOF_FIELDS = ['kind', 'fileName', 'contentType', 'size', 'sha256', 'serviceStartAt'];

/** One field of a proof request the flow refuses (422), whatever the order line. */
const brokenProofField: fc.Arbitrary<{ field: string } & Broken> = fc.oneof(
  fc
    .oneof(
      smallWrongType.map(fixedValue('wrong type')),
      missingOrNull,
      fc
        .constantFrom(
          'Deployment',
          'deployment ',
          ' requirement',
          'appeal_evidence',
          'license_screenshot',
          'licence-screenshot',
          'proof',
          '',
          '__proto__',
          'toString',
          'ｄｅｐｌｏｙｍｅｎｔ',
          'deployment\u0000',
        )
        .map(fixedValue('unknown kind')),
      anyText(30)
        .filter((s) => !(PROOF_KINDS as readonly string[]).includes(s))
        .map(fixedValue('unknown kind')),
      loneSurrogate.map(fixedValue('lone surrogate')),
    )
    .map((b) => ({ field: 'kind', ...b })),
  fc
    .oneof(
      smallWrongType.map(fixedValue('wrong type')),
      missingOrNull,
      fc.constant('').map(fixedValue('empty')),
      overLong(255).map(fixedValue('over 255 characters')),
      fc
        .tuple(
          fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
          fc.constantFrom(
            '/',
            '\\',
            '\u0000',
            '\n',
            '\r',
            '\t',
            '\u001b',
            '\u007f',
            '\u0085',
            '\u009f',
            '\u202a',
            '\u202e',
            '\u2066',
            '\u2069',
          ),
          fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
        )
        .map(([a, c, b]) => a + c + b)
        .map(fixedValue('path separator or control character')),
      fc
        .constantFrom('.', '..', '../../etc/passwd', 'C:\\proofs\\a.pdf', '/a.pdf', 'invoice\u202efdp.exe')
        .map(fixedValue('not a plain file name')),
      loneSurrogate.map(fixedValue('lone surrogate')),
    )
    .map((b) => ({ field: 'fileName', ...b })),
  fc
    .oneof(
      smallWrongType.map(fixedValue('wrong type')),
      missingOrNull,
      fc
        .constantFrom(
          '',
          ' ',
          'text/html',
          'image/svg+xml',
          'application/x-msdownload',
          'application/javascript',
          'text/javascript',
          'application/x-sh',
          'text/csv',
          'application/octet-stream',
          'image/gif',
          'application/pdf; charset=binary',
          'application/pdf\u0000',
          'application/pdf,image/png',
          'pdf',
          '*/*',
          'application/*',
          'multipart/form-data',
        )
        .map(fixedValue('content type not accepted')),
      anyText(60)
        .filter((s) => !isProofContentType(s.trim().toLowerCase()))
        .map(fixedValue('content type not accepted')),
      overLong(200).map(fixedValue('over-long')),
      loneSurrogate.map(fixedValue('lone surrogate')),
    )
    .map((b) => ({ field: 'contentType', ...b })),
  fc
    .oneof(
      fc
        .constantFrom<unknown>(0, -1, -1024, 0.5, 1.5, 1e-9, '1024', '', true, [], {}, [1024])
        .map(fixedValue('zero, negative, fractional or not a number')),
      missingOrNull,
      fc
        .double({ noNaN: true, noDefaultInfinity: true })
        .filter((d) => !Number.isInteger(d) || d < 1)
        .map(fixedValue('zero, negative or fractional')),
      fc.integer({ min: 1, max: 1_000_000_000 }).map((n): Broken => ({ label: 'over the maximum', value: (f) => f.proofMaxBytes + n })),
      fc.constantFrom(1e21, Number.MAX_SAFE_INTEGER, 2 ** 64).map(fixedValue('over the maximum')),
    )
    .map((b) => ({ field: 'size', ...b })),
  badSha256.map((b) => ({ field: 'sha256', ...b })),
  fc
    .oneof(
      fc
        .constantFrom<unknown>(
          'yesterday',
          '2026-01-01',
          '2026-01-01T00:00:00',
          '2026-13-01T00:00:00Z',
          '2026-02-30T00:00:00Z',
          '2026-01-01 00:00:00Z',
          '2026-01-01T24:00:00Z',
          '2026-01-01T00:00:00+25:00',
          '1735689600000',
          '',
          1735689600000,
          null,
          true,
          '２０２６-01-01T00:00:00Z',
        )
        .map(fixedValue('not an ISO date-time with an offset')),
      notIsoTime.map(fixedValue('not an ISO date-time with an offset')),
    )
    .map((b) => ({ field: 'serviceStartAt', ...b })),
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom('proofId', 'key', 'state', 'round', 'orderId', 'bucket', 'url', 'verifiedAt', '__proto__'),
        anyText(12, 1).filter((k) => !PROOF_FIELDS.includes(k)),
      ),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([field, value]) => ({ field, label: 'unknown field', value: () => value })),
);

/** One thing wrong with a proof request; malformed JSON, or no object: refused before the order line is looked up. */
export const proofRequestTries: fc.Arbitrary<TryBuild> = fc.oneof(
  fc
    .tuple(validProof, fc.array(brokenProofField, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.nat())
    .map(([valid, broken, elsewhere, pick]) => (ctx: BuildContext): SellerTry => {
      let body = valid(ctx.fixture);
      for (const b of broken) body = withField(body, b.field, b.value(ctx.fixture));
      const line = anyLine(ctx, elsewhere, pick);
      return supervisionPost(line, 'proofs', body, [422]);
    }),
  nonObjectBodyTries('proofs'),
);

/** A valid delivery-proof request, and a GET, for an order line without a supervision flow: 404. */
export const noFlowTries: fc.Arbitrary<TryBuild> = fc
  .tuple(validProof, fc.nat(), fc.boolean())
  .map(([proof, pick, get]) => (ctx: BuildContext): SellerTry => {
    const line = unsupervisedLine(ctx, pick);
    return get
      ? { method: 'GET', path: supervisionPath(line, 'proofs'), statuses: [404], ids: [line.orderId, line.orderLineId] }
      : supervisionPost(line, 'proofs', proof(ctx.fixture), [404]);
  });
