import { AppException } from '../common/errors/app.exception';
import { PRNG_ALGORITHM } from '../stats/design/prng';
import { assertKFitsPool, FewTreatedInputError } from '../stats/synthetic/few-treated';
import { DesignUnit, hashAssignmentInputs } from './assignment-inputs';
import type { AssignmentEntity, StoredDesign } from './assignment.entity';
import type { ReplayResult } from './design-plan';

/** Version of the chosen (few-treated, no randomization) design's assignment rule; stored with every such assignment. */
export const CHOSEN_ALGORITHM_VERSION = 'pilotlab-chosen@1 (named treated, rule-based donor pool)';

/** Fewest pre-period weeks a chosen design accepts (the few-treated core's `minPreWeeks` default). */
export const CHOSEN_MIN_PRE_WEEKS = 4;

/** The donor-pool rules in words (stored with the design and shown by the report). */
export const CHOSEN_DONOR_RULES =
  'donors = eligible territories that are not treated, minus: those excluded by the pilot, those in another running pilot (reserved), ' +
  'and those with pre-period weeks before their first recorded opportunity (incomplete pre-period data)';

/** Why an eligible territory is not in the donor pool of a chosen design. */
export type DonorLeftOutReason = 'excluded' | 'reserved' | 'incomplete_pre_period';

/** An eligible territory left out of the donor pool, with why (`detail` names the pilot or the missing weeks). */
export interface DonorLeftOut {
  code: string;
  reason: DonorLeftOutReason;
  detail: string;
  /** reserved: the running pilot(s) holding the territory */
  pilots?: { pilot_id: string; name: string }[];
  /** incomplete_pre_period: the pre-period weeks (their first day) without data coverage */
  missing_weeks?: string[];
}

/** The donor pool of a chosen design. */
export interface ChosenDonorPool {
  treated: string[];
  /** donor territory codes, sorted */
  donors: string[];
  /** eligible territories left out of the donor pool, sorted by code */
  left_out: DonorLeftOut[];
  pre_weeks: number;
  min_pre_weeks: number;
}

/**
 * The donor-pool rules of a `chosen` design (issue 12): every eligible territory that is not treated
 * is a donor, except (in this order) those the user excluded (`constraints.exclude`), those reserved
 * by another running pilot, and those with incomplete pre-period data (a pre-period week before the
 * territory's first recorded opportunity: the territory was not yet in the CRM, so a 0 there would be
 * missing data, not a week without deals).
 *
 * @param input eligible codes; treated codes (1–5); excluded codes; reserved codes → running pilots;
 *   missing pre-period weeks per code (absent = complete); the number of pre-period weeks
 * @returns treated, donors and the left-out territories with their reasons
 * @throws FewTreatedInputError PRE_PERIOD_TOO_SHORT (fewer than CHOSEN_MIN_PRE_WEEKS weeks),
 *   TREATED_MISSING_WEEKS (a treated territory with incomplete pre-period data), EMPTY_DONOR_POOL,
 *   K_EXCEEDS_POOL (k treated need 2k + 1 usable territories, few-treated.ts assertKFitsPool);
 *   AppException DESIGN_INFEASIBLE for a treated code that is not eligible or is excluded
 */
export function chosenDonorPool(input: {
  eligible: readonly string[];
  treated: readonly string[];
  excluded: readonly string[];
  reserved: ReadonlyMap<string, { pilot_id: string; name: string }[]>;
  missingWeeks: ReadonlyMap<string, string[]>;
  preWeeks: number;
  /** treated-set size to check the pool against (default: the named treated); a selected design passes its k with no treated */
  k?: number;
}): ChosenDonorPool {
  if (input.preWeeks < CHOSEN_MIN_PRE_WEEKS) {
    throw new FewTreatedInputError(
      'PRE_PERIOD_TOO_SHORT',
      `the pre-period has ${input.preWeeks} week(s); a synthetic counterfactual needs at least ${CHOSEN_MIN_PRE_WEEKS}`,
      { pre_weeks: input.preWeeks, min_pre_weeks: CHOSEN_MIN_PRE_WEEKS },
    );
  }
  const eligible = new Set(input.eligible);
  const excluded = new Set(input.excluded);
  const notEligible = input.treated.filter((c) => !eligible.has(c) || excluded.has(c));
  if (notEligible.length) {
    throw new AppException('DESIGN_INFEASIBLE', `Treated territories that are not eligible (or are excluded): ${notEligible.join(', ')}`, {
      not_eligible: notEligible,
      what_to_change: 'name treated territories among the eligible ones (eligibility) and do not exclude them',
    });
  }
  const treatedMissing = Object.fromEntries(input.treated.filter((c) => input.missingWeeks.get(c)?.length).map((c) => [c, input.missingWeeks.get(c)!]));
  if (Object.keys(treatedMissing).length) {
    throw new FewTreatedInputError('TREATED_MISSING_WEEKS', `treated territories without data in some pre-period weeks: ${Object.keys(treatedMissing).join(', ')}`, {
      missing: treatedMissing,
    });
  }
  const treated = new Set(input.treated);
  const donors: string[] = [];
  const leftOut: DonorLeftOut[] = [];
  for (const code of [...eligible].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (treated.has(code)) continue;
    const pilots = input.reserved.get(code);
    const missing = input.missingWeeks.get(code);
    if (excluded.has(code)) leftOut.push({ code, reason: 'excluded', detail: 'excluded by the pilot (design.constraints.exclude)' });
    else if (pilots?.length) {
      leftOut.push({ code, reason: 'reserved', detail: `in running pilot(s) ${pilots.map((p) => `'${p.name}'`).join(', ')}: its KPI may be moved by that pilot`, pilots });
    } else if (missing?.length) {
      leftOut.push({
        code,
        reason: 'incomplete_pre_period',
        detail: `${missing.length} of ${input.preWeeks} pre-period weeks (${missing[0]} to ${missing[missing.length - 1]}) lie before its first recorded opportunity`,
        missing_weeks: missing,
      });
    } else donors.push(code);
  }
  if (donors.length === 0) {
    throw new FewTreatedInputError('EMPTY_DONOR_POOL', 'no eligible territory is left as a donor', {
      left_out: leftOut.map((l) => ({ code: l.code, reason: l.reason })),
    });
  }
  try {
    assertKFitsPool(input.k ?? input.treated.length, input.treated.length + donors.length);
  } catch (err) {
    if (err instanceof FewTreatedInputError) {
      throw new FewTreatedInputError(err.code, `${err.message} (treated + donors)`, { ...err.details, donors: donors.length, left_out: leftOut.length });
    }
    throw err;
  }
  return { treated: [...input.treated], donors, left_out: leftOut, pre_weeks: input.preWeeks, min_pre_weeks: CHOSEN_MIN_PRE_WEEKS };
}

/**
 * The pre-period weeks without data coverage of one territory: every week (labelled as weekStarts
 * labels it) that ends before the ISO week of the territory's first recorded opportunity; all weeks
 * for a territory without any opportunity.
 * @param weeks the pre-period week labels (weekStarts), ascending
 * @param firstEngage the territory's earliest engage date ('YYYY-MM-DD'), or null
 */
export function weeksWithoutCoverage(weeks: readonly string[], firstEngage: string | null): string[] {
  if (firstEngage === null) return [...weeks];
  const monday = isoMondayOf(firstEngage);
  return weeks.filter((w) => w < monday);
}

/** The Monday of the ISO week of `date` ('YYYY-MM-DD'). */
export function isoMondayOf(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

/**
 * SHA-256 of what determines a chosen design's assignment: algorithm version, PRNG (unused: no
 * draw), seed, the design (type, arms with counts, treated codes, left-out codes with reasons) and the
 * assigned units (code, stratum, covariates) sorted by code; `extra` adds design inputs of other
 * few-treated designs (selected: k, settings, the backtested panel), `version` their algorithm version.
 */
export function chosenInputsHash(design: StoredDesign, seed: number, units: readonly DesignUnit[], extra: Record<string, unknown> = {}, version = CHOSEN_ALGORITHM_VERSION): string {
  const hashed = {
    ...extra,
    type: design.type,
    stratify_by: null,
    arms: design.arms,
    treated: [...(design.treated ?? [])].sort(),
    donor_left_out: (design.donor_pool?.left_out ?? []).map((l) => ({ code: l.code, reason: l.reason })),
  };
  const sorted = [...units].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return hashAssignmentInputs({ algorithm_version: version, prng: PRNG_ALGORITHM, seed, design: hashed, units: sorted });
}

/**
 * Replays a stored chosen assignment from what was stored: the named treated territories in the
 * treatment arm, every other stored unit in the control arm (the donor pool), and the stored donor
 * list; the inputs hash is recomputed from the stored units and design (`version` and `hash`: the
 * selected design's, which reuses this check for its arms).
 */
export function replayChosen(
  a: Pick<AssignmentEntity, 'design' | 'units' | 'seed' | 'algorithmVersion'>,
  version = CHOSEN_ALGORITHM_VERSION,
  hash: (design: StoredDesign, seed: number, units: readonly DesignUnit[]) => string = chosenInputsHash,
): ReplayResult {
  const d = a.design;
  const treatmentKey = d.arms.find((x) => x.role === 'treatment')!.key;
  const controlKey = d.arms.find((x) => x.role === 'control')!.key;
  const treated = new Set(d.treated ?? []);
  const donors = new Set(d.donor_pool?.donors ?? []);
  const replayed = new Map<string, string>();
  for (const c of treated) replayed.set(c, treatmentKey);
  for (const c of donors) replayed.set(c, controlKey);
  const stored = new Map(a.units.map((u) => [u.territoryCode, u.arm]));
  const codes = [...new Set([...stored.keys(), ...replayed.keys()])].sort();
  const mismatches = codes
    .filter((c) => stored.get(c) !== replayed.get(c))
    .map((c) => ({ territory_code: c, stored_arm: stored.get(c) ?? null, replayed_arm: replayed.get(c) ?? null }));
  const units: DesignUnit[] = a.units.map((u) => ({ territory_id: u.territoryId, code: u.territoryCode, stratum: u.stratum, covariates: u.covariates }));
  return {
    identical: mismatches.length === 0 && a.algorithmVersion === version,
    units_compared: codes.length,
    mismatches,
    left_out_identical: true,
    draws_tried: { stored: null, replayed: 0 },
    replayed_inputs_hash: hash(d, a.seed, units),
  };
}
