/**
 * The department tree of a full org sync (spec kit.md §3.5): the list is flat and a child may come before its
 * parent, so it is read in two passes: first every department by code, then each one's parent resolved. The result
 * lists parents before children (the order the seller's product can create them in). A code listed twice, or a
 * cycle, makes the list unusable; a parent that is not listed is kept as given (it may arrive by an incremental sync).
 */
import type { OrgInfo } from '#lib/koogallery/kitActivities.ts';

export type OrgTree =
  { ok: true; ordered: OrgInfo[]; /** Departments whose parent is not in the list. */ orphans: string[] } | { ok: false; reason: string };

export function buildOrgTree(list: readonly OrgInfo[]): OrgTree {
  // Pass 1: every department by its code.
  const byCode = new Map<string, OrgInfo>();
  for (const org of list) {
    if (byCode.has(org.orgCode)) return { ok: false, reason: `orgInfoList lists orgCode ${org.orgCode.slice(0, 64)} twice` };
    byCode.set(org.orgCode, org);
  }
  // Pass 2: each department's children, and the roots (no parent, or a parent not listed).
  const children = new Map<string, OrgInfo[]>();
  const roots: OrgInfo[] = [];
  const orphans: string[] = [];
  for (const org of list) {
    const parent = org.parentCode;
    if (parent === '' || !byCode.has(parent)) {
      if (parent !== '') orphans.push(org.orgCode);
      roots.push(org);
      continue;
    }
    if (parent === org.orgCode) return { ok: false, reason: `orgInfoList has a cycle at orgCode ${org.orgCode.slice(0, 64)}` };
    children.set(parent, [...(children.get(parent) ?? []), org]);
  }
  const ordered: OrgInfo[] = [];
  const queue = [...roots];
  for (let next = queue.shift(); next; next = queue.shift()) {
    ordered.push(next);
    queue.push(...(children.get(next.orgCode) ?? []));
  }
  if (ordered.length !== list.length) {
    const stuck = list.find((org) => !ordered.includes(org));
    return { ok: false, reason: `orgInfoList has a cycle at orgCode ${(stuck?.orgCode ?? '').slice(0, 64)}` };
  }
  return { ok: true, ordered, orphans };
}
