import { createPrng } from '../stats/design/prng';
import { selectTreatedSet } from '../stats/synthetic/treated-selection';
import type { AssignmentEntity, StoredDesign, StoredSelection } from './assignment.entity';
import { replaySelected, SELECTED_ALGORITHM_VERSION, selectedInputsHash, selectionArgs } from './selected-design';

/** A stored selected assignment built the way the draw builds it, on a small simulated pool. */
function storedAssignment(): Pick<AssignmentEntity, 'design' | 'units' | 'seed' | 'algorithmVersion' | 'inputsHash'> {
  const rng = createPrng(3);
  const codes = Array.from({ length: 7 }, (_, i) => `T${i + 1}`);
  const values = Object.fromEntries(codes.map((c, i) => [c, Array.from({ length: 16 }, (_, t) => 100 + 10 * i + 5 * Math.sin(t / 2) + rng.nextDouble())]));
  const inputs: Omit<StoredSelection, 'result'> = {
    settings: { top: 3 },
    test_weeks: 8,
    panel: { kpi: 'revenue_won', weeks: Array.from({ length: 16 }, (_, t) => `w${t}`), values },
    forced: [],
    never_treated: ['T7'],
    cap: null,
  };
  const { input, options } = selectionArgs(inputs, 2, 9);
  const result = selectTreatedSet(input, options);
  const treated = result.ranked[0].treated;
  const design: StoredDesign = {
    type: 'selected',
    stratify_by: null,
    arms: [
      { key: 'control', role: 'control', count: 5 },
      { key: 'treatment', role: 'treatment', count: 2 },
    ],
    strata: [],
    treated,
    donor_pool: { donors: codes.filter((c) => !treated.includes(c)), left_out: [], pre_weeks: 16, min_pre_weeks: 4, rules: '' },
    k: 2,
    selection: { ...inputs, result },
  };
  const units = codes.map((c) => ({ territoryId: c, territoryCode: c, arm: treated.includes(c) ? 'treatment' : 'control', stratum: 'all', covariates: {} })) as AssignmentEntity['units'];
  const inputsHash = selectedInputsHash(design, 9, units.map((u) => ({ territory_id: u.territoryId, code: u.territoryCode, stratum: u.stratum, covariates: u.covariates })));
  return { design, units, seed: 9, algorithmVersion: SELECTED_ALGORITHM_VERSION, inputsHash };
}

describe('selected design: replay and inputs hash', () => {
  it('replays identically from what was stored, with the hash of the stored inputs', () => {
    const a = storedAssignment();
    const r = replaySelected(a);
    expect(r).toMatchObject({ identical: true, selection_identical: true, mismatches: [] });
    expect(r.replayed_inputs_hash).toBe(a.inputsHash);
  });

  it('a stored ranking the selection does not reproduce, or other settings, is not identical; the hash covers the inputs, not the result', () => {
    const a = storedAssignment();
    a.design.selection!.result.ranked[1].score += 1e-6;
    const r = replaySelected(a);
    expect(r.selection_identical).toBe(false);
    expect(r.identical).toBe(false);
    expect(r.replayed_inputs_hash).toBe(storedAssignment().inputsHash);
    const b = storedAssignment();
    b.design.selection!.panel.values.T1[0] += 1;
    expect(replaySelected(b).replayed_inputs_hash).not.toBe(b.inputsHash);
    const c = storedAssignment();
    c.design.selection!.settings = { top: 3, windows: 3 };
    expect(replaySelected(c).identical).toBe(false);
  });
});
