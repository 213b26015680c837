import { useEffect, useState } from 'preact/hooks';
import { href, parseHash, type Route } from './routes.ts';
import type { Query } from './api.ts';

/** Following the hash route (routes.ts) in components. */

export { href, parseHash, type Route };

export const navigate = (segments: readonly string[], query: Query = {}): void => {
  location.hash = href(segments, query);
};

/** The current route, following the hash. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
