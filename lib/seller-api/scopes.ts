/**
 * The seller API's scopes: what a key may do. A module of its own with no imports, so the console's bundle
 * (console/src/scopes.ts) takes the same list the server checks.
 */
export const SCOPES = [
  'usage:write',
  'usage:read',
  'instances:read',
  'proofs:write',
  'statements:read',
  'statements:write',
  'messages:read',
  'messages:replay',
  'supervision:decide',
  'audit:read',
  'keys:manage',
  'kit:read',
] as const;
export type Scope = (typeof SCOPES)[number];
