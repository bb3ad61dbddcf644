/**
 * Prop 99 (Abadie et al. 2010; Arkhangelsky et al. 2021 Table 1): DID −27.3 (17.7), SC −19.6 (9.9),
 * SDID −15.6 (8.4). Reads ../shared/data/california-prop99 (never committed); fails when missing.
 */
import { readSharedData } from '../../../test/fixtures/shared-data';
import { analyseFewTreated, FewTreatedInputError, FewTreatedPanel } from './few-treated';

function loadProp99(): FewTreatedPanel {
  let text: string;
  try {
    text = readSharedData('california-prop99/california_prop99.csv');
  } catch (e) {
    throw new Error(`Prop 99 panel missing: put california_prop99.csv under ../shared/data/california-prop99 (${(e as Error).message})`);
  }
  const rows = text.trim().split('\n').slice(1).map((l) => l.split(';'));
  return { unit: rows.map((r) => r[0]), week: rows.map((r) => Number(r[1]) - 1970), value: rows.map((r) => Number(r[2])) };
}

describe('few-treated estimators on California Prop 99', () => {
  const panel = loadProp99();
  const res = analyseFewTreated(panel, ['California'], { preWeeks: 19, replications: 200, seed: 7, leaveOneOut: false });
  const by = (e: string) => res.estimates.find((x) => x.estimator === e)!;
  it.each([
    ['did', -27.3, 17.7],
    ['sc', -19.6, 9.9],
    ['sdid', -15.6, 8.4],
  ])('%s reproduces the published estimate and placebo SE', (e, est, se) => {
    expect(Math.abs(by(e).estimate - est)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(by(e).placebo_se! / se - 1)).toBeLessThanOrEqual(0.15);
    expect(by(e).ci![0]).toBeLessThan(by(e).estimate);
    expect(by(e).permutation_min_p).toBeCloseTo(1 / 39, 12);
  });
  it('SC and SDID weights are on the simplex; jackknife undefined with one treated', () => {
    for (const e of ['sc', 'sdid']) {
      expect(by(e).jackknife_se).toBeNull();
      expect(by(e).unit_weights.every((w) => w.weight > 0)).toBe(true);
    }
    expect(by('sdid').time_weights.reduce((a, w) => a + w.weight, 0)).toBeCloseTo(1, 9);
  });
  it('typed errors for bad input', () => {
    expect(() => analyseFewTreated(panel, ['California'], { preWeeks: 2 })).toThrow(FewTreatedInputError);
    const holed = { unit: panel.unit.slice(1), week: panel.week.slice(1), value: panel.value.slice(1) };
    const first = panel.unit[0];
    expect(() => analyseFewTreated(holed, [first], { preWeeks: 19 })).toThrow(/missing weeks/);
    const onlyCa = { unit: panel.unit.filter((u) => u === 'California'), week: panel.week.filter((_, i) => panel.unit[i] === 'California'), value: panel.value.filter((_, i) => panel.unit[i] === 'California') };
    expect(() => analyseFewTreated(onlyCa, ['California'], { preWeeks: 19 })).toThrow(/no donor/);
  });
});
