/**
 * A message's kept request or answer (GET /seller/messages/{messageId}) as text to show: the redacted JSON pretty
 * printed when it was kept whole, the cut text when it was truncated. Always text: the page renders it as the
 * content of a `<pre>`, never as HTML. (Pure, unit-tested.)
 */

export interface KeptBody {
  truncated: boolean;
  body?: unknown;
  text?: string;
}

export interface ShownBody {
  text: string;
  truncated: boolean;
}

export function shownBody(kept: KeptBody | undefined): ShownBody | undefined {
  if (!kept) return undefined;
  if (kept.truncated) return { text: kept.text ?? '', truncated: true };
  return { text: JSON.stringify(kept.body ?? null, null, 2), truncated: false };
}
