import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ConsoleBundle } from '#lib/console/bundle.ts';
import { CONTENT_SECURITY_POLICY, consoleServer, contentSecurityPolicy, filesBucketOrigin } from '#lib/console/serve.ts';
import { handler } from '../../functions/console.ts';

/** How the console function answers: the page, hashed assets, 404s, caching, compression and security headers. */

const script = `console.log(${JSON.stringify('x'.repeat(2000))});`;
const bundle: ConsoleBundle = {
  files: {
    'index.html': {
      contentType: 'text/html; charset=utf-8',
      body: '<!doctype html><script type="module" src="/console/assets/app-AB12.js"></script>',
    },
    'assets/app-AB12.js': { contentType: 'text/javascript; charset=utf-8', body: script },
    'assets/app-CD34.css': { contentType: 'text/css; charset=utf-8', body: 'body{margin:0}' },
  },
};
const serve = consoleServer(bundle);
const get = (path: string, acceptEncoding?: string) => serve({ method: 'GET', path, acceptEncoding });

const SECURITY = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

describe('the console function', () => {
  it('serves the page at /console and /console/, revalidated on every visit', () => {
    for (const path of ['/console', '/console/']) {
      const page = get(path);
      expect(page.status).toBe(200);
      expect(page.body).toBe(bundle.files['index.html']!.body);
      expect(page.headers).toMatchObject({ ...SECURITY, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
    }
  });

  it('serves a hashed asset cached for a year, immutable', () => {
    const css = get('/console/assets/app-CD34.css');
    expect(css.status).toBe(200);
    expect(css.body).toBe('body{margin:0}');
    expect(css.headers).toMatchObject({
      ...SECURITY,
      'Content-Type': 'text/css; charset=utf-8',
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });

  it('allows only its own origin: no inline code, no framing, no plug-ins', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });

  it('answers 404, with the security headers, for an unknown asset, a path outside the console and a traversal', () => {
    for (const path of [
      '/console/assets/app-ZZZZ.js',
      '/console/assets/',
      '/console/other',
      '/console/assets/../index.html',
      '/consoles',
      '/console/assets/toString',
    ]) {
      const answer = get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers, path).toMatchObject({ ...SECURITY, 'Cache-Control': 'no-store' });
    }
    expect(get('/console/assets/index.html').status).toBe(404);
  });

  it('gzips a large file for a browser that accepts it, and only then', () => {
    const zipped = get('/console/assets/app-AB12.js', 'br, gzip;q=0.8, deflate');
    expect(zipped.headers).toMatchObject({ 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    expect(zipped.isBase64Encoded).toBe(true);
    expect(gunzipSync(Buffer.from(zipped.body, 'base64')).toString()).toBe(script);
    expect(get('/console/assets/app-AB12.js', 'gzip').body).toBe(zipped.body);
    const plain = get('/console/assets/app-AB12.js', 'br');
    expect(plain.headers['Content-Encoding']).toBeUndefined();
    expect(plain.body).toBe(script);
    // Small files are not worth it.
    expect(get('/console/assets/app-CD34.css', 'gzip').headers['Content-Encoding']).toBeUndefined();
  });

  it('answers HEAD without a body, and 405 for other methods', () => {
    const head = serve({ method: 'HEAD', path: '/console/assets/app-AB12.js', acceptEncoding: 'gzip' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(serve({ method: 'HEAD', path: '/console' }).body).toBe('');
    const post = serve({ method: 'POST', path: '/console' });
    expect(post.status).toBe(405);
    expect(post.headers).toMatchObject({ ...SECURITY, Allow: 'GET, HEAD' });
  });

  it('says so (503) when it runs from source, without the console built into its bundle', async () => {
    const event = {
      rawPath: '/console',
      headers: { 'Accept-Encoding': 'gzip' },
      requestContext: { http: { method: 'GET' } },
    } as unknown as APIGatewayProxyEventV2;
    const answer = await handler(event);
    expect(answer.statusCode).toBe(503);
    expect(answer.body).toContain('serverless package');
    // Its policy names the files bucket of the environment it runs in (here the test stack's S3 endpoint).
    expect(answer.headers).toMatchObject({ ...SECURITY, 'Content-Security-Policy': contentSecurityPolicy(filesBucketOrigin(process.env)) });
    expect(filesBucketOrigin(process.env)).toBeDefined();
  });
});

describe("the files bucket's origin in the console's policy", () => {
  it('is the virtual-hosted bucket address on AWS, the endpoint locally (path style), the bucket under a custom endpoint', () => {
    expect(filesBucketOrigin({ FILES_BUCKET: 'isv-files', AWS_REGION: 'ap-southeast-1' })).toBe(
      'https://isv-files.s3.ap-southeast-1.amazonaws.com',
    );
    const local = {
      FILES_BUCKET: 'isv-files',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4767/',
      S3_FORCE_PATH_STYLE: 'true',
    };
    expect(filesBucketOrigin(local)).toBe('http://127.0.0.1:4767');
    expect(filesBucketOrigin({ ...local, AWS_ENDPOINT_URL_S3: undefined, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' })).toBe(
      'http://127.0.0.1:5000',
    );
    expect(filesBucketOrigin({ ...local, S3_FORCE_PATH_STYLE: 'false', AWS_ENDPOINT_URL_S3: 'https://s3.example.com' })).toBe(
      'https://isv-files.s3.example.com',
    );
  });

  it('is none without a bucket, or with an endpoint that is not a URL', () => {
    expect(filesBucketOrigin({ AWS_REGION: 'us-east-1' })).toBeUndefined();
    expect(filesBucketOrigin({ FILES_BUCKET: 'b', AWS_ENDPOINT_URL_S3: 'not a url' })).toBeUndefined();
    expect(filesBucketOrigin({ FILES_BUCKET: 'b' })).toBeUndefined();
  });

  it('lets the page upload to that origin only (connect-src and form-action), everything else unchanged', () => {
    const policy = contentSecurityPolicy('https://isv-files.s3.ap-southeast-1.amazonaws.com');
    expect(policy).toContain("connect-src 'self' https://isv-files.s3.ap-southeast-1.amazonaws.com");
    expect(policy).toContain("form-action 'self' https://isv-files.s3.ap-southeast-1.amazonaws.com");
    expect(policy).toContain("default-src 'self'");
    expect(contentSecurityPolicy(undefined)).toBe(CONTENT_SECURITY_POLICY);
    const served = consoleServer(bundle, { uploadOrigin: 'http://127.0.0.1:4767' })({ method: 'GET', path: '/console' });
    expect(served.headers['Content-Security-Policy']).toBe(contentSecurityPolicy('http://127.0.0.1:4767'));
    expect(
      consoleServer(bundle, { uploadOrigin: 'http://127.0.0.1:4767' })({ method: 'GET', path: '/nope' }).headers['Content-Security-Policy'],
    ).toContain('connect-src');
  });
});
