/**
 * The figure a power analysis decides on: the simulated MDE when the placebo simulation has run,
 * else the analytic MDE, labelled as an approximation for the method it applies to. Pure, no I/O;
 * reads the stored analytic and simulation parts (jsonb) defensively.
 *
 * Simulated MDE (issue 16): on the detection curve of the method the analytic figure applies to
 * (points (0, false-positive rate) and (ℓ, detection rate at lift ℓ) for the positive lifts
 * simulated), the smallest lift where the detection rate reaches the target power, interpolated
 * linearly between the two simulated points around it; when no simulated lift reaches it, the MDE is
 * only known to be above the largest one (no extrapolation).
 */
import type { AnalyticAppliesTo } from './power-plan';

/** One point of a simulated detection curve: relative lift and share of placebo pilots with p < α. */
export interface DetectionPoint {
  lift: number;
  rate: number | null;
}

/** The simulated MDE of one method at the target power. */
export interface SimulatedMde {
  /** relative lift (0.1 = +10%); null when no simulated lift reaches the target power */
  relative: number | null;
  /** 'interpolated' between two simulated lifts, or 'above_largest_lift' (relative null) */
  kind: 'interpolated' | 'above_largest_lift';
  /** the largest positive lift simulated */
  largest_lift: number | null;
  rule: string;
}

/** The figure that decides, with its source and a sentence for the planner. */
export interface PowerDecision {
  source: 'simulation' | 'analytic';
  /** the method the deciding figure is for (the simulated method matching the analytic one) */
  method: string;
  power: number;
  /** the deciding MDE, relative (null when the simulation did not reach the target power) */
  mde_relative: number | null;
  simulated: SimulatedMde | null;
  /** the analytic MDE, which never decides when a simulated one exists */
  analytic: { mde_relative: number | null; approximation_for: string };
  text: string;
}

/**
 * The simulated MDE at `power` from a method's detection curve (see the module comment).
 * @param falsePositiveRate the rate at lift 0 (null: α is used as the curve's start)
 */
export function simulatedMde(detection: readonly DetectionPoint[], falsePositiveRate: number | null, power: number, alpha: number): SimulatedMde {
  const rule = 'smallest lift whose simulated detection rate reaches the target power, linear between the simulated lifts (and lift 0 at the false-positive rate)';
  const points = detection.filter((d) => d.lift > 0 && d.rate !== null).sort((a, b) => a.lift - b.lift) as { lift: number; rate: number }[];
  const largest = points.length ? points[points.length - 1].lift : null;
  let prev = { lift: 0, rate: falsePositiveRate ?? alpha };
  for (const p of points) {
    if (p.rate >= power) {
      const t = p.rate > prev.rate ? (power - prev.rate) / (p.rate - prev.rate) : 1;
      return { relative: prev.lift + Math.min(Math.max(t, 0), 1) * (p.lift - prev.lift), kind: 'interpolated', largest_lift: largest, rule };
    }
    prev = p;
  }
  return { relative: null, kind: 'above_largest_lift', largest_lift: largest, rule };
}

/** A relative lift as a signed percentage with one decimal. */
function pct(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
}

/** What the stored parts of a power analysis must carry (read defensively: older rows lack `applies_to`). */
export interface StoredPowerParts {
  analytic: { applies_to?: AnalyticAppliesTo; alpha?: number; comparisons?: { mde?: { relative?: number | null } }[] } | null;
  simulation: {
    simulations?: number;
    skipped?: number;
    methods?: { method: string; false_positive_rate?: { rate: number | null }; detection?: DetectionPoint[] }[];
  } | null;
  power: number;
  /** 'none': simulations 0; 'pending': queued or running (it will decide when it completes); 'failed'; 'completed' */
  simulationState: 'none' | 'pending' | 'failed' | 'completed';
}

/**
 * The decision figure of a power analysis: the simulated MDE of the method the analytic figure
 * applies to when the simulation has run (it decides, even when it is larger), else the analytic MDE
 * labelled as an approximation for that method; `text` says which and why.
 */
export function powerDecision(parts: StoredPowerParts): PowerDecision {
  const applies = parts.analytic?.applies_to;
  const methodKey = applies?.method ?? 'lin_regression_adjustment';
  const methodName = methodKey === 'welch' ? 'Welch' : "Lin's regression adjustment";
  const analyticMde = parts.analytic?.comparisons?.[0]?.mde?.relative ?? null;
  const approximationFor = applies ? `${applies.analysis}; assumes ${applies.assumptions.join('; ')}` : 'the t-based plan (no method recorded)';
  const analyticText = analyticMde !== null ? `The analytic MDE ${pct(analyticMde)} is an approximation for ${methodName} (${approximationFor})` : `The analytic plan has no relative MDE`;
  const power = parts.power;
  const level = `${Math.round(100 * power)}% power`;
  const sim = parts.simulation?.methods?.find((m) => m.method === methodKey);
  const base = { method: methodKey, power, analytic: { mde_relative: analyticMde, approximation_for: approximationFor } };
  if (!sim || !sim.detection) {
    const why =
      parts.simulationState === 'pending'
        ? 'the placebo simulation has not finished; its MDE will decide'
        : parts.simulationState === 'failed'
          ? 'the placebo simulation failed (see error)'
          : 'no placebo simulation was run (simulations: 0); run one for the figure that decides';
    return { ...base, source: 'analytic', mde_relative: analyticMde, simulated: null, text: `${analyticText}, and is used only because ${why}.` };
  }
  const alpha = parts.analytic?.alpha ?? 0.05;
  const m = simulatedMde(sim.detection, sim.false_positive_rate?.rate ?? null, power, alpha);
  const n = (parts.simulation?.simulations ?? 0) - (parts.simulation?.skipped ?? 0);
  const curve = sim.detection.map((d) => `${pct(d.lift)}: ${d.rate === null ? 'n/a' : `${Math.round(100 * d.rate)}%`}`).join(', ');
  const head =
    m.relative !== null
      ? `MDE at ${level}: ${pct(m.relative)}, simulated with ${methodName} on ${n} placebo pilots of the pilot's design (detection ${curve}; interpolated between simulated lifts).`
      : `MDE at ${level}: above ${m.largest_lift !== null ? pct(m.largest_lift) : 'every lift simulated'}; no simulated lift reached the target with ${methodName} on ${n} placebo pilots (detection ${curve}).`;
  return { ...base, source: 'simulation', mde_relative: m.relative, simulated: m, text: `${head} ${analyticText}, and does not decide.` };
}
