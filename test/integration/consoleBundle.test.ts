import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { embedConsolePlugin } from '../../scripts/console/esbuildPlugin.ts';
import { projectRoot } from '../../scripts/local/serverless-config.ts';

/**
 * The console function bundled as serverless-esbuild bundles it (serverless.yml custom.esbuild: CommonJS for Node,
 * the console plugin) carries the built console: the bundle alone answers the page and each asset it names.
 * (test/infra/template.test.ts checks the same in the zip `serverless package` writes.)
 */

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const dir = mkdtempSync(join(tmpdir(), 'console-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (path: string): APIGatewayProxyEventV2 =>
  ({
    rawPath: path,
    headers: { 'accept-encoding': 'gzip' },
    requestContext: { http: { method: 'GET' } },
  }) as unknown as APIGatewayProxyEventV2;

const text = (answer: APIGatewayProxyStructuredResultV2) =>
  answer.isBase64Encoded ? gunzipSync(Buffer.from(String(answer.body), 'base64')).toString() : String(answer.body);

describe('the bundled console function', () => {
  it('answers the page and every asset the page names from its bundle alone', async () => {
    const out = await build({
      entryPoints: [join(projectRoot(), 'functions', 'console.ts')],
      bundle: true,
      minify: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      plugins: [embedConsolePlugin()],
    });
    const file = join(dir, 'console.cjs');
    writeFileSync(file, out.outputFiles[0]!.contents);
    const { handler } = createRequire(import.meta.url)(file) as { handler: Handler };

    const page = await handler(event('/console'));
    expect(page.statusCode).toBe(200);
    const html = text(page);
    expect(html).toContain('<div id="app"></div>');
    expect(html).not.toMatch(/<script>|<style>|style=/);
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => /\/app-[A-Z0-9]+\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /\/app-[A-Z0-9]+\.css$/.test(a))).toBe(true);
    for (const asset of assets) {
      const answer = await handler(event(asset));
      expect(answer.statusCode, asset).toBe(200);
      expect(answer.headers?.['Cache-Control'], asset).toBe('public, max-age=31536000, immutable');
      expect(text(answer).length, asset).toBeGreaterThan(100);
    }
    expect((await handler(event('/console/assets/app-NOPE.js'))).statusCode).toBe(404);
  });
});
