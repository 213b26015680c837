/** Counting the answers per generator and showing a failing input. */
import type { Target } from './cases.ts';
import type { Outcome } from './judge.ts';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
/** JSON string escapes show control characters and lone surrogates. */
const shown = (s: string, n: number) => JSON.stringify(clip(s, n));

/** A failing input, readable and short. */
export function describeOutcome(o: Outcome): string {
  const e = o.case.event;
  const lines = [
    `[${o.case.generator}] ${o.problem ?? ''}`,
    `  ${e.requestContext.http.method} ${shown(e.rawPath, 200)}${e.rawQueryString ? ` ?${shown(e.rawQueryString, 400)}` : ''}`,
  ];
  const auth = e.headers?.authorization ?? e.headers?.Authorization;
  if (auth !== undefined) lines.push(`  authorization: ${shown(auth, 120)}`);
  if (e.body !== undefined) lines.push(`  body${e.isBase64Encoded ? ' (base64)' : ''}: ${shown(e.body, 400)}`);
  lines.push(`  answer: HTTP ${o.status ?? '-'} ${shown(o.body ?? '', 300)}`);
  for (const line of o.serverErrors ?? []) lines.push(`  server log: ${line}`);
  lines.push(`  correlation id: ${o.correlationId}`);
  return lines.join('\n');
}

export interface Counts {
  tried: number;
  correct: number;
  wrong: number;
  crashes: number;
}

export class Tally {
  readonly byTarget = new Map<Target, Counts>();
  readonly byGenerator = new Map<string, Counts & { target: Target }>();
  readonly failures: Outcome[] = [];
  /** Result codes (production interface) and statuses (seller API) given, per generator. */
  readonly answers = new Map<string, Map<string, number>>();

  add(o: Outcome): void {
    const bump = (c: Counts) => {
      c.tried++;
      if (o.ok) c.correct++;
      else c.wrong++;
      if (o.crash) c.crashes++;
    };
    const target = this.byTarget.get(o.case.target) ?? { tried: 0, correct: 0, wrong: 0, crashes: 0 };
    this.byTarget.set(o.case.target, target);
    bump(target);
    const gen = this.byGenerator.get(o.case.generator) ?? { target: o.case.target, tried: 0, correct: 0, wrong: 0, crashes: 0 };
    this.byGenerator.set(o.case.generator, gen);
    bump(gen);
    const answer = o.case.target === 'produce' ? (o.resultCode ?? `HTTP ${o.status ?? '-'}`) : String(o.status ?? '-');
    const seen = this.answers.get(o.case.generator) ?? new Map<string, number>();
    this.answers.set(o.case.generator, seen);
    seen.set(answer, (seen.get(answer) ?? 0) + 1);
    if (!o.ok) this.failures.push(o);
  }

  total(): Counts {
    const all = { tried: 0, correct: 0, wrong: 0, crashes: 0 };
    for (const c of this.byTarget.values()) {
      all.tried += c.tried;
      all.correct += c.correct;
      all.wrong += c.wrong;
      all.crashes += c.crashes;
    }
    return all;
  }
}
