/** Activity checks: every V2 activity (§3, §5.1) and the legacy V1 interface (§6), each answered as the spec says. */
import { randomUUID } from 'node:crypto';
import { firstLine, newOrderId, requestBody } from '../requests.ts';
import { appInfoProblems, codeOf, infoProblems, INVALID, NO_RESOURCE, NOT_FOUND, OK } from './answerRule.ts';
import { queryUnknown, renewal, unknownId } from './checkRequests.ts';
import type { CheckDef } from './trial.ts';

export const activityChecks: CheckDef[] = [
  {
    id: 'act.new',
    group: 'activities',
    title: 'newInstance answers 000000 with an instanceId (§3.1)',
    run: async (t) => {
      await t.newInstance();
    },
  },
  {
    id: 'act.query',
    group: 'activities',
    title: 'queryInstance of a new instance gives info[] with appInfo (§3.2)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      const r = await t.ready(instanceId);
      for (const p of infoProblems(r, instanceId)) t.fail(p);
    },
  },
  {
    id: 'act.query-unknown',
    group: 'activities',
    title: 'queryInstance of an unknown instance answers 000003',
    run: async (t) => {
      await t.send({ label: 'queryInstance', body: queryUnknown(), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.query-ids',
    group: 'activities',
    title: 'queryInstance of 101 ids, or of a blank id, answers 000002',
    run: async (t) => {
      const ids = Array.from({ length: 101 }, () => unknownId().slice(0, 40)).join(',');
      await t.send({ label: '101 ids', body: requestBody('queryInstance', { instanceId: ids }), expect: [INVALID] });
      await t.send({ label: 'blank id', body: requestBody('queryInstance', { instanceId: '' }), expect: [INVALID] });
    },
  },
  {
    id: 'act.refresh',
    group: 'activities',
    title: 'refreshInstance (RENEWAL) answers 000000 (§3.3)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'refreshInstance', body: renewal(instanceId), expect: [OK] });
    },
  },
  {
    id: 'act.refresh-unknown',
    group: 'activities',
    title: 'refreshInstance of an unknown instance answers 000003',
    run: async (t) => {
      await t.send({ label: 'refreshInstance', body: renewal(unknownId()), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.status',
    group: 'activities',
    title: 'updateInstanceStatus FREEZE then UNFREEZE answers 000000 (§3.4)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'FREEZE', body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }), expect: [OK] });
      await t.send({ label: 'FREEZE again', body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }), expect: [OK] });
      await t.send({ label: 'UNFREEZE', body: requestBody('updateInstanceStatus', { instanceId, status: 'UNFREEZE' }), expect: [OK] });
    },
  },
  {
    id: 'act.status-bad',
    group: 'activities',
    title: 'updateInstanceStatus with an unknown status answers 000002',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({
        label: 'status PAUSE',
        body: requestBody('updateInstanceStatus', { instanceId, status: 'PAUSE' }),
        expect: [INVALID],
      });
    },
  },
  {
    id: 'act.release',
    group: 'activities',
    title: 'releaseInstance answers 000000; a late FREEZE and renewal answer 000000 and change nothing (§3.5)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      await t.send({ label: 'releaseInstance', body: requestBody('releaseInstance', { instanceId }), expect: [OK] });
      const query = () =>
        t.send({ label: 'queryInstance after release', body: requestBody('queryInstance', { instanceId }), expect: [OK, NOT_FOUND] });
      const before = await query();
      await t.send({ label: 'late FREEZE', body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }), expect: [OK] });
      await t.send({ label: 'late renewal', body: renewal(instanceId), expect: [OK] });
      await t.send({ label: 'release again', body: requestBody('releaseInstance', { instanceId }), expect: [OK] });
      const after = await query();
      // The answers carry no state; what a query shows must be what it showed right after the release.
      if (before.json && after.json && JSON.stringify(before.json) !== JSON.stringify(after.json)) {
        t.fail('queryInstance answers differently after the late calls than right after the release');
      }
      const code = codeOf(before);
      if (code) t.note(`queryInstance of the released instance answers ${code}`);
    },
  },
  {
    id: 'act.upgrade',
    group: 'activities',
    title: 'upgradeInstance answers 000000 (§3.6)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      const orderId = newOrderId();
      await t.send({
        label: 'upgradeInstance',
        body: requestBody('upgradeInstance', { instanceId, orderId, orderLineId: firstLine(orderId) }),
        expect: [OK],
      });
    },
  },
  {
    id: 'act.change-check',
    group: 'activities',
    title: 'changeInstanceCheck answers 000000 or 000100 (§3.7)',
    run: async (t) => {
      const { instanceId } = await t.newInstance();
      await t.ready(instanceId);
      const productInfo = JSON.stringify({ productId: `OFFI${Date.now()}`, skuCode: randomUUID() });
      const r = await t.send({
        label: 'changeInstanceCheck',
        body: requestBody('changeInstanceCheck', { instanceId, productInfo }),
        expect: [OK, NO_RESOURCE],
      });
      if (codeOf(r)) t.note(codeOf(r) === OK ? 'change allowed' : 'change refused');
    },
  },
  {
    id: 'act.unknown-instance',
    group: 'activities',
    title: 'changes to an unknown instance answer 000003 (release: 000003 or 000000)',
    run: async (t) => {
      const instanceId = unknownId();
      const orderId = newOrderId();
      await t.send({
        label: 'updateInstanceStatus',
        body: requestBody('updateInstanceStatus', { instanceId, status: 'FREEZE' }),
        expect: [NOT_FOUND],
      });
      await t.send({
        label: 'upgradeInstance',
        body: requestBody('upgradeInstance', { instanceId, orderId, orderLineId: firstLine(orderId) }),
        expect: [NOT_FOUND],
      });
      await t.send({ label: 'changeInstanceCheck', body: requestBody('changeInstanceCheck', { instanceId }), expect: [NOT_FOUND] });
      // §3.5: the docs list 000003 for release; success for an unknown instance is allowed too.
      const r = await t.send({ label: 'releaseInstance', body: requestBody('releaseInstance', { instanceId }), expect: [NOT_FOUND, OK] });
      if (codeOf(r)) t.note(`releaseInstance of an unknown instance answers ${codeOf(r)}`);
    },
  },
  {
    id: 'act.unknown-activity',
    group: 'activities',
    title: 'an unknown activity answers 000002',
    run: async (t) => {
      await t.send({
        label: 'activity deleteEverything',
        body: { activity: 'deleteEverything', instanceId: unknownId(), testFlag: '0' },
        expect: [INVALID],
      });
    },
  },
  {
    id: 'act.license-unknown',
    group: 'activities',
    title: 'License-code callbacks for an unknown code answer 000003 (§5.1)',
    run: async (t) => {
      const license = `PL${randomUUID().replace(/-/g, '').toUpperCase()}`;
      await t.send({ label: 'refreshLicenseCode', body: requestBody('refreshLicenseCode', { license }), expect: [NOT_FOUND] });
      await t.send({
        label: 'updateLicenseCodeStatus',
        body: requestBody('updateLicenseCodeStatus', { license, status: 'FREEZE' }),
        expect: [NOT_FOUND],
      });
      await t.send({ label: 'releaseLicenseCode', body: requestBody('releaseLicenseCode', { license }), expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.v1-query-unknown',
    group: 'activities',
    title: 'V1 queryInstance of an unknown instance answers 000003 with a valid Body-Sign (§6, §7.4)',
    run: async (t) => {
      const body = requestBody('queryInstance', { instanceId: unknownId() }, { v1: true });
      await t.send({ label: 'V1 queryInstance', body, options: { v1: true }, expect: [NOT_FOUND] });
    },
  },
  {
    id: 'act.v1-new',
    group: 'activities',
    title: 'V1 newInstance answers 000000 with appInfo (000004 while provisioning) (§6)',
    run: async (t) => {
      // The marketplace resends a V1 newInstance until it has the appInfo (a new timeStamp, so a new authToken).
      const params = requestBody('newInstance', {}, { v1: true });
      const r = await t.poll('V1 newInstance', () => params, { v1: true });
      if (codeOf(r) !== OK) return;
      const instanceId = r.json?.instanceId;
      if (typeof instanceId !== 'string' || instanceId.length === 0) t.fail(`V1 newInstance answered ${OK} without an instanceId`);
      for (const p of appInfoProblems(r.json?.appInfo, 'V1 newInstance')) t.fail(p);
    },
  },
];
