/**
 * koogallery-sim: the marketplace's side of the production interface, for a seller to exercise its server before
 * the Seller Console's debugger. Signs with the server's own code (lib/koogallery).
 *
 *   npx koogallery-sim send newInstance [--field k=v …] [--v1] [--test]
 *   npx koogallery-sim scenario period|trial|pay-per-use|upgrade|license|retry-storm|out-of-order|debugger|supervision|all
 *   npx koogallery-sim conformance [--json]
 *   npx koogallery-sim probe [--json]
 *   npx koogallery-sim serve [--port 4020]
 *
 * --url is the production address (default http://127.0.0.1:3000/koogallery/produce, what `npm start` serves) and
 * --key the access key (default KOOGALLERY_ACCESS_KEY, else the local default). Exit codes: 0 all passed,
 * 1 a check failed, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { marketplaceClient, type CallResult } from '#lib/simulator/client.ts';
import { formatJson, formatTable } from '#lib/simulator/conformance/report.ts';
import { runConformance } from '#lib/simulator/conformance/run.ts';
import { probe } from '#lib/simulator/probe.ts';
import { RequestError, requestBody } from '#lib/simulator/requests.ts';
import { registerOrdersOn } from './fakeOrders.ts';
import { formatSteps, SCENARIOS, type StepResult } from './scenarios.ts';
import { runIfMain } from '../local/cli.ts';
import { LOCAL_DEFAULT_ACCESS_KEY } from '../local/env.ts';
import { serveStandalone } from '../local/fake-openapi.ts';

export const USAGE = `Usage: koogallery-sim <command> [options]

Commands:
  send <activity>       sign and send one call; prints the answer and checks Body-Sign and the result code
                        (V2: ${'newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance,'}
                        upgradeInstance, changeInstanceCheck, refreshLicenseCode, updateLicenseCodeStatus,
                        releaseLicenseCode; with --v1: the legacy activities)
  scenario <name|all>   a scripted lifecycle with checks at each step: ${Object.keys(SCENARIOS).join(', ')}
  conformance           every check the marketplace makes, plus idempotency and the 5 s budget
  probe                 the marketplace's twice-daily availability probe
  serve                 the fake KooGallery Open API (Query Order with the mock orders, usage-data)

Options:
  --url <address>       production address (default http://127.0.0.1:3000/koogallery/produce)
  --key <access key>    default: KOOGALLERY_ACCESS_KEY, else the local default
  --field k=v           send: a request field (repeatable); JSON objects as text, e.g. productInfo={"skuCode":"x"}
  --v1                  send: the legacy V1 interface (GET, authToken)
  --test                send: testFlag=1 (debug traffic)
  --expect <code>       send: the result code to expect (default 000000)
  --seller-key <key>    scenario pay-per-use: a seller API key with usage:write
  --seller-url <base>   scenario: the seller API's base (default: the production address's origin)
  --open-api <url>      a fake Open API to register the invented orders on, so a server that queries every order
                        finds them (npm start runs one on :4020)
  --any-header-case     accept Body-Sign under any letter case (serverless offline lowercases header names;
                        the marketplace reads the exact name: never use it against a deployment)
  --license <code>      scenario license: a License code registered on the server
  --supervised-product <id>  scenario supervision: a product the server supervises and gives a fee share
                        (default OFFI-LOCAL-SUPERVISED, which npm start configures)
  --time-zone <zone>    scenario supervision: the server's SETTLEMENT_TIME_ZONE (default Asia/Shanghai)
  --budget-ms <ms>      conformance, probe: the answer budget (default 5000)
  --json                conformance, probe: machine-readable output
  --port <port>         serve: the port (default FAKE_OPENAPI_PORT or 4020)`;

const options = {
  url: { type: 'string', default: 'http://127.0.0.1:3000/koogallery/produce' },
  key: { type: 'string' },
  field: { type: 'string', multiple: true },
  v1: { type: 'boolean', default: false },
  test: { type: 'boolean', default: false },
  expect: { type: 'string', default: '000000' },
  'seller-key': { type: 'string' },
  'seller-url': { type: 'string' },
  'open-api': { type: 'string' },
  license: { type: 'string' },
  'supervised-product': { type: 'string' },
  'time-zone': { type: 'string' },
  'budget-ms': { type: 'string' },
  json: { type: 'boolean', default: false },
  'any-header-case': { type: 'boolean', default: false },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export interface SimOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleOutput: SimOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

function fields(given: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of given ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new RequestError(`--field ${JSON.stringify(pair)} must be name=value`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new RequestError(`--${name} must be a positive integer`);
  return n;
}

function describeAnswer(result: CallResult): string[] {
  if (result.error) return [`← no answer: ${result.error} (${result.latencyMs} ms)`];
  return [`← HTTP ${result.status} in ${result.latencyMs} ms: ${result.raw}`, `  Body-Sign: ${result.bodySign}`];
}

/** Runs one command line (without `node` and the script); returns the exit code. */
export async function runSim(
  argv: readonly string[],
  io: SimOutput = consoleOutput,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, target, ...extra] = positionals;
  if (values.help || command === undefined) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) {
    io.err(`error: unexpected argument ${JSON.stringify(extra[0])}\n${USAGE}`);
    return 2;
  }
  const key = values.key ?? (env.KOOGALLERY_ACCESS_KEY || LOCAL_DEFAULT_ACCESS_KEY);
  const headerCase = values['any-header-case'] ? ('any' as const) : ('exact' as const);
  const client = { headerCase, ...(values['open-api'] ? { beforeSend: registerOrdersOn(values['open-api']) } : {}) };
  try {
    switch (command) {
      case 'send': {
        if (!target) throw new RequestError('send needs an activity, e.g. send newInstance');
        const body = requestBody(target, { ...fields(values.field), ...(values.test ? { testFlag: '1' } : {}) }, { v1: values.v1 });
        io.out(`→ ${values.v1 ? 'GET (V1)' : 'POST'} ${values.url} ${JSON.stringify(body)}`);
        const result = await marketplaceClient(values.url, key, client).call(body, { v1: values.v1 });
        for (const line of describeAnswer(result)) io.out(line);
        const code = typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined;
        const problems = [
          result.status !== 200 ? `expected HTTP 200, got ${result.status || 'no answer'}` : '',
          code !== values.expect ? `expected resultCode ${values.expect}, got ${code ?? 'none'}` : '',
          result.bodySign !== 'valid' ? `Body-Sign is ${result.bodySign}` : '',
        ].filter(Boolean);
        for (const p of problems) io.err(`✗ ${p}`);
        if (problems.length === 0) io.out(`✓ ${code} with a valid Body-Sign`);
        return problems.length === 0 ? 0 : 1;
      }
      case 'scenario': {
        const names = target === 'all' ? Object.keys(SCENARIOS) : target ? [target] : [];
        const unknown = names.filter((n) => !(n in SCENARIOS));
        if (names.length === 0 || unknown.length > 0) {
          throw new RequestError(
            `scenario needs one of ${Object.keys(SCENARIOS).join(', ')} or all${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`,
          );
        }
        const results: StepResult[] = [];
        for (const name of names) {
          results.push(
            ...(await SCENARIOS[name]!.run({
              url: values.url,
              key,
              client: { headerCase },
              ...(values['seller-key'] ? { sellerKey: values['seller-key'] } : {}),
              ...(values['seller-url'] ? { sellerUrl: values['seller-url'] } : {}),
              ...(values['open-api'] ? { openApiUrl: values['open-api'] } : {}),
              ...(values.license ? { license: values.license } : {}),
              ...(values['supervised-product'] ? { supervisedProduct: values['supervised-product'] } : {}),
              ...(values['time-zone'] ? { timeZone: values['time-zone'] } : {}),
            })),
          );
        }
        io.out(formatSteps(results));
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'conformance': {
        if (target) throw new RequestError(`conformance takes no argument, got ${JSON.stringify(target)}`);
        const budgetMs = positiveInt(values['budget-ms'], 'budget-ms');
        const results = await runConformance({ url: values.url, key, client, ...(budgetMs ? { budgetMs } : {}) });
        io.out(values.json ? formatJson(results) : formatTable(results));
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'probe': {
        if (target) throw new RequestError(`probe takes no argument, got ${JSON.stringify(target)}`);
        const budgetMs = positiveInt(values['budget-ms'], 'budget-ms');
        const result = await probe(marketplaceClient(values.url, key, client), budgetMs ? { budgetMs } : {});
        if (values.json) io.out(JSON.stringify(result, null, 2));
        else
          for (const c of result.checks)
            io.out(
              `${c.ok ? '✓' : '✗'} ${c.title.padEnd(22)} ${(c.resultCode ?? '-').padEnd(7)} ${String(c.latencyMs).padStart(6)} ms${c.detail ? `  ${c.detail}` : ''}`,
            );
        return result.ok ? 0 : 1;
      }
      case 'serve': {
        if (target) throw new RequestError(`serve takes no argument, got ${JSON.stringify(target)}`);
        const port = values.port === undefined ? undefined : Number(values.port);
        if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
          throw new RequestError('--port must be 0 to 65535');
        await serveStandalone(port === undefined ? {} : { port });
        // Runs until SIGINT/SIGTERM.
        return await new Promise<number>(() => {});
      }
      default:
        throw new RequestError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof RequestError) {
      io.err(`error: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

runIfMain(import.meta.url, () => runSim(process.argv.slice(2)));
