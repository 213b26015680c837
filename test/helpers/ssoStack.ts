/**
 * The single sign-on on real HTTP for the tests: the sso function (functions/sso.ts, as API Gateway would invoke
 * it) on 127.0.0.1, the fake OneAccess, the Kit sync's directory items written into DynamoDB Local, keys made for
 * the run, and a tiny product that receives the assertion. The function's settings go into process.env before it
 * is imported, so call `startSsoStack` once per test file.
 */
import { constants, generateKeyPairSync, publicEncrypt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { newDynamoClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/store/keys.ts';
import { toItem } from '#lib/store/dynamo.ts';
import { startFakeOneAccess, type FakeOneAccess, type FakeOneAccessOptions } from '../../scripts/local/fake-oneaccess.ts';
import { httpApiEvent } from './httpApiEvent.ts';
import { lambdaContext } from './produce.ts';

export const SSO_PRODUCT_SECRET = 'product-secret-for-tests-0123456789';
export const SSO_APP_ID = 'app-0bd452b0';
export const SSO_CLIENT = { clientId: 'client-1', clientSecret: 'cs-Demo_Secret-0123456789' };

export interface DirectoryUser {
  userName: string;
  name: string;
  role: 'admin' | 'user';
  enabled: boolean;
  status: 'AUTHORISED' | 'REVOKED' | 'DELETED';
}

export interface SsoStack {
  /** e.g. http://127.0.0.1:41234 ; the routes are under /sso/. */
  url: string;
  productUrl: string;
  /** Assertions the product received, newest last. */
  received: string[];
  fake: FakeOneAccess;
  /** Writes a tenant, its app and users as the Kit sync stores them. */
  seedTenant(tenantId: string, users: DirectoryUser[], options?: { domainName?: string; tenantCode?: string }): Promise<void>;
  close(): Promise<void>;
}

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const readAll = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
};

export async function startSsoStack(
  options: { fake?: Partial<FakeOneAccessOptions>; env?: Record<string, string> } = {},
): Promise<SsoStack> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const received: string[] = [];

  const product = createServer((req, res) => {
    void readAll(req).then((body) => {
      const assertion = new URLSearchParams(body).get('assertion');
      if (req.method === 'POST' && assertion) received.push(assertion);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Product</title><p>product login</p>');
    });
  });
  const productUrl = await listen(product);

  type Handler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
  /** The sso function, imported once its settings are in process.env. */
  const loaded: { handler?: Handler } = {};
  const sso = createServer((req, res) => {
    void (async () => {
      const event = httpApiEvent(req, await readAll(req), `${req.method ?? 'GET'} /sso/{proxy+}`);
      const result = (await loaded.handler!(event, lambdaContext(randomUUID()))) as {
        statusCode: number;
        headers: Record<string, string>;
        cookies?: string[];
        body: string;
      };
      const headers: Record<string, string | string[]> = { ...result.headers };
      if (result.cookies?.length) headers['set-cookie'] = result.cookies;
      res.writeHead(result.statusCode, headers).end(result.body);
    })().catch((error: unknown) => res.writeHead(502).end(String(error)));
  });
  const url = await listen(sso);

  const fake = await startFakeOneAccess({ port: 0, clients: { [SSO_CLIENT.clientId]: SSO_CLIENT.clientSecret }, ...options.fake });
  Object.assign(process.env, {
    SSO_CALLBACK_URL: `${url}/sso/callback`,
    SSO_PRODUCT_LOGIN_URL: `${productUrl}/login/sso`,
    SSO_APP_ID: SSO_APP_ID,
    SSO_SIGNING_KEY: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    SSO_PRODUCT_SECRET: SSO_PRODUCT_SECRET,
    KIT_RSA_PRIVATE_KEY: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    SSO_TIMEOUT_MS: '1000',
    ...options.env,
  });
  loaded.handler = (await import('../../functions/sso.ts')).handler as Handler;

  const dynamo = newDynamoClient();
  const table = process.env.MAIN_TABLE!;
  const ciphertext = publicEncrypt(
    { key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(SSO_CLIENT.clientSecret),
  ).toString('base64');

  return {
    url,
    productUrl,
    received,
    fake,
    async seedTenant(tenantId, users, seed = {}) {
      const put = (item: ReturnType<typeof toItem>) => dynamo.send('PutItem', { TableName: table, Item: item });
      await put(
        toItem(keys.tenant(tenantId), {
          tenantId,
          tenantCode: seed.tenantCode ?? `code-${tenantId}`,
          name: `Enterprise ${tenantId}`,
          domainName: seed.domainName ?? fake.domainOf(tenantId),
          status: 'ACTIVE',
          instanceIds: ['inst-1'],
          test: false,
        }),
      );
      await put(
        toItem(keys.kitApp(tenantId, SSO_APP_ID), {
          appId: SSO_APP_ID,
          clientId: SSO_CLIENT.clientId,
          clientSecretCiphertext: ciphertext,
          status: 'ACTIVE',
        }),
      );
      for (const user of users) {
        await put(toItem(keys.kitUser(tenantId, SSO_APP_ID, user.userName), { ...user, orgCode: 'org-1' }));
        fake.addUser({ tenantId, userName: user.userName, name: user.name });
      }
    },
    async close() {
      await fake.close();
      for (const server of [sso, product]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      dynamo.destroy();
    },
  };
}
