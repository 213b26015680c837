/**
 * The joint-operation Kit checks (spec kit.md): x-sign good, wrong key, tampered, stale and replayed (§2); each of
 * the five interfaces' success and its idempotent repeat (§3); a clientSecret that cannot be decrypted (000101,
 * §3.6); bad input (a missing mandatory field, an over-long value, a bad flag, malformed JSON) answering 000002 (§4).
 * Kit answers carry no Body-Sign; the rest of the general rule applies. Each check uses a tenant of its own, named in
 * its detail, so what a refused call left behind can be looked up.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CallResult } from '../client.ts';
import type { KitCallResult, KitName, KitSigning } from '../kitClient.ts';
import { DEFAULT_ORGS, kitBody, kitIds, kitUser, type KitBodyOptions, type KitIds } from '../kitRequests.ts';
import { AUTH_FAILED, codeOf, INVALID, OK } from './answerRule.ts';
import type { CheckDef, Trial } from './trial.ts';

export const DECRYPTION_FAILED = '000101';
const TEN_MINUTES_MS = 10 * 60_000;

const asCallResult = (r: KitCallResult): CallResult => ({ ...r, bodySign: 'absent' });

interface KitSend {
  label: string;
  name: KitName;
  body: Record<string, unknown>;
  signing?: KitSigning;
  expect: readonly string[];
}

/** Sends one Kit call and judges it (general rule without Body-Sign, and the expected codes). */
async function kitSend(t: Trial, { label, name, body, signing, expect }: KitSend): Promise<CallResult> {
  const kit = t.s.kit;
  t.require(kit, 'no Kit access key given (--kit-key)');
  const result = asCallResult(await kit.client.call(name, body, signing));
  return t.judge(label, result, { v1: false, expect, requireBodySign: false });
}

/** A fresh tenant for the check (named in its detail) and a body builder for it. */
function tenantFor(t: Trial): { ids: KitIds; body: (name: KitName, extra?: Partial<KitBodyOptions>) => Record<string, unknown> } {
  const ids = kitIds({ tenantId: `conf-${randomUUID().replace(/-/g, '').slice(0, 20)}` });
  t.note(`tenant ${ids.tenantId}`);
  return { ids, body: (name, extra = {}) => kitBody(name, { ids, ...(t.s.kit ? { publicKey: t.s.kit.publicKey } : {}), ...extra }) };
}

/** The interface called once, then again with the same content (a fresh signature): both 000000. */
const repeatCheck = (name: KitName, extra: Partial<KitBodyOptions> = {}): CheckDef => ({
  id: `kit.${name}`,
  group: 'kit',
  title: `${name} succeeds, and its repeat succeeds and changes nothing`,
  run: async (t) => {
    const { body } = tenantFor(t);
    const first = body(name, extra);
    await kitSend(t, { label: name, name, body: first, expect: [OK] });
    await kitSend(t, { label: `${name} repeated`, name, body: first, expect: [OK] });
  },
});

const badInput = (id: string, title: string, make: (body: (name: KitName) => Record<string, unknown>) => KitSend): CheckDef => ({
  id,
  group: 'kit',
  title,
  run: async (t) => {
    const { body } = tenantFor(t);
    await kitSend(t, make(body));
  },
});

export const kitChecks: CheckDef[] = [
  {
    id: 'kit.sig.accepted',
    group: 'kit',
    title: 'a Kit call signed with the Kit key is accepted',
    run: async (t) => {
      const { body } = tenantFor(t);
      await kitSend(t, { label: 'tenantSync', name: 'tenantSync', body: body('tenantSync'), expect: [OK] });
    },
  },
  {
    id: 'kit.sig.wrong-key',
    group: 'kit',
    title: 'a Kit call signed with another key is refused with 000001',
    run: async (t) => {
      const { body } = tenantFor(t);
      const signing = { key: `not-${randomUUID()}` };
      await kitSend(t, { label: 'tenantSync', name: 'tenantSync', body: body('tenantSync'), signing, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'kit.sig.tampered',
    group: 'kit',
    title: 'a Kit body changed after signing is refused with 000001',
    run: async (t) => {
      const { body } = tenantFor(t);
      const signed = body('tenantSync');
      const rawBody = JSON.stringify({ ...signed, name: 'changed after signing' });
      await kitSend(t, { label: 'tenantSync', name: 'tenantSync', body: signed, signing: { rawBody }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'kit.sig.stale',
    group: 'kit',
    title: 'a Kit call with an x-timestamp 10 minutes old is refused (000002 or 000001)',
    run: async (t) => {
      const { body } = tenantFor(t);
      const r = await kitSend(t, {
        label: 'tenantSync',
        name: 'tenantSync',
        body: body('tenantSync'),
        signing: { nowMs: Date.now() - TEN_MINUTES_MS },
        expect: [INVALID, AUTH_FAILED],
      });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'kit.sig.replay',
    group: 'kit',
    title: 'a replayed x-nonce is refused with 000001',
    run: async (t) => {
      const { body } = tenantFor(t);
      const first = body('tenantSync');
      const signing = { nowMs: Date.now(), nonce: randomBytes(32).toString('hex').toUpperCase() };
      await kitSend(t, { label: 'first call', name: 'tenantSync', body: first, signing, expect: [OK] });
      await kitSend(t, { label: 'same call again', name: 'tenantSync', body: first, signing, expect: [AUTH_FAILED] });
    },
  },
  repeatCheck('tenantSync'),
  repeatCheck('applicationSync'),
  repeatCheck('authSync', { users: [kitUser('conf-user-1', 'root', 'admin'), kitUser('conf-user-2', 'dev')] }),
  repeatCheck('singleOrgSync'),
  repeatCheck('allOrgSync', { orgs: DEFAULT_ORGS }),
  {
    id: 'kit.decrypt',
    group: 'kit',
    title: 'an applicationSync whose clientSecret cannot be decrypted is refused with 000101',
    run: async (t) => {
      const { body } = tenantFor(t);
      const good = body('applicationSync');
      const size = Buffer.from(String(good.clientSecret), 'base64').length;
      const clientSecret = randomBytes(size).toString('base64');
      await kitSend(t, { label: 'applicationSync', name: 'applicationSync', body: { ...good, clientSecret }, expect: [DECRYPTION_FAILED] });
    },
  },
  badInput('kit.bad.missing-field', 'a Kit call without a mandatory field (tenantSync name) is refused with 000002', (body) => {
    const { name: _name, ...rest } = body('tenantSync');
    return { label: 'tenantSync', name: 'tenantSync', body: rest, expect: [INVALID] };
  }),
  badInput('kit.bad.too-long', 'a Kit value over its length (tenantCode of 65 characters) is refused with 000002', (body) => ({
    label: 'tenantSync',
    name: 'tenantSync',
    body: { ...body('tenantSync'), tenantCode: 'c'.repeat(65) },
    expect: [INVALID],
  })),
  badInput('kit.bad.flag', 'a Kit flag outside the documented values (authSync flag 7) is refused with 000002', (body) => ({
    label: 'authSync',
    name: 'authSync',
    body: { ...body('authSync'), flag: 7 },
    expect: [INVALID],
  })),
  badInput('kit.bad.malformed-json', 'a Kit body that is not JSON is refused with 000002', (body) => {
    const signed = body('singleOrgSync');
    return {
      label: 'singleOrgSync',
      name: 'singleOrgSync',
      body: signed,
      signing: { rawBody: JSON.stringify(signed).slice(0, -1) },
      expect: [INVALID],
    };
  }),
];
