import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { config, meteringSettings } from '../lib/config.ts';
import { log } from '../lib/log.ts';
import { handleSellerRequest, type RouterContext } from '../lib/seller-api/router.ts';
import { sellerRoutes, type SellerDeps } from '../lib/seller-api/allRoutes.ts';
import { apiKeyStore } from '../lib/store/apiKeyStore.ts';
import { dynamoClient } from '../lib/aws/clients.ts';
import { instanceStore } from '../lib/store/instanceStore.ts';
import { sellerViews } from '../lib/store/sellerViews.ts';
import { usageStore } from '../lib/store/usageStore.ts';
import { supervisionDeps } from '../lib/supervision/deps.ts';
import { settlementDeps } from '../lib/settlement/deps.ts';
import { reconciliationDeps } from '../lib/settlement/reconciliation.ts';
import { parseBillColumns } from '../lib/settlement/billComparison.ts';
import { reconciliationStore } from '../lib/store/reconciliationStore.ts';
import { s3Client } from '../lib/aws/clients.ts';

/**
 * /seller/… — the seller API (lib/seller-api/allRoutes.ts): usage reports, instances, the message log, delivery
 * proofs and supervision, monthly statements and their reconciliation, and the OpenAPI document, authenticated
 * with seller API keys (`npm run keys`).
 */

let context: RouterContext<SellerDeps> | undefined;

function routerContext(): RouterContext<SellerDeps> {
  if (context) return context;
  const cfg = config();
  const client = dynamoClient();
  const tables = { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE };
  const instances = instanceStore(client, tables);
  const keys = apiKeyStore(client, cfg.MAIN_TABLE);
  const settlement = settlementDeps(cfg, { dynamo: client, log });
  // Reads, writes and signs download links and upload forms (no checksum parameters in URLs).
  const s3 = s3Client({ forcePathStyle: cfg.S3_FORCE_PATH_STYLE });
  return (context = {
    routes: sellerRoutes,
    authenticate: (secret, now) => keys.authenticate(secret, now),
    deps: {
      views: sellerViews(client, tables),
      usage: {
        instances: (ids) => instances.getInstances(ids),
        ledger: usageStore(client, cfg.MAIN_TABLE),
        settings: meteringSettings(cfg),
        now: Date.now,
        log,
      },
      supervision: supervisionDeps(cfg),
      statements: {
        settlement,
        reconciliation: reconciliationDeps(settlement, {
          records: reconciliationStore(client, cfg.MAIN_TABLE),
          s3,
          presigner: s3,
          columns: parseBillColumns(cfg.BILL_COLUMNS),
        }),
        presigner: s3,
      },
    },
    now: Date.now,
    maxBodyBytes: cfg.SELLER_MAX_BODY_BYTES,
    log,
  });
}

async function seller(event: APIGatewayProxyEventV2, lambda: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const raw = event.body ?? undefined;
  const answer = await handleSellerRequest(
    {
      method: event.requestContext.http.method,
      path: event.rawPath,
      headers: event.headers ?? {},
      query: event.queryStringParameters ?? {},
      body: raw !== undefined && event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw,
      correlationId: lambda.awsRequestId,
    },
    routerContext(),
  );
  return { statusCode: answer.status, headers: answer.headers, body: answer.body };
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(seller);
