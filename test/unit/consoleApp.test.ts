import { describe, expect, it } from 'vitest';
import { SCOPES as SERVER_SCOPES } from '#lib/seller-api/apiKeys.ts';
import { queryString } from '../../console/src/api.ts';
import { href, parseHash } from '../../console/src/routes.ts';
import { SCOPES, visiblePages } from '../../console/src/scopes.ts';
import { findChromium } from '../browser/harness.ts';

/** The console's pure parts: its scope list matches the server's, pages by scope, hash routes, query strings. */

describe('the console app', () => {
  it('knows the same scopes as the seller API', () => {
    expect([...SCOPES]).toEqual([...SERVER_SCOPES]);
  });

  it('shows the overview to any key, and each other page only with its scope', () => {
    expect(visiblePages([]).map((p) => p.title)).toEqual(['Overview']);
    expect(visiblePages(['instances:read', 'audit:read']).map((p) => p.title)).toEqual([
      'Overview',
      'Instances',
      'Supervision',
      'Audit log',
    ]);
    expect(visiblePages(['usage:read', 'messages:read']).map((p) => p.title)).toEqual(['Overview', 'Message log', 'Usage']);
    expect(visiblePages([...SCOPES]).map((p) => p.id)).toEqual([
      '',
      'instances',
      'messages',
      'usage',
      'supervision',
      'statements',
      'keys',
      'audit',
    ]);
    expect(visiblePages(['proofs:write']).map((p) => p.id)).toEqual(['']);
  });

  it('reads and writes hash routes, segments encoded', () => {
    expect(parseHash('')).toEqual({ segments: [], query: {} });
    expect(parseHash('#/instances/a%2Fb?state=ACTIVE&cursor=x')).toEqual({
      segments: ['instances', 'a/b'],
      query: { state: 'ACTIVE', cursor: 'x' },
    });
    expect(parseHash('#/instances/%E0%A4%A')).toEqual({ segments: ['instances', '%E0%A4%A'], query: {} });
    expect(href(['instances', 'a/b'], { state: 'ACTIVE', cursor: undefined })).toBe('#/instances/a%2Fb?state=ACTIVE');
    expect(parseHash(href(['audit'], { target: 'instanceId:x y' }))).toEqual({ segments: ['audit'], query: { target: 'instanceId:x y' } });
  });

  it('leaves empty and undefined values out of a query string', () => {
    expect(queryString({ a: '1', b: '', c: undefined, d: 2 })).toBe('?a=1&d=2');
    expect(queryString({})).toBe('');
  });

  it('finds Chromium at CHROMIUM_PATH first', () => {
    expect(findChromium({ CHROMIUM_PATH: '/opt/chrome/chrome' })).toBe('/opt/chrome/chrome');
  });
});
