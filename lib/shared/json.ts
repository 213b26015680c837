import { safeParse, type $ZodError, type $ZodType, type output } from 'zod/v4/core';

export type Parsed<T> = { ok: true; value: T } | { ok: false; issue: string };

/** A zod error as one line: every issue with its path. */
const issuesText = (error: $ZodError): string => error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');

/** A message body (a queue message, a stored event) parsed as JSON and checked by `schema`; or what is wrong with it. */
export function parseJsonMessage<S extends $ZodType>(body: string, schema: S): Parsed<output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, issue: 'the body is not JSON' };
  }
  const parsed = safeParse(schema, json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issue: issuesText(parsed.error) };
}
