import { describe, expect, it } from 'vitest';
import { bodySignHeader } from '#lib/koogallery/signature.ts';
import { bodySignVerdict } from '#lib/simulator/client.ts';

/**
 * The simulator's verdict on an answer's `Body-Sign` header (spec §7.4): the format the marketplace reads, with
 * optional whitespace around `=` and `,`, and the base64 signature compared exactly (base64 is case-sensitive).
 */

// spec §7.4 test vector
const KEY = 'testAccessKey-0123456789';
const BODY = '{"resultCode":"000000","resultMsg":"success.","instanceId":"61e834ba-7b97-4418-b8f7-e5345137278c"}';
const SIGNATURE = 'yHbSuDSZ1EdlwZX+mFdQDu1MgVTBQbvestpbA2rfWSc=';

const verdictOf = (value: string) => bodySignVerdict([['Body-Sign', value]], BODY, KEY);

/** The signature with the case of its first letter flipped: still valid base64, another value. */
function flippedCase(signature: string): string {
  const at = signature.search(/[A-Za-z]/);
  const letter = signature[at]!;
  const flipped = letter === letter.toUpperCase() ? letter.toLowerCase() : letter.toUpperCase();
  return `${signature.slice(0, at)}${flipped}${signature.slice(at + 1)}`;
}

describe('Body-Sign verdict', () => {
  it('accepts the exact form the server sends (spec §7.4 vector)', () => {
    expect(bodySignHeader(KEY, BODY)).toBe(`sign_type="HMAC-SHA256", signature= "${SIGNATURE}"`);
    expect(verdictOf(`sign_type="HMAC-SHA256", signature= "${SIGNATURE}"`)).toBe('valid');
  });

  it('refuses the signature with one letter in another case', () => {
    expect(flippedCase(SIGNATURE)).not.toBe(SIGNATURE);
    expect(verdictOf(`sign_type="HMAC-SHA256", signature= "${flippedCase(SIGNATURE)}"`)).toBe('invalid');
    expect(verdictOf(`sign_type="HMAC-SHA256", signature= "${SIGNATURE.toLowerCase()}"`)).toBe('invalid');
  });

  it.each([
    ['without any space (Huawei Node sample)', `sign_type="HMAC-SHA256",signature="${SIGNATURE}"`],
    ['with spaces around = and ,', `sign_type = "HMAC-SHA256" ,  signature =  "${SIGNATURE}"`],
    ['with a tab after the comma', `sign_type="HMAC-SHA256",\tsignature="${SIGNATURE}"`],
    ['with whitespace around the whole value', `  sign_type="HMAC-SHA256", signature= "${SIGNATURE}"  `],
  ])('accepts the format %s', (_name, value) => {
    expect(verdictOf(value)).toBe('valid');
  });

  it.each([
    ['an unquoted signature', `sign_type="HMAC-SHA256", signature= ${SIGNATURE}`],
    ['an unquoted sign_type', `sign_type=HMAC-SHA256, signature= "${SIGNATURE}"`],
    ['another sign_type', `sign_type="HMAC-SHA1", signature= "${SIGNATURE}"`],
    ['sign_type in lower case', `sign_type="hmac-sha256", signature= "${SIGNATURE}"`],
    ['no sign_type', `signature= "${SIGNATURE}"`],
    ['no signature', 'sign_type="HMAC-SHA256"'],
    ['an empty signature', 'sign_type="HMAC-SHA256", signature= ""'],
    ['parameter names in another case', `Sign_Type="HMAC-SHA256", Signature= "${SIGNATURE}"`],
    ['no comma', `sign_type="HMAC-SHA256" signature= "${SIGNATURE}"`],
    ['a parameter after the signature', `sign_type="HMAC-SHA256", signature= "${SIGNATURE}", extra="1"`],
    ['the signature twice', `sign_type="HMAC-SHA256", signature= "${SIGNATURE}", signature= "${SIGNATURE}"`],
    ['text after the closing quote', `sign_type="HMAC-SHA256", signature= "${SIGNATURE}"x`],
    ['the bare signature', SIGNATURE],
    ['an empty value', ''],
  ])('refuses %s', (_name, value) => {
    expect(verdictOf(value)).toBe('invalid');
  });

  it('refuses a signature over other bytes', () => {
    expect(bodySignVerdict([['Body-Sign', bodySignHeader(KEY, `${BODY}\n`)]], BODY, KEY)).toBe('invalid');
    expect(bodySignVerdict([['Body-Sign', bodySignHeader('another-key-0123456789', BODY)]], BODY, KEY)).toBe('invalid');
  });
});
