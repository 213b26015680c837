import { describe, expect, it } from 'vitest';
import {
  SUPERVISION_ACTION_TYPES,
  SUPERVISION_STATES,
  type SupervisionAction,
  type SupervisionActionType,
  type SupervisionActor,
  type SupervisionRecord,
  type SupervisionState,
} from '#lib/supervision/model.ts';
import {
  applySupervision,
  effectiveServiceStart,
  isIsoInstant,
  isTerminal,
  newSupervision,
  type SupervisionResult,
} from '#lib/supervision/stateMachine.ts';

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';
const START = '2025-12-20T08:00:00+08:00';

function recordIn(state: SupervisionState, extra: Partial<SupervisionRecord> = {}): SupervisionRecord {
  const { record } = newSupervision(
    {
      orderId: 'o-1',
      orderLineId: 'o-1-000001',
      instanceId: 'i-1',
      productId: 'P1',
      enablingCloud: false,
      requiredKinds: ['requirement', 'acceptance'],
    },
    AT,
  );
  return { ...record, state, ...extra };
}

const ACTIONS: Record<SupervisionActionType, { action: SupervisionAction; actor: SupervisionActor }> = {
  proofSubmitted: { action: { type: 'proofSubmitted', proofIds: ['p1', 'p2'], serviceStartAt: START }, actor: 'system' },
  startReview: { action: { type: 'startReview' }, actor: 'marketplace' },
  accept: { action: { type: 'accept' }, actor: 'marketplace' },
  reject: { action: { type: 'reject', reason: 'acceptance document unsigned' }, actor: 'marketplace' },
  openAppeal: { action: { type: 'openAppeal', reason: 'buyer idle for 6 days', evidence: ['p9'] }, actor: 'seller' },
  closeAppeal: { action: { type: 'closeAppeal', reason: 'decided', outcome: 'upheld' }, actor: 'marketplace' },
};

type Expected = SupervisionState | 'unchanged' | 'ILLEGAL_TRANSITION' | 'NO_APPEAL';

/** Every state × action, without an appeal open, for ordinary and enabling-cloud orders. */
const TABLE: Record<'ordinary' | 'enablingCloud', Record<SupervisionState, Record<SupervisionActionType, Expected>>> = {
  ordinary: {
    AWAITING_DELIVERY: {
      proofSubmitted: 'PROOF_SUBMITTED',
      startReview: 'ILLEGAL_TRANSITION',
      accept: 'ILLEGAL_TRANSITION',
      reject: 'ILLEGAL_TRANSITION',
      openAppeal: 'AWAITING_DELIVERY',
      closeAppeal: 'NO_APPEAL',
    },
    PROOF_SUBMITTED: {
      proofSubmitted: 'unchanged',
      startReview: 'ILLEGAL_TRANSITION',
      accept: 'ACCEPTED',
      reject: 'REJECTED',
      openAppeal: 'PROOF_SUBMITTED',
      closeAppeal: 'NO_APPEAL',
    },
    HUAWEI_REVIEW: {
      proofSubmitted: 'unchanged',
      startReview: 'unchanged',
      accept: 'ILLEGAL_TRANSITION',
      reject: 'REJECTED',
      openAppeal: 'HUAWEI_REVIEW',
      closeAppeal: 'NO_APPEAL',
    },
    ACCEPTED: {
      proofSubmitted: 'ILLEGAL_TRANSITION',
      startReview: 'ILLEGAL_TRANSITION',
      accept: 'unchanged',
      reject: 'ILLEGAL_TRANSITION',
      openAppeal: 'ACCEPTED',
      closeAppeal: 'NO_APPEAL',
    },
    REJECTED: {
      proofSubmitted: 'PROOF_SUBMITTED',
      startReview: 'ILLEGAL_TRANSITION',
      accept: 'ILLEGAL_TRANSITION',
      reject: 'unchanged',
      openAppeal: 'REJECTED',
      closeAppeal: 'NO_APPEAL',
    },
  },
  enablingCloud: {
    AWAITING_DELIVERY: {
      proofSubmitted: 'PROOF_SUBMITTED',
      startReview: 'ILLEGAL_TRANSITION',
      accept: 'ILLEGAL_TRANSITION',
      reject: 'ILLEGAL_TRANSITION',
      openAppeal: 'AWAITING_DELIVERY',
      closeAppeal: 'NO_APPEAL',
    },
    PROOF_SUBMITTED: {
      proofSubmitted: 'unchanged',
      startReview: 'HUAWEI_REVIEW',
      accept: 'ILLEGAL_TRANSITION',
      reject: 'REJECTED',
      openAppeal: 'PROOF_SUBMITTED',
      closeAppeal: 'NO_APPEAL',
    },
    HUAWEI_REVIEW: {
      proofSubmitted: 'unchanged',
      startReview: 'unchanged',
      accept: 'ACCEPTED',
      reject: 'REJECTED',
      openAppeal: 'HUAWEI_REVIEW',
      closeAppeal: 'NO_APPEAL',
    },
    ACCEPTED: {
      proofSubmitted: 'ILLEGAL_TRANSITION',
      startReview: 'ILLEGAL_TRANSITION',
      accept: 'unchanged',
      reject: 'ILLEGAL_TRANSITION',
      openAppeal: 'ACCEPTED',
      closeAppeal: 'NO_APPEAL',
    },
    REJECTED: {
      proofSubmitted: 'PROOF_SUBMITTED',
      startReview: 'ILLEGAL_TRANSITION',
      accept: 'ILLEGAL_TRANSITION',
      reject: 'unchanged',
      openAppeal: 'REJECTED',
      closeAppeal: 'NO_APPEAL',
    },
  },
};

function expectChanged(result: SupervisionResult): Extract<SupervisionResult, { entry: unknown }> {
  if (!result.ok || result.unchanged) throw new Error(`expected a change, got ${JSON.stringify(result)}`);
  return result;
}

describe('supervision state machine: every state × action', () => {
  for (const flavour of ['ordinary', 'enablingCloud'] as const) {
    for (const from of SUPERVISION_STATES) {
      for (const type of SUPERVISION_ACTION_TYPES) {
        const expected = TABLE[flavour][from][type];
        it(`${flavour}: ${from} + ${type} → ${expected}`, () => {
          const record = recordIn(from, { enablingCloud: flavour === 'enablingCloud' });
          const { action, actor } = ACTIONS[type];
          const result = applySupervision(record, action, LATER, actor);
          if (expected === 'ILLEGAL_TRANSITION' || expected === 'NO_APPEAL') {
            expect(result).toMatchObject({ ok: false, code: expected });
            if (!result.ok) expect(result.message).toContain(type === 'closeAppeal' ? 'no appeal' : type);
          } else if (expected === 'unchanged') {
            expect(result).toMatchObject({ ok: true, unchanged: true, next: record });
            expect(result).not.toHaveProperty('entry');
          } else {
            const changed = expectChanged(result);
            expect(changed.next.state).toBe(expected);
            expect(changed.next.version).toBe(record.version + 1);
            expect(changed.next.updatedAt).toBe(LATER);
            expect(changed.entry).toMatchObject({ version: record.version + 1, at: LATER, actor, action: type, from, to: expected });
          }
        });
      }
    }
  }

  it('covers every state and action', () => {
    expect(Object.keys(TABLE.ordinary).sort()).toEqual([...SUPERVISION_STATES].sort());
    for (const row of Object.values(TABLE.ordinary)) expect(Object.keys(row).sort()).toEqual([...SUPERVISION_ACTION_TYPES].sort());
  });
});

describe('supervision state machine: effects of each transition', () => {
  it('creates a flow awaiting delivery in round 1, with a created entry and de-duplicated required kinds', () => {
    const { record, entry } = newSupervision(
      {
        orderId: 'o',
        orderLineId: 'l',
        instanceId: 'i',
        productId: 'p',
        enablingCloud: true,
        requiredKinds: ['acceptance', 'acceptance', 'deployment'],
      },
      AT,
    );
    expect(record).toEqual({
      orderId: 'o',
      orderLineId: 'l',
      instanceId: 'i',
      productId: 'p',
      enablingCloud: true,
      requiredKinds: ['acceptance', 'deployment'],
      state: 'AWAITING_DELIVERY',
      round: 1,
      rejections: 0,
      waiting: { for: 'proofs', since: AT },
      createdAt: AT,
      updatedAt: AT,
      version: 1,
    });
    expect(entry).toEqual({ version: 1, at: AT, actor: 'system', action: 'created', to: 'AWAITING_DELIVERY', round: 1 });
  });

  it('proofSubmitted records the submission time, the service start and the proof ids', () => {
    const changed = expectChanged(
      applySupervision(
        recordIn('AWAITING_DELIVERY'),
        { type: 'proofSubmitted', proofIds: ['p1'], serviceStartAt: START, note: 'delivered on site' },
        LATER,
        'system',
      ),
    );
    expect(changed.next).toMatchObject({ state: 'PROOF_SUBMITTED', submittedAt: LATER, serviceStartAt: START });
    expect(changed.entry).toEqual({
      version: 2,
      at: LATER,
      actor: 'system',
      action: 'proofSubmitted',
      from: 'AWAITING_DELIVERY',
      to: 'PROOF_SUBMITTED',
      round: 1,
      proofIds: ['p1'],
      serviceStartAt: START,
      note: 'delivered on site',
    });
  });

  it('proofSubmitted without a service start leaves it unset (validity then starts at acceptance)', () => {
    const changed = expectChanged(
      applySupervision(recordIn('AWAITING_DELIVERY'), { type: 'proofSubmitted', proofIds: ['p1'] }, LATER, 'system'),
    );
    expect(changed.next.serviceStartAt).toBeUndefined();
    expect(changed.entry).not.toHaveProperty('serviceStartAt');
  });

  it('accept sets acceptedAt; reject counts the rejection and starts the next round', () => {
    const accepted = expectChanged(applySupervision(recordIn('PROOF_SUBMITTED'), { type: 'accept' }, LATER, 'seller'));
    expect(accepted.next).toMatchObject({ state: 'ACCEPTED', acceptedAt: LATER });

    const rejected = expectChanged(
      applySupervision(recordIn('PROOF_SUBMITTED'), { type: 'reject', reason: 'missing SOW' }, LATER, 'marketplace'),
    );
    expect(rejected.next).toMatchObject({ state: 'REJECTED', rejections: 1, round: 2 });
    expect(rejected.next.acceptedAt).toBeUndefined();
    // The entry names the round that was rejected.
    expect(rejected.entry).toMatchObject({ action: 'reject', reason: 'missing SOW', round: 1, from: 'PROOF_SUBMITTED', to: 'REJECTED' });
  });

  it('startReview is refused for an ordinary order with a reason, and accept before review for an enabling-cloud one', () => {
    const review = applySupervision(recordIn('PROOF_SUBMITTED'), { type: 'startReview' }, LATER, 'marketplace');
    expect(review).toMatchObject({ ok: false, code: 'ILLEGAL_TRANSITION' });
    if (!review.ok) expect(review.message).toMatch(/enabling-cloud/);
    const accept = applySupervision(recordIn('PROOF_SUBMITTED', { enablingCloud: true }), { type: 'accept' }, LATER, 'marketplace');
    expect(accept).toMatchObject({ ok: false, code: 'ILLEGAL_TRANSITION' });
    if (!accept.ok) expect(accept.message).toMatch(/Huawei review/);
  });

  it('a resubmission after a rejection keeps an earlier service start unless a new one is given', () => {
    const rejected = recordIn('REJECTED', { serviceStartAt: START, round: 2, rejections: 1 });
    const kept = expectChanged(applySupervision(rejected, { type: 'proofSubmitted', proofIds: ['p3'] }, LATER, 'system'));
    expect(kept.next).toMatchObject({ state: 'PROOF_SUBMITTED', serviceStartAt: START, round: 2 });
    const replaced = expectChanged(
      applySupervision(rejected, { type: 'proofSubmitted', proofIds: ['p3'], serviceStartAt: AT }, LATER, 'system'),
    );
    expect(replaced.next.serviceStartAt).toBe(AT);
  });

  it('a proofSubmitted of another round changes nothing (a late duplicate)', () => {
    const rejected = recordIn('REJECTED', { round: 2, rejections: 1 });
    const stale = applySupervision(rejected, { type: 'proofSubmitted', proofIds: ['p1'], round: 1 }, LATER, 'system');
    expect(stale).toMatchObject({ ok: true, unchanged: true, next: rejected });
    if (stale.ok && stale.unchanged) expect(stale.reason).toMatch(/round 1/);
    expect(
      expectChanged(applySupervision(rejected, { type: 'proofSubmitted', proofIds: ['p4'], round: 2 }, LATER, 'system')).next.state,
    ).toBe('PROOF_SUBMITTED');
  });

  it('does not mutate its input', () => {
    const before = recordIn('PROOF_SUBMITTED', { appeal: { openedAt: AT, reason: 'r', evidence: ['e'] } });
    const copy = structuredClone(before);
    applySupervision(before, { type: 'closeAppeal', reason: 'x' }, LATER, 'seller');
    applySupervision(before, { type: 'reject', reason: 'x' }, LATER, 'seller');
    const open = recordIn('PROOF_SUBMITTED');
    const openCopy = structuredClone(open);
    const opened = expectChanged(applySupervision(open, ACTIONS.openAppeal.action, LATER, 'seller'));
    (opened.next.appeal?.evidence ?? []).push('mutated');
    expect(before).toEqual(copy);
    expect(open).toEqual(openCopy);
    expect(ACTIONS.openAppeal.action).toEqual({ type: 'openAppeal', reason: 'buyer idle for 6 days', evidence: ['p9'] });
  });
});

describe('supervision state machine: invalid actions', () => {
  const cases: Array<[string, SupervisionAction, SupervisionActor]> = [
    ['proofSubmitted by the seller', { type: 'proofSubmitted', proofIds: ['p1'] }, 'seller'],
    ['proofSubmitted with no proof ids', { type: 'proofSubmitted', proofIds: [] }, 'system'],
    ['proofSubmitted with a blank proof id', { type: 'proofSubmitted', proofIds: [' '] }, 'system'],
    ['proofSubmitted with a date that is no instant', { type: 'proofSubmitted', proofIds: ['p1'], serviceStartAt: '2026-01-01' }, 'system'],
    [
      'proofSubmitted with an impossible date',
      { type: 'proofSubmitted', proofIds: ['p1'], serviceStartAt: '2026-13-01T00:00:00Z' },
      'system',
    ],
    ['proofSubmitted with round 0', { type: 'proofSubmitted', proofIds: ['p1'], round: 0 }, 'system'],
    ['reject without a reason', { type: 'reject', reason: '  ' }, 'marketplace'],
    ['openAppeal without a reason', { type: 'openAppeal', reason: '', evidence: [] }, 'seller'],
    ['openAppeal with blank evidence', { type: 'openAppeal', reason: 'r', evidence: [''] }, 'seller'],
    ['closeAppeal without a reason', { type: 'closeAppeal', reason: '' }, 'seller'],
  ];
  for (const [name, action, actor] of cases) {
    it(`refuses ${name} as INVALID in any state`, () => {
      for (const state of SUPERVISION_STATES) {
        expect(applySupervision(recordIn(state), action, LATER, actor)).toMatchObject({ ok: false, code: 'INVALID' });
      }
    });
  }

  it('knows an ISO instant', () => {
    expect(isIsoInstant('2026-01-01T00:00:00Z')).toBe(true);
    expect(isIsoInstant('2026-01-01T08:00+08:00')).toBe(true);
    expect(isIsoInstant('2026-01-01T00:00:00')).toBe(false);
    expect(isIsoInstant('yesterday')).toBe(false);
  });
});

describe('supervision state machine: appeals', () => {
  const appealOpen = (state: SupervisionState, enablingCloud = false): SupervisionRecord =>
    recordIn(state, { enablingCloud, appeal: { openedAt: AT, reason: 'buyer idle for 6 days', evidence: ['p9'] } });

  it('opens an appeal in every state, the state unchanged, with reason and evidence in record and entry', () => {
    for (const state of SUPERVISION_STATES) {
      const changed = expectChanged(applySupervision(recordIn(state), ACTIONS.openAppeal.action, LATER, 'seller'));
      expect(changed.next.state).toBe(state);
      expect(changed.next.appeal).toEqual({ openedAt: LATER, reason: 'buyer idle for 6 days', evidence: ['p9'] });
      expect(changed.entry).toMatchObject({
        action: 'openAppeal',
        from: state,
        to: state,
        reason: 'buyer idle for 6 days',
        evidence: ['p9'],
      });
    }
  });

  it('freezes the flow: every action but closeAppeal is refused with APPEAL_OPEN in every state', () => {
    for (const enablingCloud of [false, true]) {
      for (const state of SUPERVISION_STATES) {
        for (const type of SUPERVISION_ACTION_TYPES) {
          if (type === 'closeAppeal') continue;
          const { action, actor } = ACTIONS[type];
          const differentAppeal: SupervisionAction = { type: 'openAppeal', reason: 'another reason', evidence: [] };
          const result = applySupervision(appealOpen(state, enablingCloud), type === 'openAppeal' ? differentAppeal : action, LATER, actor);
          expect(result, `${state} + ${type}`).toMatchObject({ ok: false, code: 'APPEAL_OPEN' });
        }
      }
    }
  });

  it('an identical openAppeal while it is open is a harmless repeat', () => {
    const record = appealOpen('REJECTED');
    expect(applySupervision(record, ACTIONS.openAppeal.action, LATER, 'seller')).toMatchObject({ ok: true, unchanged: true, next: record });
    expect(
      applySupervision(record, { type: 'openAppeal', reason: 'buyer idle for 6 days', evidence: ['p9', 'p10'] }, LATER, 'seller'),
    ).toMatchObject({
      ok: false,
      code: 'APPEAL_OPEN',
    });
  });

  it('closing an appeal unfreezes the flow where it stood and records the outcome', () => {
    for (const state of SUPERVISION_STATES) {
      const changed = expectChanged(
        applySupervision(
          appealOpen(state),
          { type: 'closeAppeal', reason: 'operations manager decided', outcome: 'dismissed' },
          LATER,
          'marketplace',
        ),
      );
      expect(changed.next.state).toBe(state);
      expect(changed.next).not.toHaveProperty('appeal');
      expect(changed.next.version).toBe(2);
      expect(changed.entry).toEqual({
        version: 2,
        at: LATER,
        actor: 'marketplace',
        action: 'closeAppeal',
        from: state,
        to: state,
        round: 1,
        reason: 'operations manager decided',
        outcome: 'dismissed',
      });
    }
  });
});

describe('supervision state machine: whole flows', () => {
  /** Applies actions in order, collecting the history as a store would. */
  function run(start: SupervisionRecord, steps: Array<[SupervisionAction, SupervisionActor, string]>) {
    let record = start;
    const history = [];
    for (const [action, actor, at] of steps) {
      const result = applySupervision(record, action, at, actor);
      if (!result.ok) throw new Error(`${action.type}: ${result.code} ${result.message}`);
      if (!result.unchanged) history.push(result.entry);
      record = result.next;
    }
    return { record, history };
  }
  const t = (day: number) => `2026-02-${String(day).padStart(2, '0')}T00:00:00.000Z`;

  it('enabling cloud: deliver, review, reject, appeal, redeliver, review, accept', () => {
    const { record: created, entry } = newSupervision(
      { orderId: 'o-9', orderLineId: 'o-9-000001', instanceId: 'i-9', productId: 'P9', enablingCloud: true, requiredKinds: ['acceptance'] },
      t(1),
    );
    const { record, history } = run(created, [
      [{ type: 'proofSubmitted', proofIds: ['a1'], round: 1 }, 'system', t(2)],
      [{ type: 'proofSubmitted', proofIds: ['a1'], round: 1 }, 'system', t(2)], // duplicate event
      [{ type: 'startReview' }, 'marketplace', t(3)],
      [{ type: 'reject', reason: 'screenshot unreadable' }, 'marketplace', t(4)],
      [{ type: 'openAppeal', reason: 'the screenshot is readable', evidence: ['a1'] }, 'seller', t(5)],
      [{ type: 'closeAppeal', reason: 'redeliver with a clearer screenshot', outcome: 'dismissed' }, 'marketplace', t(6)],
      [{ type: 'proofSubmitted', proofIds: ['a2'], round: 2, serviceStartAt: '2026-02-01T00:00:00Z' }, 'system', t(7)],
      [{ type: 'startReview' }, 'marketplace', t(8)],
      [{ type: 'accept' }, 'marketplace', t(9)],
      [{ type: 'accept' }, 'marketplace', t(9)], // duplicate
    ]);
    expect(record).toMatchObject({ state: 'ACCEPTED', round: 2, rejections: 1, acceptedAt: t(9), submittedAt: t(7), version: 9 });
    expect(record.appeal).toBeUndefined();
    expect(effectiveServiceStart(record)).toBe('2026-02-01T00:00:00Z');
    expect(isTerminal(record.state)).toBe(true);
    const all = [entry, ...history];
    expect(all.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(all.map((e) => [e.action, e.from, e.to, e.round])).toEqual([
      ['created', undefined, 'AWAITING_DELIVERY', 1],
      ['proofSubmitted', 'AWAITING_DELIVERY', 'PROOF_SUBMITTED', 1],
      ['startReview', 'PROOF_SUBMITTED', 'HUAWEI_REVIEW', 1],
      ['reject', 'HUAWEI_REVIEW', 'REJECTED', 1],
      ['openAppeal', 'REJECTED', 'REJECTED', 2],
      ['closeAppeal', 'REJECTED', 'REJECTED', 2],
      ['proofSubmitted', 'REJECTED', 'PROOF_SUBMITTED', 2],
      ['startReview', 'PROOF_SUBMITTED', 'HUAWEI_REVIEW', 2],
      ['accept', 'HUAWEI_REVIEW', 'ACCEPTED', 2],
    ]);
    // Each entry's from is the previous entry's to: the history is a chain.
    for (let i = 1; i < all.length; i++) expect(all[i]!.from).toBe(all[i - 1]!.to);
  });

  it('an appeal on an accepted order is possible and leaves it accepted', () => {
    const { record } = run(recordIn('AWAITING_DELIVERY'), [
      [{ type: 'proofSubmitted', proofIds: ['p'] }, 'system', t(2)],
      [{ type: 'accept' }, 'seller', t(3)],
      [{ type: 'openAppeal', reason: 'buyer disputes', evidence: [] }, 'marketplace', t(4)],
      [{ type: 'closeAppeal', reason: 'settled', outcome: 'withdrawn' }, 'marketplace', t(5)],
    ]);
    expect(record).toMatchObject({ state: 'ACCEPTED', acceptedAt: t(3), version: 5 });
    // No declared start: validity starts at acceptance.
    expect(effectiveServiceStart(record)).toBe(t(3));
  });

  it('has no service start before acceptance or a declared start', () => {
    expect(effectiveServiceStart(recordIn('PROOF_SUBMITTED'))).toBeUndefined();
    expect(isTerminal('REJECTED')).toBe(false);
  });
});

describe('whom a flow waits for, since when', () => {
  const next = (record: SupervisionRecord, action: SupervisionAction, actor: SupervisionActor, at: string) =>
    expectChanged(applySupervision(record, action, at, actor)).next;

  it('waits for the seller’s proofs, then the buyer’s decision, then proofs again after a rejection, then nobody', () => {
    const created = recordIn('AWAITING_DELIVERY');
    expect(created.waiting).toEqual({ for: 'proofs', since: AT });
    const submitted = next(created, { type: 'proofSubmitted', proofIds: ['p1'] }, 'system', LATER);
    expect(submitted.waiting).toEqual({ for: 'decision', since: LATER });
    const rejected = next(submitted, { type: 'reject', reason: 'incomplete' }, 'seller', '2026-01-03T00:00:00.000Z');
    expect(rejected.waiting).toEqual({ for: 'proofs', since: '2026-01-03T00:00:00.000Z' });
    const again = next(rejected, { type: 'proofSubmitted', proofIds: ['p2'] }, 'system', '2026-01-04T00:00:00.000Z');
    const accepted = next(again, { type: 'accept' }, 'seller', '2026-01-05T00:00:00.000Z');
    expect(accepted.waiting).toBeUndefined();
  });

  it('keeps the wait an appeal interrupts, and Huawei’s review starts a new wait for a decision', () => {
    const created = recordIn('AWAITING_DELIVERY');
    const appealed = next(created, { type: 'openAppeal', reason: 'buyer idle', evidence: [] }, 'seller', LATER);
    expect(appealed.waiting).toEqual({ for: 'proofs', since: AT });
    const closed = next(appealed, { type: 'closeAppeal', reason: 'decided' }, 'seller', LATER);
    expect(closed.waiting).toEqual({ for: 'proofs', since: AT });
    const review = next(recordIn('PROOF_SUBMITTED', { enablingCloud: true }), { type: 'startReview' }, 'seller', LATER);
    expect(review.waiting).toEqual({ for: 'decision', since: LATER });
  });
});
