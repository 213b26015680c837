import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The marketplace's path validates with zod's smaller build (`zod/mini`): produce's bundle carries none of the full
 * build, and the refusals its schemas write read exactly as before, in English, with nothing else loaded.
 */

const ROOT = join(import.meta.dirname, '..', '..');
/** The bundling options of serverless.yml's custom.esbuild that decide what goes into a bundle. */
const BUNDLING: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  mainFields: ['module', 'main'],
  alias: { '@aws-sdk/credential-provider-node': './lib/aws/lambdaCredentials.ts' },
  absWorkingDir: ROOT,
  logLevel: 'silent',
};

const workDir = mkdtempSync(join(tmpdir(), 'produce-path-schemas-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** The zod files that put code into a bundle of `entry`, relative to the zod package. */
async function zodInputs(entry: string): Promise<string[]> {
  const result = await build({ ...BUNDLING, entryPoints: [entry], write: false, outdir: workDir, metafile: true });
  const [output] = Object.values(result.metafile.outputs);
  return Object.entries(output?.inputs ?? {})
    .filter(([input, { bytesInOutput }]) => input.includes('node_modules/zod/') && bytesInOutput > 0)
    .map(([input]) => input)
    .map((input) => input.slice(input.indexOf('node_modules/zod/') + 'node_modules/zod/'.length));
}

/** Bundles `code` (imports from lib/ only) on its own and runs it in a fresh Node process; its standard output. */
async function runBundled(code: string): Promise<string> {
  const outfile = join(workDir, 'probe.cjs');
  await build({ ...BUNDLING, stdin: { contents: code, resolveDir: ROOT, loader: 'ts' }, outfile });
  const child = spawnSync(process.execPath, [outfile], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  expect(child.stderr).toBe('');
  return child.stdout.trim();
}

describe("produce's schemas", () => {
  it('bundle none of zod’s full build, and only its English messages', async () => {
    const inputs = await zodInputs('functions/produce.ts');
    expect(inputs.some((input) => input.startsWith('v4/mini/'))).toBe(true);
    expect(inputs.filter((input) => input.startsWith('v4/classic/'))).toEqual([]);
    expect(inputs.filter((input) => input.startsWith('v4/locales/'))).toEqual(['v4/locales/en.js']);
  }, 60_000);

  it('refuse a marketplace call and a setting in the same words as before, with nothing else loaded', async () => {
    const output = await runBundled(`
      import { parseActivity } from '#lib/koogallery/activities.ts';
      import { parseConfig } from '#lib/config.ts';
      import { parseLifecycleMessage } from '#lib/outbox/events.ts';
      const lines = [
        parseActivity({ activity: 'updateInstanceStatus', instanceId: 'i-1', status: 'PAUSE' }),
        parseActivity({ activity: 'newInstance', orderId: 'o', orderLineId: 'l', businessId: 'b', testFlag: '2' }),
        parseActivity({ activity: 'queryInstance', instanceId: 'a,,b' }),
        parseLifecycleMessage('{"eventId":""}'),
      ].map((answer) => JSON.stringify(answer));
      try {
        parseConfig({ MAIN_TABLE: 'm', AUDIT_TABLE: 'a', PROVISIONING_QUEUE_URL: 'not a url', PROVISIONING_MODE: 'magic',
          KOOGALLERY_ACCESS_KEY: 'k', ORDER_QUERY: 'false', NONCE_TTL_SECONDS: '-5' });
      } catch (error) {
        lines.push(String(error));
      }
      console.log(lines.join('\\n'));
    `);
    const [status, testFlag, ids, event, config] = output.split('\n');
    expect(JSON.parse(status!)).toEqual({
      ok: false,
      activity: 'updateInstanceStatus',
      reason: 'status Invalid option: expected one of "FREEZE"|"UNFREEZE"',
    });
    expect(JSON.parse(testFlag!)).toEqual({
      ok: false,
      activity: 'newInstance',
      reason: 'testFlag Invalid option: expected one of "0"|"1"',
    });
    expect(JSON.parse(ids!)).toEqual({
      ok: false,
      activity: 'queryInstance',
      reason: 'instanceId must be a comma-separated list of instance ids without blanks',
    });
    expect((JSON.parse(event!) as { issue: string }).issue).toMatch(
      /^eventId: Too small: expected string to have >=1 characters; type: Invalid option: expected one of "instance.created"\|/,
    );
    expect(config).toBe(
      'ConfigError: Invalid configuration. PROVISIONING_QUEUE_URL: Invalid URL; NONCE_TTL_SECONDS: must be a positive integer, got "-5"; ' +
        'PROVISIONING_MODE: Invalid option: expected one of "template"|"webhook"',
    );
  }, 60_000);
});
