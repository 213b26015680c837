/**
 * Where the operator CLI works: the local stack (`.local/stack.json`, written by `npm start`) or a deployed stage
 * (`--stage NAME`: the outputs of the CloudFormation stack `koogallery-isv-NAME`, read with DescribeStacks and the
 * usual AWS credentials). Either way the result is the functions' settings (tables, queues, bucket) and, for the
 * process, the AWS region, endpoints and credentials the clients of lib/aws read from the environment.
 */
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { errorMessage } from '#lib/shared/errors.ts';
import { readStackFile, STACK_FILE } from '../local/stackFile.ts';

/** The deploy region when neither --region nor AWS_REGION names one (serverless.yml's default). */
export const DEFAULT_REGION = 'ap-southeast-1';

export interface OperatorSettings {
  source: 'local' | 'stage';
  stage: string;
  region: string;
  /** The functions' settings: MAIN_TABLE, AUDIT_TABLE, queue URLs, FILES_BUCKET (locally every other one too). */
  env: Record<string, string>;
  /** The provisioning queue's dead-letter queue, when the stack names it. */
  provisioningDeadLetterQueueUrl?: string;
  /** The HTTP API's root (the seller API is under /seller/…). */
  httpUrl?: string;
  /** A seller API key the CLI may use (the local stack's). */
  sellerKey?: string;
  /** What the process's AWS environment must hold to reach this stack (endpoints, credentials, region). */
  processEnv: Record<string, string>;
}

/** A setting the CLI cannot find, in words that say what to do. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** The local stack's settings, from the file `npm start` writes. */
export function localSettings(file = STACK_FILE): OperatorSettings {
  const found = readStackFile(file);
  if (!found.ok) throw new SettingsError(`${found.reason} (or name a deployed stage with --stage)`);
  const { stack } = found;
  return {
    source: 'local',
    stage: stack.stage,
    region: stack.region,
    env: stack.env,
    httpUrl: stack.urls.http,
    sellerKey: stack.sellerKey.secret,
    processEnv: {
      AWS_REGION: stack.region,
      AWS_ACCESS_KEY_ID: stack.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
      AWS_ENDPOINT_URL_S3: stack.endpoints.s3,
    },
  };
}

/** The CloudFormation stack of a stage (serverless.yml's service name and the stage). */
export const stackName = (stage: string): string => `koogallery-isv-${stage}`;

/** Stack output → the function setting it gives (resources/outputs.yml). */
const OUTPUT_SETTINGS = {
  MainTableName: 'MAIN_TABLE',
  AuditTableName: 'AUDIT_TABLE',
  ProvisioningQueueUrl: 'PROVISIONING_QUEUE_URL',
  SettlementQueueUrl: 'SETTLEMENT_QUEUE_URL',
  FilesBucketName: 'FILES_BUCKET',
} as const;

/** Reads a stack's outputs (DescribeStacks); replaceable in tests. */
export type DescribeOutputs = (stack: string, region: string) => Promise<Output[]>;

export const describeOutputs: DescribeOutputs = async (stack, region) => {
  const client = new CloudFormationClient({ region, maxAttempts: 3 });
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stack }));
    return Stacks[0]?.Outputs ?? [];
  } finally {
    client.destroy();
  }
};

/** Why DescribeStacks failed, and what to do about it. */
function stackReadError(error: unknown, stage: string, region: string, profile: string | undefined): SettingsError {
  const name = error instanceof Error ? error.name : '';
  const message = errorMessage(error);
  if (/does not exist/.test(message)) {
    return new SettingsError(
      `no stack ${stackName(stage)} in ${region}: deploy it (\`npx serverless deploy --stage ${stage} --region ${region}\`) or name its region with --region`,
    );
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    if (profile)
      return new SettingsError(
        `the AWS profile ${JSON.stringify(profile)} (AWS_PROFILE) gives no credentials to read ${stackName(stage)}: check it in ~/.aws/config, or run \`aws sso login --profile ${profile}\``,
      );
    return new SettingsError(
      `no AWS credentials to read ${stackName(stage)}: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run \`aws sso login\` (${message})`,
    );
  }
  return new SettingsError(`could not read the stack ${stackName(stage)} in ${region}: ${message}`);
}

/** A deployed stage's settings, from its stack's outputs. */
export async function stageSettings(
  stage: string,
  region: string | undefined,
  describe: DescribeOutputs = describeOutputs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OperatorSettings> {
  if (!/^[a-zA-Z0-9-]{1,32}$/.test(stage))
    throw new SettingsError(`--stage must be a stage name (letters, digits, -), got ${JSON.stringify(stage)}`);
  const chosenRegion = region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULT_REGION;
  let outputs: Output[];
  try {
    outputs = await describe(stackName(stage), chosenRegion);
  } catch (error) {
    throw stackReadError(error, stage, chosenRegion, env.AWS_PROFILE);
  }
  const value = (key: string): string | undefined => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  const settings: Record<string, string> = { STAGE: stage };
  const missing: string[] = [];
  for (const [output, setting] of Object.entries(OUTPUT_SETTINGS)) {
    const found = value(output);
    if (found) settings[setting] = found;
    else missing.push(output);
  }
  if (missing.length > 0) {
    throw new SettingsError(
      `the stack ${stackName(stage)} has no output ${missing.join(', ')}: deploy this version of the project (\`npx serverless deploy --stage ${stage}\`)`,
    );
  }
  const dlq = value('ProvisioningDeadLetterQueueUrl');
  const http = value('HttpApiUrl');
  return {
    source: 'stage',
    stage,
    region: chosenRegion,
    env: settings,
    ...(dlq ? { provisioningDeadLetterQueueUrl: dlq } : {}),
    ...(http ? { httpUrl: http } : {}),
    processEnv: { AWS_REGION: chosenRegion },
  };
}

/** Gives the process what the settings say: the region, endpoints and credentials, and the functions' settings. */
export function applySettings(settings: OperatorSettings, env: NodeJS.ProcessEnv = process.env): void {
  Object.assign(env, settings.env, settings.processEnv);
}
