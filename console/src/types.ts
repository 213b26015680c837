/** The seller API's answers as the console reads them (the OpenAPI document at /seller/openapi.json has them all). */
import type { Scope } from './scopes.ts';

export const INSTANCE_STATES = ['PROVISIONING', 'PROVISIONING_FAILED', 'ACTIVE', 'FROZEN', 'RELEASED'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export interface WhoAmI {
  keyId: string;
  name: string;
  scopes: Scope[];
}

export interface Instance {
  instanceId: string;
  orderId: string;
  orderLineId: string;
  state: InstanceState;
  test: boolean;
  productId?: string;
  expireTime?: string;
  appInfo?: { frontEndUrl: string; adminUrl?: string; userName?: string; memo?: string };
  provisioning?: { failure?: { reason: string; at: string; eventId: string }; stuckSince?: string };
  overdueSince?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface HistoryEntry {
  version: number;
  at: string;
  actor: string;
  activity: string;
  event: string;
  from?: string;
  to: string;
  reason?: string;
}

export interface ProvisioningAttempt {
  attempts: number;
  status: 'calling' | 'answered';
  startedAt: string;
  answeredAt?: string;
  lastError?: string;
  nextRetryAt?: string;
}

export interface InstanceDetail {
  instance: Instance;
  history: HistoryEntry[];
  provisioning?: ProvisioningAttempt;
}

export const MESSAGE_CHANNELS = ['marketplace', 'usagePush', 'openApi', 'webhook'] as const;

export interface Message {
  messageId: string;
  at: string;
  channel: string;
  resultCode: string;
  activity?: string;
  claimedActivity?: string;
  orderId?: string;
  instanceId?: string;
  reason?: string;
  records?: number;
}

export interface SellerAction {
  at: string;
  correlationId: string;
  channel: 'sellerApi' | 'operator';
  actorId: string;
  actor: { kind: string; name?: string; keyId?: string; principal?: string };
  action: string;
  target: Record<string, string>;
  result: { outcome: 'ok' | 'refused' | 'failed'; status?: number; errorCode?: string };
}

export interface SellerKey {
  keyId: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface StatementHeader {
  period: string;
  status: 'DRAFT' | 'CLOSED';
  latestVersion: number;
  lineCount: number;
  problems: number;
  totals: Record<string, { lines: number; gross: string; net: string }>;
  updatedAt: string;
}

export interface Notification {
  id: string;
  type: string;
  at: string;
  subject: string;
  summary: string;
  link?: string;
  status: string;
}

export const SUPERVISION_STATES = ['AWAITING_DELIVERY', 'PROOF_SUBMITTED', 'HUAWEI_REVIEW', 'ACCEPTED', 'REJECTED'] as const;
export type SupervisionState = (typeof SUPERVISION_STATES)[number];

export interface Supervision {
  orderId: string;
  orderLineId: string;
  instanceId: string;
  productId: string;
  enablingCloud: boolean;
  requiredKinds: string[];
  state: SupervisionState;
  round: number;
  rejections: number;
  appeal?: { openedAt: string; reason: string; evidence: string[] };
  serviceStartAt?: string;
  acceptedAt?: string;
  updatedAt: string;
}

export interface SupervisionHistoryEntry {
  version: number;
  at: string;
  actor: string;
  action: string;
  from?: string;
  to: string;
  round: number;
  reason?: string;
  note?: string;
  by?: { keyId: string; name?: string };
}

export interface Proof {
  proofId: string;
  kind: string;
  fileName: string;
  size: number;
  state: 'AWAITING_UPLOAD' | 'VERIFIED' | 'REJECTED';
  round: number;
  requestedAt: string;
  verifiedAt?: string;
  rejection?: { reason: string; message: string };
  downloadUrl?: string;
}

export interface SupervisionDetail {
  supervision: Supervision;
  currentRound: { round: number; requiredKinds: string[]; verifiedKinds: string[]; missingKinds: string[] };
  history: SupervisionHistoryEntry[];
  proofs: Proof[];
}
