/**
 * koogallery-sim: the marketplace's side of the production interface, for a seller to exercise its server before
 * the Seller Console's debugger. Signs with the server's own code (lib/koogallery).
 *
 *   npx koogallery-sim send newInstance [--field k=v …] [--v1] [--test]
 *   npx koogallery-sim scenario period|trial|pay-per-use|upgrade|license|retry-storm|out-of-order|debugger|supervision|all
 *   npx koogallery-sim kit tenantSync|applicationSync|authSync|singleOrgSync|allOrgSync [--field k=v …] [--tenant id]
 *   npx koogallery-sim conformance [--json]
 *   npx koogallery-sim probe [--json]
 *   npx koogallery-sim serve [--port 4020]
 *
 * --url is the production address and --key its access key. Without --url the simulator runs against the local stack
 * that `npm start` describes in .local/stack.json: its address, access key, seller key, seller API and fake Open
 * API, and the header rule serverless offline needs. Exit codes: 0 all passed, 1 a check failed, 2 bad arguments
 * (or no --url and no local stack).
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
import { FAKE_OPENAPI_DEFAULT_PORT, serveStandalone } from '../local/fake-openapi.ts';
import { readStackFile } from '../local/stackFile.ts';
import { sendKit } from './kitCommand.ts';

/** Where `npm start` describes the local stack (scripts/local/stackFile.ts), as the messages name it. */
const STACK_FILE_DISPLAY = '.local/stack.json';

export const USAGE = `Usage: koogallery-sim <command> [options]

Commands:
  send <activity>       sign and send one call; prints the answer and checks Body-Sign and the result code
                        (V2: ${'newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance,'}
                        upgradeInstance, changeInstanceCheck, refreshLicenseCode, updateLicenseCodeStatus,
                        releaseLicenseCode; with --v1: the legacy activities)
  scenario <name|all>   a scripted lifecycle with checks at each step: ${Object.keys(SCENARIOS).join(', ')}
  kit <interface>       sign (x-sign, the Kit key) and send one joint-operation Kit call: tenantSync,
                        applicationSync (clientSecret encrypted with the seller's public key), authSync,
                        singleOrgSync or allOrgSync; prints the answer and checks the result code
  conformance           every check the marketplace makes, plus idempotency and the 5 s budget (and the Kit
                        calls when there is a Kit key)
  probe                 the marketplace's twice-daily availability probe
  serve                 the fake KooGallery Open API (Query Order with the mock orders, usage-data)

Without --url, every command runs against the local stack \`npm start\` runs (${STACK_FILE_DISPLAY}): its address,
access key, seller key, seller API and fake Open API, with --any-header-case. Against a deployment give --url and --key.

Options:
  --url <address>       production address, e.g. https://isv.example.com/koogallery/produce (default: the local stack)
  --key <access key>    default: the local stack's; with --url, KOOGALLERY_ACCESS_KEY, else the local default
  --field k=v           send, kit: a request field (repeatable); JSON objects as text, e.g. productInfo={"skuCode":"x"};
                        for kit, flag/testFlag/employeeType are numbers and userList/orgInfoList JSON
  --v1                  send: the legacy V1 interface (GET, authToken)
  --test                send, kit: testFlag=1 (debug traffic)
  --tenant <id>         kit: the tenant (default: a new one); --instance <id>, --app-id <id> likewise
  --kit-key <key>       kit, conformance, scenario joint-operation: the Kit access key (default: the local
                        stack's; with --url, KOOGALLERY_KIT_ACCESS_KEY)
  --kit-public-key <k>  the seller's public key (bare base64 SPKI) applicationSync's clientSecret is encrypted
                        with (default: the local stack's; with --url, KIT_RSA_PUBLIC_KEY)
  --one-access <url>    scenario joint-operation: the fake OneAccess (default: the local stack's)
  --expect <code>       send: the result code to expect (default 000000; V1 newInstance also passes on 000004,
                        the legitimate answer while the instance is provisioned)
  --seller-key <key>    scenario: a seller API key with usage:write (pay-per-use) and instances:read (default: the
                        local stack's)
  --seller-url <base>   scenario: the seller API's base (default: the local stack's, or the address's origin)
  --open-api <url>      a fake Open API to register the invented orders on, so a server that queries every order
                        finds them (default: the local stack's)
  --any-header-case     accept Body-Sign under any letter case (serverless offline lowercases header names;
                        the marketplace reads the exact name: never use it against a deployment; on by default
                        against the local stack)
  --license <code>      scenario license: a License code registered on the server
  --supervised-product <id>  scenario supervision: a product the server supervises and gives a fee share
                        (default OFFI-LOCAL-SUPERVISED, which npm start configures)
  --time-zone <zone>    scenario supervision: the server's SETTLEMENT_TIME_ZONE (default Asia/Shanghai)
  --budget-ms <ms>      conformance, probe: the answer budget (default 5000)
  --json                conformance, probe: machine-readable output
  --port <port>         serve: the port (default FAKE_OPENAPI_PORT or ${FAKE_OPENAPI_DEFAULT_PORT})`;

const options = {
  url: { type: 'string' },
  key: { type: 'string' },
  field: { type: 'string', multiple: true },
  v1: { type: 'boolean', default: false },
  test: { type: 'boolean', default: false },
  expect: { type: 'string' },
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
  tenant: { type: 'string' },
  instance: { type: 'string' },
  'app-id': { type: 'string' },
  'kit-key': { type: 'string' },
  'kit-public-key': { type: 'string' },
  'one-access': { type: 'string' },
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

/** The port `serve` listens on: --port, else FAKE_OPENAPI_PORT, else the documented default. */
export function fakeOpenApiPort(option: string | undefined, env: Record<string, string | undefined>): number {
  const [raw, name] = option !== undefined ? [option, '--port'] : [env.FAKE_OPENAPI_PORT || undefined, 'FAKE_OPENAPI_PORT'];
  if (raw === undefined) return FAKE_OPENAPI_DEFAULT_PORT;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) throw new RequestError(`${name} must be 0 to 65535`);
  return port;
}

/** Where the calls go and with what: from the options, or from the local stack when no --url is given. */
export interface Target {
  url: string;
  key: string;
  headerCase: 'any' | 'exact';
  sellerKey?: string;
  sellerUrl?: string;
  openApi?: string;
  /** The Kit access key and the seller's public key, when known. */
  kit?: { key: string; publicKey: string };
  oneAccess?: string;
}

/** The Kit target: the options, else the local stack's, else (with --url) the environment. */
function kitOf(values: ParsedValues, env: Record<string, string | undefined>, stackKit?: { accessKey: string; publicKey: string }) {
  const key = values['kit-key'] ?? stackKit?.accessKey ?? env.KOOGALLERY_KIT_ACCESS_KEY;
  const publicKey = values['kit-public-key'] ?? stackKit?.publicKey ?? env.KIT_RSA_PUBLIC_KEY;
  return key && publicKey ? { kit: { key, publicKey } } : {};
}

function targetOf(values: ParsedValues, env: Record<string, string | undefined>, readStack: typeof readStackFile): Target {
  const given = {
    ...(values['seller-key'] ? { sellerKey: values['seller-key'] } : {}),
    ...(values['seller-url'] ? { sellerUrl: values['seller-url'] } : {}),
    ...(values['open-api'] ? { openApi: values['open-api'] } : {}),
  };
  if (values.url !== undefined) {
    const key = values.key ?? (env.KOOGALLERY_ACCESS_KEY || LOCAL_DEFAULT_ACCESS_KEY);
    return {
      url: values.url,
      key,
      headerCase: values['any-header-case'] ? 'any' : 'exact',
      ...given,
      ...kitOf(values, env),
      ...(values['one-access'] ? { oneAccess: values['one-access'] } : {}),
    };
  }
  const found = readStack();
  if (!found.ok) {
    throw new RequestError(`no --url given, and ${found.reason}. Against a deployment, give --url and --key`);
  }
  const { stack } = found;
  return {
    url: stack.urls.produce,
    key: values.key ?? stack.accessKey,
    // serverless offline lowercases header names; the marketplace reads `Body-Sign` exactly (see the option).
    headerCase: 'any',
    sellerKey: stack.sellerKey.secret,
    sellerUrl: stack.urls.seller,
    ...(stack.urls.fakeOpenApi ? { openApi: stack.urls.fakeOpenApi } : {}),
    ...given,
    ...kitOf(values, env, stack.kit),
    ...(values['one-access'] || stack.urls.fakeOneAccess ? { oneAccess: values['one-access'] ?? stack.urls.fakeOneAccess } : {}),
  };
}

/** The codes a `send` passes on: --expect, else 000000 (and 000004 for V1 newInstance, answered while provisioning). */
function expectedCodes(values: ParsedValues, activity: string): string[] {
  if (values.expect !== undefined) return [values.expect];
  return values.v1 && activity === 'newInstance' ? ['000000', '000004'] : ['000000'];
}

/** `N passed, N failed, N skipped (K scenarios)`: the steps of the scenarios run. */
export function scenarioSummary(results: readonly StepResult[]): string {
  const skipped = results.filter((r) => r.skipped).length;
  const failed = results.filter((r) => !r.ok).length;
  const scenarios = new Set(results.map((r) => r.scenario)).size;
  const failedIn = [...new Set(results.filter((r) => !r.ok).map((r) => r.scenario))];
  return (
    `${results.length - skipped - failed} passed, ${failed} failed, ${skipped} skipped ` +
    `(${scenarios} scenario${scenarios === 1 ? '' : 's'}${failedIn.length ? `; failed: ${failedIn.join(', ')}` : ''})`
  );
}

function describeAnswer(result: CallResult): string[] {
  if (result.error) return [`← no answer: ${result.error} (${result.latencyMs} ms)`];
  return [`← HTTP ${result.status} in ${result.latencyMs} ms: ${result.raw}`, `  Body-Sign: ${result.bodySign}`];
}

export type ParsedValues = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true; strict: true }>>['values'];

/** Runs one command line (without `node` and the script); returns the exit code. */
export async function runSim(
  argv: readonly string[],
  io: SimOutput = consoleOutput,
  env: Record<string, string | undefined> = process.env,
  sources: { readStack?: typeof readStackFile } = {},
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
  try {
    if (command === 'serve') {
      if (target) throw new RequestError(`serve takes no argument, got ${JSON.stringify(target)}`);
      await serveStandalone({ port: fakeOpenApiPort(values.port, env) });
      // Runs until SIGINT/SIGTERM.
      return await new Promise<number>(() => {});
    }
    const to = targetOf(values, env, sources.readStack ?? readStackFile);
    if (values.url === undefined) io.err(`koogallery-sim: the local stack (${STACK_FILE_DISPLAY}): ${to.url}`);
    const { url, key, headerCase } = to;
    const client = { headerCase, ...(to.openApi ? { beforeSend: registerOrdersOn(to.openApi) } : {}) };
    switch (command) {
      case 'send': {
        if (!target) throw new RequestError('send needs an activity, e.g. send newInstance');
        const body = requestBody(target, { ...fields(values.field), ...(values.test ? { testFlag: '1' } : {}) }, { v1: values.v1 });
        io.out(`→ ${values.v1 ? 'GET (V1)' : 'POST'} ${url} ${JSON.stringify(body)}`);
        const result = await marketplaceClient(url, key, client).call(body, { v1: values.v1 });
        for (const line of describeAnswer(result)) io.out(line);
        const code = typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined;
        const expected = expectedCodes(values, target);
        const problems = [
          result.status !== 200 ? `expected HTTP 200, got ${result.status || 'no answer'}` : '',
          !expected.includes(code ?? '') ? `expected resultCode ${expected.join(' or ')}, got ${code ?? 'none'}` : '',
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
              url,
              key,
              client: { headerCase },
              ...(to.sellerKey ? { sellerKey: to.sellerKey } : {}),
              ...(to.sellerUrl ? { sellerUrl: to.sellerUrl } : {}),
              ...(to.openApi ? { openApiUrl: to.openApi } : {}),
              ...(values.license ? { license: values.license } : {}),
              ...(values['supervised-product'] ? { supervisedProduct: values['supervised-product'] } : {}),
              ...(values['time-zone'] ? { timeZone: values['time-zone'] } : {}),
              ...(to.kit ? { kit: to.kit } : {}),
              ...(to.oneAccess ? { oneAccessUrl: to.oneAccess } : {}),
            })),
          );
        }
        io.out(formatSteps(results));
        io.out(scenarioSummary(results));
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'kit':
        return await sendKit(target, values, to, io);
      case 'conformance': {
        if (target) throw new RequestError(`conformance takes no argument, got ${JSON.stringify(target)}`);
        const budgetMs = positiveInt(values['budget-ms'], 'budget-ms');
        const results = await runConformance({ url, key, client, ...(budgetMs ? { budgetMs } : {}), ...(to.kit ? { kit: to.kit } : {}) });
        if (!to.kit) io.err('koogallery-sim: no Kit key (--kit-key, --kit-public-key): the Kit checks were not run');
        io.out(values.json ? formatJson(results) : formatTable(results));
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'probe': {
        if (target) throw new RequestError(`probe takes no argument, got ${JSON.stringify(target)}`);
        const budgetMs = positiveInt(values['budget-ms'], 'budget-ms');
        const result = await probe(marketplaceClient(url, key, client), budgetMs ? { budgetMs } : {});
        if (values.json) io.out(JSON.stringify(result, null, 2));
        else
          for (const c of result.checks)
            io.out(
              `${c.ok ? '✓' : '✗'} ${c.title.padEnd(22)} ${(c.resultCode ?? '-').padEnd(7)} ${String(c.latencyMs).padStart(6)} ms${c.detail ? `  ${c.detail}` : ''}`,
            );
        return result.ok ? 0 : 1;
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
