/**
 * `koogallery-sim kit <interface>`: one joint-operation Kit call signed as KooGallery signs it (x-sign with the Kit
 * access key, spec kit.md §2), with a valid body for the interface (kitBody) changed by `--field`, sent to
 * `<production address>/produceAPI/v2/<interface>`; prints what was sent and the answer, and checks the result code
 * (`--expect`, default 000000). applicationSync's clientSecret is encrypted with the seller's public key.
 */
import { isKitName, KIT_INTERFACES, kitClient } from '#lib/simulator/kitClient.ts';
import { kitBody, kitIds } from '#lib/simulator/kitRequests.ts';
import { RequestError } from '#lib/simulator/requests.ts';
import type { ParsedValues, SimOutput, Target } from './cli.ts';

const NUMBER_FIELDS = new Set(['flag', 'testFlag', 'employeeType']);
const JSON_FIELDS = new Set(['userList', 'orgInfoList']);

/** `--field name=value` pairs: numbers for the integer fields, JSON for the lists, text for the rest. */
export function kitFields(given: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of given ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new RequestError(`--field ${JSON.stringify(pair)} must be name=value`);
    const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
    if (NUMBER_FIELDS.has(name) && /^-?\d+$/.test(value)) out[name] = Number(value);
    else if (JSON_FIELDS.has(name)) {
      try {
        out[name] = JSON.parse(value) as unknown;
      } catch {
        throw new RequestError(`--field ${name} must be JSON, e.g. ${name}=[{…}]`);
      }
    } else out[name] = value;
  }
  return out;
}

/** Sends the call; the exit code (0 the expected code, 1 another answer, 2 a usage mistake via RequestError). */
export async function sendKit(name: string | undefined, values: ParsedValues, to: Target, io: SimOutput): Promise<number> {
  if (!name || !isKitName(name)) throw new RequestError(`kit needs one of ${KIT_INTERFACES.join(', ')}`);
  if (!to.kit) throw new RequestError('kit needs the Kit access key and the seller’s public key (--kit-key, --kit-public-key)');
  const ids = kitIds({
    ...(values.tenant ? { tenantId: values.tenant } : {}),
    ...(values.instance ? { instanceId: values.instance } : {}),
    ...(values['app-id'] ? { appId: values['app-id'] } : {}),
  });
  if (!values.tenant && to.oneAccess) ids.domainName = `${to.oneAccess.replace(/\/+$/, '')}/t/${encodeURIComponent(ids.tenantId)}`;
  const body = { ...kitBody(name, { ids, publicKey: to.kit.publicKey, testFlag: values.test ? 1 : 0 }), ...kitFields(values.field) };
  const client = kitClient(to.url, to.kit.key);
  io.out(`→ POST ${client.urlOf(name)} ${JSON.stringify(body)}`);
  const result = await client.call(name, body);
  if (result.error) {
    io.err(`✗ no answer: ${result.error} (${result.latencyMs} ms)`);
    return 1;
  }
  io.out(`← HTTP ${result.status} in ${result.latencyMs} ms: ${result.raw}`);
  const code = typeof result.json?.resultCode === 'string' ? result.json.resultCode : undefined;
  const expected = values.expect ?? '000000';
  const problems = [
    result.status !== 200 ? `expected HTTP 200, got ${result.status}` : '',
    code !== expected ? `expected resultCode ${expected}, got ${code ?? 'none'}` : '',
  ].filter(Boolean);
  for (const p of problems) io.err(`✗ ${p}`);
  if (problems.length === 0) io.out(`✓ ${code} (tenant ${String(body.tenantId)})`);
  return problems.length === 0 ? 0 : 1;
}
