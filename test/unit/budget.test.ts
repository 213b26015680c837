import { describe, expect, it } from 'vitest';
import { budget, stepSignal, StepTimeout } from '#lib/shared/budget.ts';

/** A call's time budget (lib/shared/budget.ts): steps that end when their limit passes, and their abort signal. */

const never = () => new Promise<never>(() => {});

describe('a budget step', () => {
  it('gives the step its result and no signal outside a step', async () => {
    // Act
    const result = await budget(1_000).step({ atMost: 500 }, async () => (stepSignal() ? 'inside a step' : 'no signal'));

    // Assess
    expect(result).toBe('inside a step');
    expect(stepSignal()).toBeUndefined();
  });

  it('abandons a step that outlasts its limit, and aborts its signal', async () => {
    // Prepare
    let seen: AbortSignal | undefined;
    const started = performance.now();

    // Act
    const outcome = budget(5_000).step({ atMost: 50 }, () => {
      seen = stepSignal();
      return never();
    });

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(StepTimeout);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(seen?.aborted).toBe(true);
  });

  it('ends a step `leaving` ms before the budget ends, or at the mark `by`', async () => {
    // Prepare: a clock that only moves when told to
    let now = 0;
    const time = budget(1_000, () => now);
    const limits: number[] = [];
    const timed = (allowedMs: Promise<unknown>) => allowedMs.catch((e: unknown) => limits.push((e as StepTimeout).allowedMs));

    // Act
    now = 100;
    await timed(time.step({ leaving: 880 }, never));
    await timed(time.step({ atMost: 500, by: 130 }, never));

    // Assess
    expect(limits).toEqual([20, 30]);
    expect(time.elapsed()).toBe(100);
  });

  it('does not start a step when no time is left', async () => {
    // Prepare
    let started = false;

    // Act
    const outcome = budget(1_000).step({ leaving: 1_000 }, async () => {
      started = true;
    });

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'TimeoutError', allowedMs: 0 });
    expect(started).toBe(false);
  });
});
