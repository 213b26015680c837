/**
 * The seller API's scopes (lib/seller-api/scopes.ts, the list the server checks) and the pages of the console,
 * each with the scope it needs. A page a key's scopes do not allow is neither shown nor reachable.
 */

import type { Scope } from '../../lib/seller-api/scopes.ts';

export { SCOPES, type Scope } from '../../lib/seller-api/scopes.ts';

export interface PageInfo {
  /** The hash route's first segment ('' for the overview). */
  id: string;
  title: string;
  /** The scope the page needs; null: any key. */
  scope: Scope | null;
}

/** The pages in the order of the navigation. */
export const PAGES: readonly PageInfo[] = [
  { id: '', title: 'Overview', scope: null },
  { id: 'instances', title: 'Instances', scope: 'instances:read' },
  { id: 'messages', title: 'Message log', scope: 'messages:read' },
  { id: 'usage', title: 'Usage', scope: 'usage:read' },
  { id: 'supervision', title: 'Supervision', scope: 'instances:read' },
  { id: 'statements', title: 'Statements', scope: 'statements:read' },
  { id: 'keys', title: 'Keys', scope: 'keys:manage' },
  { id: 'audit', title: 'Audit log', scope: 'audit:read' },
];

export const allows = (scopes: readonly string[], scope: Scope | null): boolean => scope === null || scopes.includes(scope);

/** The pages a key with these scopes may see. */
export const visiblePages = (scopes: readonly string[]): PageInfo[] => PAGES.filter((page) => allows(scopes, page.scope));
