/**
 * The reference set of a randomization test (Imbens & Rubin 2015, ch. 5): the design re-drawn from
 * (the stored design restricted to the two compared arms, or the template of the observed
 * assignment), and the passes over its assignments — exact enumeration, or Monte Carlo re-draws
 * with the seeded PRNG — with the acceptance rule applied to every assignment. The passes are
 * generators that yield every `CHUNK` assignments so that `randomizationTestAsync` can give the
 * event loop a turn.
 */
import type { RandomizationDesign } from './design/designs';
import { createPrng } from './design/prng';
import { DesignTemplate, designTemplateFromAssignment, drawFromDesign, enumerateAssignments } from './design/randomization';

/** Assignments (or draws) between two yields of the core generator. */
export const CHUNK = 2048;

/** An acceptance rule over label vectors (rerandomization threshold, treated-share cap). */
export type AcceptanceRule = (labels: Uint8Array) => boolean;

/** The design a randomization test re-draws from, and the observed assignment as labels. */
export interface ReferenceDesign {
  /** the template re-drawn from (other arms' territories held fixed as singleton strata) */
  template: DesignTemplate;
  /** acceptance rule of the stored design, or null */
  accept: AcceptanceRule | null;
  /** whether territories of arms other than the two compared were held fixed */
  conditioned: boolean;
  /** observed label (index into template.arms) per unit */
  observedLabels: Uint8Array;
  /** the strata before the other arms were held fixed (for the strata summary) */
  strataTemplate: DesignTemplate;
}

/**
 * Restricts a design to the two compared arms: within each stratum, territories of other arms are
 * held in their observed arm (each becomes a singleton stratum), so only treatment and control
 * labels are permuted among their own places. Shared by the randomization test and the
 * randomization-t (randomization-t.ts).
 *
 * @param observed observed label (index into template.arms) per unit
 * @param tIdx index of the treatment arm in template.arms
 * @param cIdx index of the control arm in template.arms
 * @returns the restricted template, and whether any territory of another arm was held fixed
 */
export function conditionOnComparedArms(template: DesignTemplate, observed: Uint8Array, tIdx: number, cIdx: number): { template: DesignTemplate; conditioned: boolean } {
  let conditioned = false;
  const strata: DesignTemplate['strata'] = [];
  for (const s of template.strata) {
    const free: number[] = [];
    const counts = new Array<number>(template.arms.length).fill(0);
    for (const u of s.units) {
      const a = observed[u];
      if (a === tIdx || a === cIdx) {
        free.push(u);
        counts[a]++;
      } else {
        conditioned = true;
        const single = new Array<number>(template.arms.length).fill(0);
        single[a] = 1;
        strata.push({ stratum: `${s.stratum}:fixed:${u}`, units: [u], counts: single });
      }
    }
    if (free.length) strata.push({ stratum: s.stratum, units: free, counts });
  }
  return { template: { arms: template.arms, n_units: template.n_units, strata }, conditioned };
}

/**
 * The reference design of a design-aware test: the stored design's template restricted to the two
 * compared arms (`conditionOnComparedArms`) and its acceptance rule.
 *
 * @param design the stored design over the same units, in the same order as `arms`
 * @param arms arm key per unit as assigned
 * @throws RangeError when the unit counts differ, a unit's arm or a compared arm is not in the design
 */
export function referenceDesignFromStored(design: RandomizationDesign, arms: readonly string[], treatmentArm: string, controlArm: string): ReferenceDesign {
  const n = arms.length;
  const observedLabels = new Uint8Array(n);
  if (design.template.n_units !== n) throw new RangeError(`the design has ${design.template.n_units} units but ${n} values were given`);
  for (let i = 0; i < n; i++) {
    const a = design.template.arms.indexOf(arms[i]);
    if (a < 0) throw new RangeError(`unit ${i} has arm '${arms[i]}', which is not in the design`);
    observedLabels[i] = a;
  }
  const tI = design.template.arms.indexOf(treatmentArm);
  const cI = design.template.arms.indexOf(controlArm);
  if (tI < 0 || cI < 0) throw new RangeError(`the design has no arm '${tI < 0 ? treatmentArm : controlArm}'`);
  const restricted = conditionOnComparedArms(design.template, observedLabels, tI, cI);
  return { template: restricted.template, accept: design.accept, conditioned: restricted.conditioned, observedLabels, strataTemplate: design.template };
}

/**
 * The reference design of a test without a stored design (the fallback when a stored design cannot
 * be replayed): complete randomization, or stratified with each stratum's observed arm counts fixed
 * (`designTemplateFromAssignment`); no acceptance rule. As in the design-aware path, territories of
 * arms other than the two compared are held in their arm (`conditionOnComparedArms`), so with more
 * than two arms only the treatment and control territories are permuted among their own places.
 *
 * @param arms arm key per unit as assigned
 * @param strata stratum per unit, or undefined for complete randomization
 */
export function referenceDesignFromAssignment(
  arms: readonly string[],
  strata: readonly string[] | undefined,
  treatmentArm: string,
  controlArm: string,
): ReferenceDesign {
  const n = arms.length;
  const observedLabels = new Uint8Array(n);
  const full = designTemplateFromAssignment(arms, strata);
  for (let i = 0; i < n; i++) observedLabels[i] = full.arms.indexOf(arms[i]);
  const restricted = conditionOnComparedArms(full, observedLabels, full.arms.indexOf(treatmentArm), full.arms.indexOf(controlArm));
  return { template: restricted.template, accept: null, conditioned: restricted.conditioned, observedLabels, strataTemplate: full };
}

/**
 * Exact pass: every assignment of the template, in `enumerateAssignments` order; those the
 * acceptance rule rejects are skipped, the others passed to `record`. Yields every CHUNK assignments.
 *
 * @returns the number of assignments rejected by the acceptance rule
 */
export function* enumerateReferenceSet(template: DesignTemplate, accept: AcceptanceRule | null, record: (labels: Uint8Array) => void): Generator<void, number, undefined> {
  let rejected = 0;
  let k = 0;
  for (const labels of enumerateAssignments(template)) {
    if (++k % CHUNK === 0) yield;
    if (accept && !accept(labels)) {
      rejected++;
      continue;
    }
    record(labels);
  }
  return rejected;
}

/** Budget of a Monte Carlo pass. */
export interface MonteCarloBudget {
  /** draws B wanted in the reference set */
  draws: number;
  /** most draws tried (accepted or not) before giving up */
  maxTries: number;
  /** PRNG seed (`createPrng`) */
  seed: number;
}

/**
 * Accepted draws of a rerandomized design kept for the next test on the same design: under an
 * acceptance rule most tries are rejected (p_a = 0.1: ten Mahalanobis distances per accepted draw),
 * and a report runs several randomization tests (RI on the difference and on Lin's adjustment, the
 * randomization-t) over the same template, rule, seed and budget, which draw the same sequence.
 * Keyed by the rule object (so an entry lives as long as its design) and by the template, seed and
 * budget; at most STORED_PER_RULE entries per rule, each at most STORED_MAX_BYTES of labels.
 */
const storedDraws = new WeakMap<AcceptanceRule, Map<string, { labels: Uint8Array; draws: number; rejected: number }>>();
const STORED_PER_RULE = 4;
const STORED_MAX_BYTES = 4_000_000;

function storedDrawsKey(template: DesignTemplate, budget: MonteCarloBudget): string {
  return `${budget.seed}|${budget.draws}|${budget.maxTries}|${template.n_units}|${template.arms.length}|${template.strata.map((s) => `${s.units.join(',')}:${s.counts.join(',')}`).join(';')}`;
}

/**
 * Monte Carlo pass: assignments re-drawn from the template with the seeded PRNG (`drawFromDesign`)
 * until `draws` are accepted or `maxTries` were tried; accepted ones go to `record` (the label
 * buffer is reused between draws). Yields every CHUNK tries. Under an acceptance rule, the accepted
 * draws are kept (see `storedDraws`) and a second pass with the same template, rule, seed and budget
 * replays them: the same assignments in the same order, the same counts.
 *
 * @returns the accepted draws B and the number rejected by the acceptance rule
 */
export function* sampleReferenceSet(
  template: DesignTemplate,
  accept: AcceptanceRule | null,
  budget: MonteCarloBudget,
  record: (labels: Uint8Array) => void,
): Generator<void, { draws: number; rejected: number }, undefined> {
  const n = template.n_units;
  const buffer = new Uint8Array(n);
  const key = accept ? storedDrawsKey(template, budget) : '';
  const stored = accept ? storedDraws.get(accept)?.get(key) : undefined;
  if (stored) {
    for (let b = 0; b < stored.draws; b++) {
      if ((b + 1) % CHUNK === 0) yield;
      buffer.set(stored.labels.subarray(b * n, (b + 1) * n));
      record(buffer);
    }
    return { draws: stored.draws, rejected: stored.rejected };
  }
  const keep = accept !== null && budget.draws * n <= STORED_MAX_BYTES ? new Uint8Array(budget.draws * n) : null;
  const rng = createPrng(budget.seed);
  let rejected = 0;
  let tries = 0;
  let b = 0;
  while (b < budget.draws && tries < budget.maxTries) {
    tries++;
    if (tries % CHUNK === 0) yield;
    drawFromDesign(template, rng, buffer);
    if (accept && !accept(buffer)) {
      rejected++;
      continue;
    }
    keep?.set(buffer, b * n);
    b++;
    record(buffer);
  }
  if (keep && accept) {
    const byKey = storedDraws.get(accept) ?? new Map();
    if (byKey.size >= STORED_PER_RULE) byKey.delete(byKey.keys().next().value!);
    byKey.set(key, { labels: keep.subarray(0, b * n), draws: b, rejected });
    storedDraws.set(accept, byKey);
  }
  return { draws: b, rejected };
}
