/**
 * Exact numbers. JSON.parse turns 19.90 into the float 19.9 (and long numeric ids lose digits); on Node 20 a
 * reviver cannot see the source text. So before parsing, number literals that are values of these keys are
 * rewritten as strings holding the same characters.
 */
const EXACT_KEYS = new Set(['orderAmount', 'amount', 'orderId', 'orderLineId', 'customerId', 'userId', 'productId', 'skuCode']);
const NUMBER_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** `json` with the number values of `keys` (at any depth) turned into JSON strings of the same digits. */
export function exactNumbers(json: string, keys: ReadonlySet<string> = EXACT_KEYS): string {
  let out = '';
  let i = 0;
  let lastString: string | undefined;
  while (i < json.length) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      lastString = json.slice(i, j + 1);
      out += lastString;
      i = j + 1;
      continue;
    }
    if (c === ':') {
      out += c;
      i++;
      while (i < json.length && /\s/.test(json[i] ?? '')) out += json[i++];
      NUMBER_LITERAL.lastIndex = i;
      const m = NUMBER_LITERAL.exec(json);
      if (m && lastString !== undefined && keys.has(jsonStringValue(lastString))) {
        out += `"${m[0]}"`;
        i += m[0].length;
      }
      lastString = undefined;
      continue;
    }
    if (!/\s/.test(c ?? '')) lastString = undefined;
    out += c;
    i++;
  }
  return out;
}

function jsonStringValue(literal: string): string {
  try {
    const v: unknown = JSON.parse(literal);
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}

/** A decimal literal written without exponent, digits kept (`1.990e1` → "19.90"); undefined if not a number. */
export function plainDecimal(literal: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,3}))?$/.exec(literal);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', exp] = m;
  if (exp === undefined) return literal;
  let digits = int + frac;
  let point = int.length + Number(exp);
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const fraction = digits.slice(point);
  return sign + whole + (fraction ? `.${fraction}` : '');
}
