import type { Json, JsonObject } from './canonicalJson.ts';

/**
 * A JSON reader that keeps what `JSON.parse` loses, so the signature is checked over exactly the content received
 * (spec §7.2): each number keeps its source text (`1.0`, `1e21`, `-0`, 20-digit integers), every key is kept
 * (`__proto__` included) in received order, and a key repeated within one object is refused rather than silently
 * resolved, so the signature check and the activity validation can never see different members.
 * The grammar is RFC 8259's, the same that `JSON.parse` accepts.
 */

/** A number as written in the body. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** An object's members in received order; a Map, so no key is special. */
export type JsonMap = Map<string, JsonNode>;
export type JsonNode = null | boolean | string | JsonNumber | JsonNode[] | JsonMap;

export type JsonTreeReading = { ok: true; value: JsonNode } | { ok: false; problem: 'malformed' | 'duplicate key' | 'too deep' };

class Refused extends Error {
  constructor(readonly problem: 'malformed' | 'duplicate key' | 'too deep') {
    super(problem);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** A run of string characters that need no decoding: no quote, backslash or control character. */
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const PLAIN_CHARS = /[^"\\\u0000-\u001f]*/y;
const SHORT_ESCAPES = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

class Reader {
  private at = 0;
  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  document(): JsonNode {
    const value = this.value(0);
    this.skipSpace();
    if (this.at !== this.text.length) throw new Refused('malformed');
    return value;
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.at++;
    }
  }

  private expect(literal: string): void {
    if (!this.text.startsWith(literal, this.at)) throw new Refused('malformed');
    this.at += literal.length;
  }

  private value(depth: number): JsonNode {
    this.skipSpace();
    switch (this.text[this.at]) {
      case '{':
        return this.object(depth + 1);
      case '[':
        return this.array(depth + 1);
      case '"':
        return this.string();
      case 't':
        this.expect('true');
        return true;
      case 'f':
        this.expect('false');
        return false;
      case 'n':
        this.expect('null');
        return null;
      default:
        return this.number();
    }
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) throw new Refused('malformed');
    this.at += match[0].length;
    return new JsonNumber(match[0]);
  }

  private string(): string {
    this.at++; // opening quote
    let out = '';
    for (;;) {
      PLAIN_CHARS.lastIndex = this.at;
      const run = PLAIN_CHARS.exec(this.text)?.[0] ?? '';
      out += run;
      this.at += run.length;
      const c = this.text[this.at];
      if (c === '"') {
        this.at++;
        return out;
      }
      if (c !== '\\') throw new Refused('malformed'); // end of text, or a raw control character
      out += this.escape();
    }
  }

  private escape(): string {
    const kind = this.text[this.at + 1] ?? '';
    this.at += 2;
    if (kind !== 'u') {
      const short = SHORT_ESCAPES.get(kind);
      if (short === undefined) throw new Refused('malformed');
      return short;
    }
    const hex = this.text.slice(this.at, this.at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Refused('malformed');
    this.at += 4;
    return String.fromCharCode(parseInt(hex, 16));
  }

  private array(depth: number): JsonNode[] {
    if (depth > this.maxDepth) throw new Refused('too deep');
    this.at++;
    const items: JsonNode[] = [];
    this.skipSpace();
    if (this.text[this.at] === ']') {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === ']') return items;
      if (c !== ',') throw new Refused('malformed');
    }
  }

  private object(depth: number): JsonMap {
    if (depth > this.maxDepth) throw new Refused('too deep');
    this.at++;
    const members: JsonMap = new Map();
    this.skipSpace();
    if (this.text[this.at] === '}') {
      this.at++;
      return members;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '"') throw new Refused('malformed');
      const key = this.string();
      this.skipSpace();
      this.expect(':');
      const value = this.value(depth);
      if (members.has(key)) throw new Refused('duplicate key');
      members.set(key, value);
      this.skipSpace();
      const c = this.text[this.at++];
      if (c === '}') return members;
      if (c !== ',') throw new Refused('malformed');
    }
  }
}

/**
 * Reads JSON text into a tree that keeps every key and each number's source text. Refuses repeated keys, and
 * objects or arrays nested deeper than `maxDepth` (lib/koogallery/canonicalJson.ts `MAX_JSON_DEPTH` for bodies).
 */
export function parseJsonTree(text: string, maxDepth: number): JsonTreeReading {
  try {
    return { ok: true, value: new Reader(text, maxDepth).document() };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, problem: error.problem };
    throw error;
  }
}

/**
 * The tree as plain values, for schema validation. Objects are built by `Object.fromEntries`, which defines each
 * member as an own property, so a `__proto__` member stays a member (an assignment would set the prototype and
 * drop it). Numbers become JavaScript numbers: no activity schema reads a numeric field.
 */
export function plainValue(node: JsonNode): Json {
  if (node instanceof JsonNumber) return Number(node.text);
  if (Array.isArray(node)) return node.map(plainValue);
  if (node instanceof Map) return Object.fromEntries([...node].map(([key, value]) => [key, plainValue(value)])) as JsonObject;
  return node;
}
