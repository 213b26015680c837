/**
 * A call's time budget: how long the caller waits for its answer, and the steps inside it that wait on other
 * systems. Each step runs with `budget.step(limit, run)`: it is abandoned when its limit passes (never later than
 * the end of the budget), with a `StepTimeout`. The AWS clients built in lib/aws/clients.ts send every command with
 * the abort signal of the step it runs in (`stepSignal()`), so the request itself is cancelled too and the SDK does
 * not retry it; a port that ignores the signal is still no longer waited for.
 *
 * Time is monotonic (performance.now()), independent of the clock the flows use for business time.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** How long one step may take: at most `atMost` ms from its start, ending `leaving` ms before the budget's end or at the mark `by`. */
export interface StepLimit {
  atMost?: number;
  /** Milliseconds of the budget kept for what follows the step. */
  leaving?: number;
  /** A mark on the budget's clock (`elapsed()` units) the step must end by. */
  by?: number;
}

export interface Budget {
  /** Milliseconds since the budget started. */
  elapsed(): number;
  /** Runs `run` within `limit`; rejects with a StepTimeout when the limit passes first. */
  step<T>(limit: StepLimit, run: () => Promise<T>): Promise<T>;
}

/** A step that ran out of its time (the name is the SDK's for its own timeouts). */
export class StepTimeout extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly allowedMs: number) {
    super(`abandoned after ${allowedMs} ms`);
  }
}

const currentStep = new AsyncLocalStorage<AbortSignal>();

/** The abort signal of the budget step the caller runs in, if any. */
export function stepSignal(): AbortSignal | undefined {
  return currentStep.getStore();
}

/** A budget of `totalMs` from now. */
export function budget(totalMs: number, now: () => number = () => performance.now()): Budget {
  const startedAt = now();
  const elapsed = () => now() - startedAt;

  /** What is left for a step: the least of its limits, never below zero. */
  const allowance = (limit: StepLimit): number => {
    const untilMark = Math.min(totalMs - (limit.leaving ?? 0), limit.by ?? Infinity) - elapsed();
    return Math.max(0, Math.floor(Math.min(limit.atMost ?? Infinity, untilMark)));
  };

  async function step<T>(limit: StepLimit, run: () => Promise<T>): Promise<T> {
    const allowedMs = allowance(limit);
    if (allowedMs <= 0) throw new StepTimeout(0);
    const controller = new AbortController();
    const abandoned = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new StepTimeout(allowedMs)), { once: true });
    });
    const timer = setTimeout(() => controller.abort(new StepTimeout(allowedMs)), allowedMs);
    const running = currentStep.run(controller.signal, run);
    // An abandoned step may still settle later; its outcome is no longer anyone's concern.
    running.catch(() => {});
    abandoned.catch(() => {});
    try {
      return await Promise.race([running, abandoned]);
    } finally {
      clearTimeout(timer);
    }
  }

  return { elapsed, step };
}
