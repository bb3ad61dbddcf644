/** The reference comparator must be able to fail: each rule of the README's tolerance rule is checked. */
import { compareToReference } from '../../test/fixtures/reference/compare';

const tol = { rel: 1e-9, abs: 1e-12 };

describe('compareToReference (test/fixtures/reference/compare.ts)', () => {
  it('passes within abs + rel*|expected| and fails just outside', () => {
    expect(compareToReference({ x: 1 + 5e-10 }, { x: 1 }, tol)).toEqual([]);
    expect(compareToReference({ x: 1 + 5e-9 }, { x: 1 }, tol)).toHaveLength(1);
  });

  it('uses per-field overrides with array indices skipped', () => {
    const t = { ...tol, fields: { 'looks.cs_low': { rel: 0, abs: 0.1 } } };
    expect(compareToReference({ looks: [{ cs_low: 1.05 }, { cs_low: 2.05 }] }, { looks: [{ cs_low: 1 }, { cs_low: 2 }] }, t)).toEqual([]);
    expect(compareToReference({ looks: [{ cs_low: 1.05 }, { cs_low: 2.5 }] }, { looks: [{ cs_low: 1 }, { cs_low: 2 }] }, t)).toHaveLength(1);
  });

  it('requires null (or undefined) where null is expected, never NaN/Infinity', () => {
    expect(compareToReference({ p: null }, { p: null }, tol)).toEqual([]);
    expect(compareToReference({ p: NaN }, { p: null }, tol)).toHaveLength(1);
    expect(compareToReference({ p: NaN }, { p: 0.5 }, tol)).toHaveLength(1);
    expect(compareToReference({ p: Infinity }, { p: 1e308 }, tol)).toHaveLength(1);
  });

  it('compares counts exactly, booleans and strings exactly', () => {
    expect(compareToReference({ count_ge: 20.0000001 }, { count_ge: 20 }, { rel: 1e-3, abs: 0 })).toHaveLength(1);
    expect(compareToReference({ bounded: 0 }, { bounded: false }, tol)).toHaveLength(1);
    expect(compareToReference({ stratum: 'north' }, { stratum: 'North' }, tol)).toHaveLength(1);
  });

  it('reports a missing field unless it is listed in skip, and rejects a skip entry that matches nothing', () => {
    expect(compareToReference({}, { z: 1 }, tol)).toHaveLength(1);
    expect(compareToReference({}, { z: 1 }, tol, { skip: ['z'] })).toEqual([]);
    expect(compareToReference({ z: 1 }, { z: 1 }, tol, { skip: ['nope'] })).toHaveLength(1);
  });
});
