/**
 * Text taken from a request that has not been authenticated, made safe to store, log and show: at most `maxLength`
 * characters, each outside the allowed set replaced by `_`, so that no control character, line break or markup
 * reaches the message log, the logs or a page that shows them.
 */

/** Characters of an identifier (an activity name): letters, digits, `_`, `.` and `-`. */
const TOKEN_CHARACTER = /^[A-Za-z0-9_.-]$/;
/** Characters of a query parameter name as quoted in a refusal: a token's, plus space, `%`, `+` and `*`. */
export const NAME_CHARACTER = /^[A-Za-z0-9 _.%+*-]$/;

/** The first `maxLength` characters (code points) of `value`, each one outside `allowed` replaced by `_`. */
export function safeText(value: string, maxLength: number, allowed: RegExp = TOKEN_CHARACTER): string {
  // A code point is at most two UTF-16 units: this bounds the work on a long value.
  const head = Array.from(value.slice(0, maxLength * 2)).slice(0, maxLength);
  return head.map((character) => (allowed.test(character) ? character : '_')).join('');
}
