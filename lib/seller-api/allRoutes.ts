import * as z from 'zod';
import { openApiDocument } from './openapi.ts';
import { defineRoute, type AnyRoute } from './defineRoute.ts';
import { listSellerActions, type AuditRouteDeps } from './routes/audit.ts';
import { deadLetterDepth, type DeadLetterRouteDeps } from './routes/deadLetters.ts';
import { keyRoutes, type KeyRouteDeps } from './routes/keys.ts';
import { getInstance, getMessage, listInstances, listMessages, type ViewRouteDeps } from './routes/instances.ts';
import { replayRoutes, type ReplayRouteDeps } from './routes/replay.ts';
import { getNotification, listNotifications, type NotificationRouteDeps } from './routes/notifications.ts';
import { statementRoutes, type StatementRouteDeps } from './routes/statements.ts';
import { supervisionRoutes, type SupervisionRouteDeps } from './routes/supervision.ts';
import { tenantRoutes, type TenantRouteDeps } from './routes/tenants.ts';
import { reportUsage, resendUsageWindow, usageLedger, type UsageRouteDeps } from './routes/usage.ts';

/** Every seller API route (functions/seller.ts serves them under /seller/…). */

export type SellerDeps = ViewRouteDeps &
  UsageRouteDeps &
  SupervisionRouteDeps &
  StatementRouteDeps &
  AuditRouteDeps &
  ReplayRouteDeps &
  NotificationRouteDeps &
  KeyRouteDeps &
  DeadLetterRouteDeps &
  TenantRouteDeps;

/** The usage routes alone, for tools that drive only them (the usage benchmark, the fault runs). */
export const usageRoutes: readonly AnyRoute<UsageRouteDeps>[] = [reportUsage, usageLedger];

const apiRoutes: AnyRoute<SellerDeps>[] = [
  listInstances,
  getInstance,
  listMessages,
  getMessage,
  ...replayRoutes,
  deadLetterDepth,
  ...usageRoutes,
  resendUsageWindow,
  ...supervisionRoutes,
  ...statementRoutes,
  listSellerActions,
  listNotifications,
  getNotification,
  ...keyRoutes,
  ...tenantRoutes,
];

let document: Record<string, unknown> | undefined;

export const openApiRoute = defineRoute({
  method: 'GET',
  path: '/seller/openapi.json',
  summary: 'This document',
  scope: null,
  response: z.record(z.string(), z.unknown()),
  async handle() {
    document ??= openApiDocument(sellerRoutes, { title: 'KooGallery ISV server: seller API', version: '1' });
    return { body: document };
  },
});

export const sellerRoutes: readonly AnyRoute<SellerDeps>[] = [...apiRoutes, openApiRoute];
