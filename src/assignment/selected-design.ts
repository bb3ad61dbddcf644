import { SELECTION_ALGORITHM_VERSION, selectTreatedSet, TreatedSelectionInput, TreatedSelectionOptions, TreatedSelectionResult } from '../stats/synthetic/treated-selection';
import { DesignUnit } from './assignment-inputs';
import type { AssignmentEntity, StoredDesign, StoredSelection } from './assignment.entity';
import { chosenInputsHash, replayChosen } from './chosen-design';
import type { ReplayResult } from './design-plan';

/**
 * Version of the selected design's assignment rule: the chosen design's donor-pool rules, then the
 * treated set = rank 1 of the placebo-backtest selection (treated-selection.ts).
 */
export const SELECTED_ALGORITHM_VERSION = SELECTION_ALGORITHM_VERSION;

/**
 * The selection's input and options from what a selected design stores: the pool is the panel's
 * territories (sorted by code), their pre-period series, k, forced and never-treated codes, the cap
 * values, the seed and the settings.
 */
export function selectionArgs(s: Omit<StoredSelection, 'result'>, k: number, seed: number): { input: TreatedSelectionInput; options: TreatedSelectionOptions } {
  const units = Object.keys(s.panel.values).sort();
  return {
    input: {
      units,
      values: units.map((u) => s.panel.values[u]),
      k,
      forced: s.forced,
      excluded: s.never_treated,
      cap: s.cap ? { values: units.map((u) => s.cap!.values[u]), maxShare: s.cap.max_share, name: s.cap.covariate } : null,
    },
    options: {
      seed,
      testWeeks: s.test_weeks,
      windows: s.settings.windows,
      candidates: s.settings.candidates,
      exhaustiveLimit: s.settings.exhaustive_limit,
      top: s.settings.top,
    },
  };
}

/**
 * SHA-256 of what determines a selected design's assignment: the chosen design's inputs (type,
 * arm keys, left-out codes, units; not the treated set or arm counts, which the selection decides) plus k and the selection's inputs (settings, test length,
 * the backtested panel, forced/never-treated codes, cap values), under the selection's version.
 * The stored result is not hashed: it is what the replay recomputes.
 */
export function selectedInputsHash(design: StoredDesign, seed: number, units: readonly DesignUnit[]): string {
  const s = design.selection;
  const inputs = s ? { settings: s.settings, test_weeks: s.test_weeks, panel: s.panel, forced: s.forced, never_treated: s.never_treated, cap: s.cap } : null;
  // the treated set and the arm counts are the selection's outcome, not its inputs
  const before: StoredDesign = { ...design, treated: [], arms: design.arms.map((a) => ({ key: a.key, role: a.role, count: 0 })) };
  return chosenInputsHash(before, seed, units, { k: design.k ?? null, selection: inputs }, SELECTED_ALGORITHM_VERSION);
}

/** Whether two selection results rank the same sets with the same figures. */
function sameSelection(a: TreatedSelectionResult, b: TreatedSelectionResult): boolean {
  const key = (r: TreatedSelectionResult) => JSON.stringify([r.search, r.candidates_scored, r.ranked.map((c) => [c.treated, c.score, c.placebo_bias, c.mde])]);
  return key(a) === key(b);
}

/**
 * Replays a stored selected assignment from what was stored: the selection is rerun on the stored
 * panel, settings and seed (treated-selection.ts), its ranking must equal the stored one and its
 * rank 1 the stored treated set; then the arms are checked as for a chosen design (treated in the
 * treatment arm, the donor pool in the control arm) and the inputs hash is recomputed. Synchronous:
 * it costs as much as the draw's selection.
 */
export function replaySelected(a: Pick<AssignmentEntity, 'design' | 'units' | 'seed' | 'algorithmVersion'>): ReplayResult {
  const base = replayChosen(a, SELECTED_ALGORITHM_VERSION, selectedInputsHash);
  const s = a.design.selection;
  let selectionIdentical = false;
  if (s && a.design.k !== undefined) {
    const { input, options } = selectionArgs(s, a.design.k, a.seed);
    try {
      const again = selectTreatedSet(input, options);
      selectionIdentical = sameSelection(again, s.result) && JSON.stringify(again.ranked[0].treated) === JSON.stringify([...(a.design.treated ?? [])].sort());
    } catch {
      selectionIdentical = false;
    }
  }
  return { ...base, identical: base.identical && selectionIdentical, selection_identical: selectionIdentical };
}
