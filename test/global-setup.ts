/**
 * vitest globalSetup: one local stack for the whole run.
 * DynamoDB Local (in memory) and fauxqs start on free ports, the tables, queues and buckets of serverless.yml are
 * created for stage `test`, and the functions' settings are put in process.env *before* the test workers start.
 *
 * How the settings reach the tests: vitest 4 forks its workers after globalSetup has run and gives them
 * `{ ...process.env, ...test.env }` of the main process, so the variables set here are in every worker's
 * process.env before any test module (and so lib/config.ts) is imported. They are also provided as
 * `inject('localStack')` for tests that prefer that.
 */
import type { TestProject } from 'vitest/node';
import { createResources, startDynamoDbLocal, startFauxqs, type Emulator } from '../scripts/local/emulators.ts';
import { awsEnv, resourceEnv } from '../scripts/local/env.ts';
import { freePort } from '../scripts/local/processes.ts';

export const TEST_STAGE = 'test';
export const TEST_ACCESS_KEY = 'testAccessKey-0123456789';

export interface LocalStackInfo {
  /** Everything that was put in process.env. */
  env: Record<string, string>;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  tables: Record<string, string>;
  queues: Record<string, { name: string; url: string; arn: string }>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    localStack: LocalStackInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const stops: (() => Promise<void>)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error('[global-setup] teardown:', e));
    stops.length = 0;
  };
  try {
    const [dynamoResult, fauxqsResult] = await Promise.allSettled([
      freePort().then((port) => startDynamoDbLocal({ port })),
      startFauxqs({ port: 0 }),
    ]);
    for (const r of [dynamoResult, fauxqsResult]) if (r.status === 'fulfilled') stops.push(r.value.stop);
    if (dynamoResult.status === 'rejected') throw dynamoResult.reason;
    if (fauxqsResult.status === 'rejected') throw fauxqsResult.reason;
    const dynamo: Emulator = dynamoResult.value;
    const fauxqs: Emulator = fauxqsResult.value;

    const resources = await createResources({
      stage: TEST_STAGE,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: fauxqs.endpoint,
    });
    const env: Record<string, string> = {
      ...resourceEnv(resources),
      ...awsEnv({ dynamo: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint }),
      STAGE: TEST_STAGE,
      KOOGALLERY_ACCESS_KEY: TEST_ACCESS_KEY,
      // The handler-level tests run provisioning synchronously (template appInfo at once); the provisioning
      // tests build their own worker against the fake Open API and a webhook receiver.
      ORDER_QUERY: 'false',
      PROVISIONING_MODE: 'template',
    };
    // A developer's AWS profile must never be used by the tests.
    for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_ENDPOINT_URL']) delete process.env[name];
    Object.assign(process.env, env);
    project.provide('localStack', {
      env,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: fauxqs.endpoint,
      tables: resources.tables,
      queues: resources.queues,
    });
    console.log(
      `[global-setup] DynamoDB Local ${dynamo.endpoint} + fauxqs ${fauxqs.endpoint}, stage "${TEST_STAGE}" ready in ${Date.now() - started} ms`,
    );
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
