/** Limit checks (§3): missing fields, field lengths, formats and types, and empty, malformed, oversized or deeply nested bodies. */
import { newOrderId, requestBody } from '../requests.ts';
import { AUTH_FAILED, codeOf, INVALID, NOT_FOUND } from './answerRule.ts';
import { compact, queryUnknown, renewal, signedOver, unknownId } from './checkRequests.ts';
import type { CheckDef } from './trial.ts';

/** Larger than any documented body (spec §3): the server's 64 KB limit. */
const LARGE_BODY_BYTES = 70_000;
/** Nesting depth of the deep-JSON body (about 40 KB, under the size limit). */
const DEEP_JSON_DEPTH = 20_000;

export const limitChecks: CheckDef[] = [
  {
    id: 'lim.missing-field',
    group: 'limits',
    title: 'a missing required field answers 000002',
    run: async (t) => {
      const { orderLineId: _line, ...withoutLine } = requestBody('newInstance');
      await t.send({ label: 'newInstance without orderLineId', body: withoutLine, expect: [INVALID] });
      const { instanceId: _id, ...withoutId } = requestBody('updateInstanceStatus', { instanceId: unknownId() });
      await t.send({ label: 'updateInstanceStatus without instanceId', body: withoutId, expect: [INVALID] });
    },
  },
  {
    id: 'lim.id-64',
    group: 'limits',
    title: 'an orderId of 64 characters is accepted',
    run: async (t) => {
      const orderId = newOrderId().padEnd(64, 'X');
      await t.newInstance({ orderId, orderLineId: `${orderId.slice(0, 57)}-000001` }, 'newInstance (orderId of 64)');
    },
  },
  {
    id: 'lim.id-65',
    group: 'limits',
    title: 'an orderId of 65 characters answers 000002',
    run: async (t) => {
      const orderId = newOrderId().padEnd(65, 'X');
      await t.send({
        label: 'newInstance (orderId of 65)',
        body: requestBody('newInstance', { orderId, orderLineId: `${orderId.slice(0, 57)}-000001` }),
        expect: [INVALID],
      });
    },
  },
  {
    id: 'lim.expire-time',
    group: 'limits',
    title: 'an expireTime that is not a yyyyMMddHHmmss date answers 000002',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'expireTime "next-year"', body: renewal(instanceId, newOrderId(), 'next-year'), expect: [INVALID] });
      await t.send({ label: 'expireTime 20301345000000', body: renewal(instanceId, newOrderId(), '20301345000000'), expect: [INVALID] });
    },
  },
  {
    id: 'lim.malformed-json',
    group: 'limits',
    title: 'malformed JSON is refused (000001 or 000002)',
    run: async (t) => {
      // The spec names no code: the body cannot be canonicalised to verify its signature (000001), nor validated (000002).
      const r = await t.send({
        label: 'body {"activity":',
        body: queryUnknown(),
        options: { rawBody: '{"activity":' },
        expect: [AUTH_FAILED, INVALID],
      });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'lim.empty-body',
    group: 'limits',
    title: 'an empty body is refused (000001 or 000002)',
    run: async (t) => {
      const r = await t.send({ label: 'empty body', body: {}, options: { rawBody: '' }, expect: [AUTH_FAILED, INVALID] });
      if (codeOf(r)) t.note(`refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'lim.large-body',
    group: 'limits',
    title: 'a body over 64 KB is refused with 000002 within the budget',
    run: async (t) => {
      const body = { ...queryUnknown(), pad: 'x'.repeat(LARGE_BODY_BYTES) };
      await t.send({ label: `signed body of ${LARGE_BODY_BYTES} bytes`, body, expect: [INVALID] });
    },
  },
  {
    id: 'lim.deep-json',
    group: 'limits',
    title: 'deeply nested JSON is refused or ignored, without an internal error',
    run: async (t) => {
      // A correctly signed queryInstance with an extra field nested 20 000 deep: 000002 (refused) or 000003 (ignored).
      const fields = { activity: 'queryInstance', instanceId: unknownId(), testFlag: '0' };
      const deep = `${'['.repeat(DEEP_JSON_DEPTH)}${']'.repeat(DEEP_JSON_DEPTH)}`;
      const raw = compact(fields).replace(/^\{/, `{"a":${deep},`);
      const r = await t.send({
        label: `body nested ${DEEP_JSON_DEPTH} deep`,
        body: fields,
        options: { rawBody: raw, signing: signedOver(t.s.key, raw) },
        expect: [INVALID, NOT_FOUND, AUTH_FAILED],
      });
      if (codeOf(r)) t.note(codeOf(r) === NOT_FOUND ? 'ignored (000003)' : `refused with ${codeOf(r)}`);
    },
  },
  {
    id: 'lim.types',
    group: 'limits',
    title: 'non-string field values answer 000002',
    run: async (t) => {
      const orderId = newOrderId();
      await t.send({
        label: 'newInstance with an object orderId',
        body: { ...requestBody('newInstance'), orderId: { id: orderId } },
        expect: [INVALID],
      });
      await t.send({
        label: 'queryInstance with an array instanceId',
        body: { ...queryUnknown(), instanceId: [unknownId()] },
        expect: [INVALID],
      });
      await t.send({
        label: 'newInstance with a boolean testFlag',
        body: { ...requestBody('newInstance'), testFlag: true },
        expect: [INVALID],
      });
    },
  },
];
