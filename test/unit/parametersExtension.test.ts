import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { extensionParameterReader, ParameterNotFound } from '#lib/aws/parametersExtension.ts';
import { parseConfig } from '#lib/config.ts';
import { accessKeyLoader } from '#lib/koogallery/accessKeys.ts';
import { keyId } from '#lib/koogallery/signature.ts';
import { budget } from '#lib/shared/budget.ts';

const TOKEN = 'session-token-of-the-function';
const CURRENT = '/koogallery-isv/prod/access-key';
const PREVIOUS = '/koogallery-isv/prod/previous-access-key';
const HANGING = '/koogallery-isv/prod/hanging';
const MALFORMED = '/koogallery-isv/prod/malformed';
const GONE = '/koogallery-isv/prod/gone';
const SECRET = 'current-secret-value-0123456789';

/** What the fake extension holds; a test may take the previous key away. */
const stored = new Map<string, string>();

interface Seen {
  url: string;
  token: string | undefined;
}

/** A local stand-in for the Parameters and Secrets extension: checks the token, decrypts only when asked. */
function fakeExtension(seen: Seen[], closed: string[]): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = req.headers['x-aws-parameters-secrets-token'];
    seen.push({ url: req.url ?? '', token: typeof token === 'string' ? token : undefined });
    const name = url.searchParams.get('name') ?? '';
    if (token !== TOKEN) return void res.writeHead(401).end('unauthorized');
    if (url.pathname !== '/systemsmanager/parameters/get') return void res.writeHead(404).end('not found');
    if (name === HANGING) return void req.socket.on('close', () => closed.push(name));
    if (name === GONE) return void res.writeHead(404).end(`ParameterNotFound: Parameter ${name} not found.`);
    if (name === MALFORMED) return void res.writeHead(200).end(`{"Parameter":"${SECRET}"`);
    const value = stored.get(name);
    if (value === undefined) {
      return void res.writeHead(400).end(`an unexpected error occurred: ParameterNotFound: Parameter ${name} not found.`);
    }
    const decrypted = url.searchParams.get('withDecryption') === 'true';
    const Parameter = { Name: name, Type: 'SecureString', Value: decrypted ? value : 'AQICAHh-ciphertext', Version: 3 };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Parameter }));
  });
}

const seen: Seen[] = [];
const closed: string[] = [];
const server = fakeExtension(seen, closed);
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  seen.length = 0;
  closed.length = 0;
  stored.clear();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const reader = (timeoutMs = 2_000) => extensionParameterReader({ host: '127.0.0.1', port, timeoutMs, token: () => TOKEN });
const onAws = parseConfig({
  MAIN_TABLE: 'm',
  AUDIT_TABLE: 'a',
  PROVISIONING_QUEUE_URL: 'http://127.0.0.1:1/0/q',
  ORDER_QUERY: 'false',
  KOOGALLERY_ACCESS_KEY_PARAMETER: CURRENT,
  KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER: PREVIOUS,
});

describe('extensionParameterReader', () => {
  it('asks for the decrypted value of the URL-encoded name with the session token', async () => {
    stored.set(CURRENT, SECRET);
    expect(await reader()(CURRENT)).toBe(SECRET);
    expect(seen).toEqual([{ url: `/systemsmanager/parameters/get?name=${encodeURIComponent(CURRENT)}&withDecryption=true`, token: TOKEN }]);
  });

  it('sends AWS_SESSION_TOKEN and uses PARAMETERS_SECRETS_EXTENSION_HTTP_PORT by default', async () => {
    stored.set(CURRENT, SECRET);
    vi.stubEnv('AWS_SESSION_TOKEN', TOKEN);
    vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', String(port));
    expect(await extensionParameterReader({ host: '127.0.0.1' })(CURRENT)).toBe(SECRET);
    expect(seen.map((s) => s.token)).toEqual([TOKEN]);
  });

  it('asks nothing without a session token, and reports a refused token without the answer body', async () => {
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    await expect(extensionParameterReader({ host: '127.0.0.1', port })(CURRENT)).rejects.toThrow('AWS_SESSION_TOKEN is not set');
    expect(seen).toEqual([]);
    const wrongToken = extensionParameterReader({ host: '127.0.0.1', port, token: () => 'someone-else' });
    await expect(wrongToken(CURRENT)).rejects.toThrow(`the Parameters and Secrets extension answered 401 for ${CURRENT}`);
  });

  it('rejects a missing parameter with ParameterNotFound', async () => {
    const error = await reader()(PREVIOUS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParameterNotFound);
    expect((error as Error).name).toBe('ParameterNotFound');
    await expect(reader()(GONE)).rejects.toThrow(ParameterNotFound);
  });

  it('gives up on an extension that does not answer after its timeout, and closes the connection', async () => {
    const started = performance.now();
    const error = await reader(150)(HANGING).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect((error as Error).message).toContain('took over 150 ms');
    expect(performance.now() - started).toBeLessThan(1_000);
    await vi.waitFor(() => expect(closed).toEqual([HANGING]));
  });

  it('is cancelled with the budget step it runs in', async () => {
    const started = performance.now();
    const error = await budget(5_000)
      .step({ atMost: 100 }, () => reader(4_000)(HANGING))
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(performance.now() - started).toBeLessThan(1_000);
    await vi.waitFor(() => expect(closed).toEqual([HANGING]));
  });

  it('never puts a value in an error message or a log line', async () => {
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    stored.set(CURRENT, SECRET);
    await reader()(CURRENT);
    const error = await reader()(MALFORMED).catch((e: unknown) => e);
    vi.restoreAllMocks();
    expect((error as Error).message).toBe(`the Parameters and Secrets extension answered ${MALFORMED} with an unexpected body`);
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(written.join('')).not.toContain(SECRET);
  });
});

describe('access keys through the extension', () => {
  it('reads the current and the previous key', async () => {
    stored.set(CURRENT, 'new-key');
    stored.set(PREVIOUS, 'old-key');
    expect(await accessKeyLoader(onAws, reader())()).toEqual([
      { id: keyId('new-key'), secret: 'new-key' },
      { id: keyId('old-key'), secret: 'old-key' },
    ]);
  });

  it('tolerates a missing previous key (no rotation under way)', async () => {
    stored.set(CURRENT, 'new-key');
    expect(await accessKeyLoader(onAws, reader())()).toEqual([{ id: keyId('new-key'), secret: 'new-key' }]);
  });

  it('fails when the current key is missing', async () => {
    stored.set(PREVIOUS, 'old-key');
    await expect(accessKeyLoader(onAws, reader())()).rejects.toThrow(ParameterNotFound);
  });
});
