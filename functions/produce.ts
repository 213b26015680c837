import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { asyncProvisioning, config, meteringSettings } from '../lib/config.ts';
import { marketplaceErrors, toHttpResponse, toProduceCall } from '../lib/http/produceHttp.ts';
import { changePolicyFor } from '../lib/instances/changePolicy.ts';
import { handleProduceCall, type ProduceDeps } from '../lib/instances/produceCall.ts';
import { accessKeyLoader } from '../lib/koogallery/accessKeys.ts';
import type { AccessKey } from '../lib/koogallery/auth.ts';
import { answer, ResultCode } from '../lib/koogallery/resultCodes.ts';
import { log } from '../lib/log.ts';
import { sqsPublisher } from '../lib/outbox/publisher.ts';
import { sqsClient } from '../lib/aws/clients.ts';
import { dynamoClient } from '../lib/aws/clients.ts';
import { instanceStore } from '../lib/store/instanceStore.ts';
import { licenseStore } from '../lib/store/licenseStore.ts';
import { usageStore } from '../lib/store/usageStore.ts';

/**
 * POST /koogallery/produce — the production interface (spec §3); GET — its legacy V1 form (spec §6).
 * The function's timeout is 6 s (serverless.yml); middy answers 1.5 s before it, so the marketplace
 * gets an answer within its 5 s budget even when a dependency hangs.
 */
const TIMEOUT_EARLY_MS = 1_500;

let deps: ProduceDeps | undefined;
let lastKey: AccessKey | undefined;

function produceDeps(): ProduceDeps {
  if (deps) return deps;
  return (deps = buildDeps());
}

function buildDeps(): ProduceDeps {
  const cfg = config();
  const loadKeys = accessKeyLoader(cfg);
  const ledger = usageStore(dynamoClient(), cfg.MAIN_TABLE);
  return {
    accessKeys: async () => {
      const keys = await loadKeys();
      lastKey = keys[0];
      return keys;
    },
    store: instanceStore(dynamoClient(), { main: cfg.MAIN_TABLE, audit: cfg.AUDIT_TABLE }),
    licenses: licenseStore(dynamoClient(), cfg.MAIN_TABLE),
    publisher: sqsPublisher(sqsClient(), cfg.PROVISIONING_QUEUE_URL),
    changePolicy: changePolicyFor(cfg.CHANGE_CHECK_POLICY),
    usage: { settings: meteringSettings(cfg), totals: (ids) => ledger.totals(ids) },
    settings: {
      maxBodyBytes: cfg.MAX_BODY_BYTES,
      signatureWindowSeconds: cfg.SIGNATURE_WINDOW_SECONDS,
      nonceTtlSeconds: cfg.NONCE_TTL_SECONDS,
      testTtlDays: cfg.TEST_INSTANCE_TTL_DAYS,
      releaseUnknownAnswer: cfg.RELEASE_UNKNOWN_ANSWER,
      provisioning: { async: asyncProvisioning(cfg), inProgressAnswer: cfg.QUERY_PROVISIONING_ANSWER },
      v1EncryptType: cfg.V1_ENCRYPT_TYPE,
      appInfo: {
        frontEndUrl: cfg.APP_FRONTEND_URL_TEMPLATE,
        adminUrl: cfg.APP_ADMIN_URL_TEMPLATE,
        userName: cfg.APP_USER_NAME_TEMPLATE,
        memo: cfg.APP_MEMO,
      },
    },
    now: Date.now,
    log,
  };
}

/** The call being handled is a legacy V1 one (a Lambda instance handles one call at a time). */
let handlingV1 = false;

/** V1 answers are always signed (spec §7.4), error answers included; V2 answers as configured. */
const bodySign = () => {
  if (handlingV1) return true;
  try {
    return config().BODY_SIGN;
  } catch {
    return false;
  }
};

async function produce(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const call = toProduceCall(event, context.awsRequestId);
  handlingV1 = call.version === 'v1';
  const result = await handleProduceCall(call, produceDeps());
  return toHttpResponse(result.answer, result.signingKey, bodySign());
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
  timeoutEarlyInMillis: TIMEOUT_EARLY_MS,
  timeoutEarlyResponse: () => toHttpResponse(answer(ResultCode.internalError), lastKey, bodySign()),
})
  .use(marketplaceErrors(log, () => ({ key: lastKey, bodySign: bodySign() })))
  .handler(produce);
