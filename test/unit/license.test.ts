import { describe, expect, it } from 'vitest';
import {
  decideLicense,
  LICENSE_STATES,
  licenseIdempotencyKey,
  registerLicense,
  type License,
  type LicenseCommand,
  type LicenseState,
} from '#lib/licenses/license.ts';

/** The License-code state machine (spec §5.1), pure: ACTIVE ⇄ FROZEN → RELEASED, never backwards. */

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';

function licenseIn(state: LicenseState, extra: Partial<License> = {}): License {
  const { license } = registerLicense(
    { license: 'PL-1', test: false, orderId: 'CS1', orderLineId: 'CS1-000001', productId: 'P1', expireTime: '20270101000000' },
    AT,
  );
  return { ...license, state, ...extra };
}

const renew: LicenseCommand = {
  activity: 'refreshLicenseCode',
  scene: 'RENEWAL',
  orderId: 'CS2',
  orderLineId: 'CS2-000001',
  expireTime: '20280101000000',
  productId: 'P2',
};
const freeze: LicenseCommand = { activity: 'updateLicenseCodeStatus', status: 'FREEZE' };
const unfreeze: LicenseCommand = { activity: 'updateLicenseCodeStatus', status: 'UNFREEZE' };
const release: LicenseCommand = { activity: 'releaseLicenseCode', orderId: 'CS1', orderLineId: 'CS1-000001' };

const label = (c: LicenseCommand) => ('status' in c ? `${c.activity} ${c.status}` : c.activity);

describe('decideLicense: every state × command', () => {
  const table: Record<LicenseState, Array<[LicenseCommand, LicenseState | 'unchanged']>> = {
    ACTIVE: [
      [renew, 'ACTIVE'],
      [freeze, 'FROZEN'],
      [unfreeze, 'unchanged'],
      [release, 'RELEASED'],
    ],
    FROZEN: [
      [renew, 'FROZEN'],
      [freeze, 'unchanged'],
      [unfreeze, 'ACTIVE'],
      [release, 'RELEASED'],
    ],
    RELEASED: [
      [renew, 'unchanged'],
      [freeze, 'unchanged'],
      [unfreeze, 'unchanged'],
      [release, 'unchanged'],
    ],
  };

  it('covers every state', () => {
    expect(Object.keys(table).sort()).toEqual([...LICENSE_STATES].sort());
  });

  for (const from of LICENSE_STATES) {
    for (const [command, to] of table[from]) {
      it(`${from} + ${label(command)} → ${to}`, () => {
        // Prepare
        const license = licenseIn(from, { version: 3 });

        // Act
        const decision = decideLicense(license, command, LATER);

        // Assess
        if (to === 'unchanged') {
          expect(decision.outcome).toBe('unchanged');
          return;
        }
        expect(decision.outcome).toBe('changed');
        if (decision.outcome !== 'changed') return;
        expect(decision.next).toMatchObject({ license: 'PL-1', state: to, version: 4, updatedAt: LATER, createdAt: AT });
        expect(decision.entry).toMatchObject({
          license: 'PL-1',
          actor: 'marketplace',
          version: 4,
          at: LATER,
          activity: command.activity,
          from,
          to,
        });
        // The input is not mutated (pure).
        expect(license).toMatchObject({ state: from, version: 3 });
      });
    }
  }
});

describe('decideLicense details', () => {
  it('a renewal sets expireTime and productId and records them with the order and scene', () => {
    const decision = decideLicense(licenseIn('ACTIVE'), renew, LATER);
    expect(decision).toMatchObject({
      outcome: 'changed',
      next: { expireTime: '20280101000000', productId: 'P2', state: 'ACTIVE' },
      entry: {
        event: 'license.renewed',
        scene: 'RENEWAL',
        orderId: 'CS2',
        orderLineId: 'CS2-000001',
        changes: { expireTime: '20280101000000', productId: 'P2' },
      },
    });
  });

  it('a renewal without productId keeps the product', () => {
    const { productId: _p, ...withoutProduct } = renew as Extract<LicenseCommand, { activity: 'refreshLicenseCode' }>;
    const decision = decideLicense(licenseIn('ACTIVE'), withoutProduct, LATER);
    expect(decision).toMatchObject({
      outcome: 'changed',
      next: { productId: 'P1', expireTime: '20280101000000' },
      entry: { changes: { expireTime: '20280101000000' } },
    });
    if (decision.outcome === 'changed') expect(decision.entry.changes).not.toHaveProperty('productId');
  });

  it('names the events', () => {
    const events = [
      decideLicense(licenseIn('ACTIVE'), freeze, LATER),
      decideLicense(licenseIn('FROZEN'), unfreeze, LATER),
      decideLicense(licenseIn('FROZEN'), release, LATER),
    ].map((d) => (d.outcome === 'changed' ? d.entry.event : d.reason));
    expect(events).toEqual(['license.frozen', 'license.unfrozen', 'license.released']);
  });

  it('RELEASED is terminal: no command moves it, whatever it carries', () => {
    const released = licenseIn('RELEASED');
    for (const command of [renew, freeze, unfreeze, release, { ...renew, scene: 'TRIAL_TO_FORMAL' } as LicenseCommand]) {
      expect(decideLicense(released, command, LATER)).toEqual({ outcome: 'unchanged', reason: 'license is released' });
    }
  });

  it('status changes say why nothing changed', () => {
    expect(decideLicense(licenseIn('FROZEN'), freeze, LATER)).toEqual({ outcome: 'unchanged', reason: 'license is already frozen' });
    expect(decideLicense(licenseIn('ACTIVE'), unfreeze, LATER)).toEqual({ outcome: 'unchanged', reason: 'license is not frozen' });
  });
});

describe('licenseIdempotencyKey', () => {
  it('a renewal order applies once per scene', () => {
    expect(licenseIdempotencyKey(renew)).toBe('refreshLicenseCode#CS2#RENEWAL');
    expect(licenseIdempotencyKey({ ...renew, scene: 'UNSUBSCRIBE_RENEWAL_PERIOD' } as LicenseCommand)).toBe(
      'refreshLicenseCode#CS2#UNSUBSCRIBE_RENEWAL_PERIOD',
    );
    // The key does not depend on what the renewal sets: a retry with other values is the same renewal.
    expect(licenseIdempotencyKey({ ...renew, expireTime: '20990101000000', productId: 'P9' } as LicenseCommand)).toBe(
      licenseIdempotencyKey(renew),
    );
  });

  it('status changes and release are idempotent by state and have no key', () => {
    expect(licenseIdempotencyKey(freeze)).toBeUndefined();
    expect(licenseIdempotencyKey(unfreeze)).toBeUndefined();
    expect(licenseIdempotencyKey(release)).toBeUndefined();
  });
});

describe('registerLicense', () => {
  it('makes an ACTIVE license at version 1 with a seller history entry', () => {
    const { license, entry } = registerLicense({ license: 'PL-9', test: true, orderId: 'CS9', orderLineId: 'CS9-000001' }, AT);
    expect(license).toEqual({
      license: 'PL-9',
      test: true,
      orderId: 'CS9',
      orderLineId: 'CS9-000001',
      state: 'ACTIVE',
      createdAt: AT,
      updatedAt: AT,
      version: 1,
    });
    expect(entry).toEqual({
      license: 'PL-9',
      actor: 'seller',
      version: 1,
      at: AT,
      activity: 'registerLicense',
      event: 'license.registered',
      orderId: 'CS9',
      orderLineId: 'CS9-000001',
      to: 'ACTIVE',
    });
  });
});
