/** Signature checks (spec §7.2): what a correctly signed call gets, and what each way of spoiling the signature gets. */
import { randomUUID } from 'node:crypto';
import { AUTH_FAILED, codeOf, INVALID, NOT_FOUND } from './answerRule.ts';
import { queryUnknown, unknownId } from './checkRequests.ts';
import type { CheckDef } from './trial.ts';

const TEN_MINUTES_MS = 10 * 60_000;

export const signatureChecks: CheckDef[] = [
  {
    id: 'sig.accepted',
    group: 'signatures',
    title: 'a correctly signed call is accepted',
    run: async (t) => {
      await t.send({ label: 'queryInstance (unknown id)', body: queryUnknown(), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'sig.lowercase',
    group: 'signatures',
    title: 'a lower-case hex signature is accepted (§7.2 step 7)',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { signatureCase: 'lower' } }, expect: [NOT_FOUND] });
    },
  },
  {
    id: 'sig.wrong-key',
    group: 'signatures',
    title: 'a signature made with another key is refused with 000001',
    run: async (t) => {
      await t.send({
        label: 'queryInstance',
        body: queryUnknown(),
        options: { signing: { key: `not-${t.s.key}` } },
        expect: [AUTH_FAILED],
      });
    },
  },
  {
    id: 'sig.tampered',
    group: 'signatures',
    title: 'a body changed after signing is refused with 000001',
    run: async (t) => {
      const signed = queryUnknown();
      const sent = { ...signed, instanceId: unknownId() };
      await t.send({ label: 'queryInstance', body: signed, options: { rawBody: JSON.stringify(sent) }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'sig.stale',
    group: 'signatures',
    title: 'a timestamp 10 minutes old is refused (000001 or 000002)',
    run: async (t) => {
      // §7.2 step 8 (window of 60 s); the demo and §3.8 answer an expired timestamp with 000002.
      const r = await t.send({
        label: 'queryInstance',
        body: queryUnknown(),
        options: { signing: { nowMs: Date.now() - TEN_MINUTES_MS } },
        expect: [AUTH_FAILED, INVALID],
      });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'sig.future',
    group: 'signatures',
    title: 'a timestamp 10 minutes ahead is refused (000001 or 000002)',
    run: async (t) => {
      const r = await t.send({
        label: 'queryInstance',
        body: queryUnknown(),
        options: { signing: { nowMs: Date.now() + TEN_MINUTES_MS } },
        expect: [AUTH_FAILED, INVALID],
      });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'sig.replay',
    group: 'signatures',
    title: 'a replayed nonce is refused with 000001 (§7.2 step 9)',
    run: async (t) => {
      const body = queryUnknown();
      const signing = { nowMs: Date.now(), nonce: randomUUID().replace(/-/g, '').toUpperCase() };
      await t.send({ label: 'first call', body, options: { signing }, expect: [NOT_FOUND] });
      await t.send({ label: 'same call again', body, options: { signing }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'sig.missing-signature',
    group: 'signatures',
    title: 'a call without signature is refused with 000001',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { omit: ['signature'] } }, expect: [AUTH_FAILED] });
    },
  },
  {
    id: 'sig.missing-timestamp',
    group: 'signatures',
    title: 'a call without timestamp is refused with 000002 (§7.2 step 10)',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { omit: ['timestamp'] } }, expect: [INVALID] });
    },
  },
  {
    id: 'sig.missing-nonce',
    group: 'signatures',
    title: 'a call without nonce is refused with 000002 (§7.2 step 10)',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), options: { signing: { omit: ['nonce'] } }, expect: [INVALID] });
    },
  },
  {
    id: 'sig.seconds',
    group: 'signatures',
    title: 'a 10-digit (seconds) timestamp is handled (§10.11)',
    run: async (t) => {
      // §10.11 recommends reading a 10-digit timestamp as seconds; §7.2 (ms) reads it as far in the past. Either way
      // the answer must be well-formed; the detail says which reading the server made.
      const r = await t.send({
        label: 'queryInstance',
        body: queryUnknown(),
        options: { signing: { nowMs: Math.floor(Date.now() / 1000) } },
        expect: [NOT_FOUND, AUTH_FAILED, INVALID],
      });
      const code = codeOf(r);
      if (code === NOT_FOUND) t.note('accepted: read as seconds');
      else if (code) t.note(`refused with ${code}: read as milliseconds (§10.11 recommends seconds)`);
    },
  },
];
