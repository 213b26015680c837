/**
 * What `npm start` publishes for the tools run beside it (the operator CLI, the simulator, the first request):
 * `.local/stack.json`, written once the stack is up and removed when it stops. It holds the URLs, the AWS endpoints
 * and the functions' own settings (tables, queues, bucket), the marketplace's access key and the local seller key,
 * so a tool run against the local stack needs no setting at all. Local values only: the file is readable by its
 * owner alone and `.local/` is never committed.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { projectRoot } from './serverless-config.ts';

export const STACK_FILE = join(projectRoot(), '.local', 'stack.json');

const Url = z.string().url();

export const LocalStackSchema = z.object({
  version: z.literal(1),
  /** The `npm start` process: a file whose process is gone describes a stack that stopped without cleaning up. */
  pid: z.number().int().positive(),
  startedAt: z.string(),
  stage: z.string().min(1),
  region: z.string().min(1),
  /** The emulators' credentials. */
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }),
  urls: z.object({
    /** HTTP API root, e.g. http://127.0.0.1:3000 */
    http: Url,
    /** The production interface. */
    produce: Url,
    /** The seller API's root (routes under it: /seller/…). */
    seller: Url,
    /** The Lambda invoke API of serverless offline. */
    lambda: Url,
    fakeOpenApi: Url.optional(),
    webhookReceiver: Url.optional(),
    /** The fake OneAccess: a tenant's domainName is `<url>/t/<tenantId>`. */
    fakeOneAccess: Url.optional(),
  }),
  endpoints: z.object({ dynamodb: Url, sqs: Url, s3: Url }),
  /** The functions' environment: settings, table and queue names, the bucket, endpoints. */
  env: z.record(z.string(), z.string()),
  /** The marketplace's access key the production interface verifies (local value). */
  accessKey: z.string().min(1),
  /** A seller API key with every scope. */
  sellerKey: z.object({ keyId: z.string().min(1), secret: z.string().min(1) }),
  /**
   * The joint-operation Kit calls: the Kit access key they are signed with and the public half of the seller's RSA
   * key (bare base64 SPKI) that applicationSync's clientSecret is encrypted with. Never the private key.
   */
  kit: z.object({ accessKey: z.string().min(1), publicKey: z.string().min(1) }).optional(),
});

export type LocalStack = z.infer<typeof LocalStackSchema>;

/** Writes the file (owner read/write only). */
export function writeStackFile(stack: LocalStack, file = STACK_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(LocalStackSchema.parse(stack), null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Removes the file if it is this process's (a second `npm start` that failed to start leaves the first's alone). */
export function removeStackFile(pid = process.pid, file = STACK_FILE): void {
  const found = readStackFile(file);
  if (found.ok && found.stack.pid === pid) rmSync(file, { force: true });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The running local stack, or why there is none (in words a person can act on). */
export function readStackFile(file = STACK_FILE): { ok: true; stack: LocalStack } | { ok: false; reason: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { ok: false, reason: 'the local stack is not running: start it with `npm start`' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${file} is not JSON: restart \`npm start\`` };
  }
  const result = LocalStackSchema.safeParse(parsed);
  if (!result.success) return { ok: false, reason: `${file} is not what this version of the tools reads: restart \`npm start\`` };
  if (!alive(result.data.pid)) {
    return { ok: false, reason: `the local stack (pid ${result.data.pid}) has stopped: start it with \`npm start\`` };
  }
  return { ok: true, stack: result.data };
}
