import { queryString, type Query } from './api.ts';

/**
 * The console's routes live in the URL's hash: `#/instances/abc?state=ACTIVE` is the page `instances`, the
 * segments after it, and a query. Links are plain `<a href>`, so they work with the keyboard, in new tabs and with
 * the back button. (Pure: the hook that follows the hash is in router.ts.)
 */

export interface Route {
  /** The path's segments, e.g. ['instances', 'abc'] ([] for the overview). */
  segments: string[];
  query: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const split = text.indexOf('?');
  const path = split < 0 ? text : text.slice(0, split);
  const search = split < 0 ? '' : text.slice(split + 1);
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, query: Object.fromEntries(new URLSearchParams(search)) };
}

/** The href of a route: `#/` + encoded segments + query. */
export const href = (segments: readonly string[], query: Query = {}): string =>
  `#/${segments.map(encodeURIComponent).join('/')}${queryString(query)}`;
