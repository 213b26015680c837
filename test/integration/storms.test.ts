import { describe, expect, it } from 'vitest';
import { storm } from '../../scripts/resilience/storms.ts';

/**
 * Concurrency storms on the shared test stack: every lifecycle call, three copies each, all at once on one instance;
 * the history stays one chain, the instance is its last state, every order applies once, nothing follows a release.
 */
describe('concurrency storms', () => {
  it.each([
    ['without a release', false],
    ['with a release among them', true],
  ])(
    '%s: every call answered 000000 and the instance consistent',
    async (_title, withRelease) => {
      const results = await Promise.all(Array.from({ length: 4 }, () => storm(3, withRelease)));
      for (const r of results) expect(r.problems, r.instanceId).toEqual([]);
      expect(results.every((r) => r.calls === (withRelease ? 18 : 15))).toBe(true);
    },
    60_000,
  );
});
