import { analyticPlan } from './power-plan';
import { powerDecision, simulatedMde } from './power-decision';

/**
 * Issue 16: the analytic adjusted MDE (~4%) promised 80% power where the methods reached 30–35% at
 * +5%. The analytic figure names the method it applies to and its assumptions; the simulated MDE
 * decides when both exist.
 */
const arms = [
  { key: 'control', role: 'control' as const, count: 6 },
  { key: 'treatment', role: 'treatment' as const, count: 6 },
];
const y = [10, 12, 9, 14, 11, 13, 8, 15, 10, 12, 11, 9];
const x = [9.5, 12.2, 8.1, 13.6, 10.4, 12.9, 8.3, 14.1, 9.7, 11.2, 10.9, 8.8];

describe('the simulated MDE decides when both exist (issue 16)', () => {
  const plan = analyticPlan({ y, x, blocks: null, paired: false, arms, alpha: 0.05, power: 0.8, lifts: [0.05, 0.1, 0.2], target_mde: null });
  // as on the held-back panel: the analytic figure promises 80% at ~4%, the simulation detects +5% a third of the time
  const analytic = { ...plan, comparisons: [{ ...plan.comparisons[0], mde: { ...plan.comparisons[0].mde, relative: 0.04 } }] };
  const simulation = {
    simulations: 200,
    skipped: 0,
    methods: [
      { method: 'welch', false_positive_rate: { rate: 0.05 }, detection: [{ lift: 0.05, rate: 0.2 }, { lift: 0.1, rate: 0.55 }, { lift: 0.2, rate: 0.9 }] },
      { method: 'lin_regression_adjustment', false_positive_rate: { rate: 0.05 }, detection: [{ lift: 0.05, rate: 0.32 }, { lift: 0.1, rate: 0.72 }, { lift: 0.2, rate: 0.96 }] },
    ],
  };

  it('simulatedMde interpolates between the simulated lifts, and never extrapolates', () => {
    const m = simulatedMde(simulation.methods[1].detection, 0.05, 0.8, 0.05);
    // between +10% (72%) and +20% (96%): 0.1 + (0.8 − 0.72)/(0.96 − 0.72)·0.1
    expect(m.kind).toBe('interpolated');
    expect(m.relative!).toBeCloseTo(0.1 + (0.08 / 0.24) * 0.1, 12);
    expect(simulatedMde([{ lift: 0.05, rate: 0.3 }, { lift: 0.1, rate: 0.5 }], 0.05, 0.8, 0.05)).toMatchObject({ relative: null, kind: 'above_largest_lift', largest_lift: 0.1 });
  });

  it('the decision uses the simulated MDE of the method the analytic figure applies to, and labels the analytic one an approximation', () => {
    const d = powerDecision({ analytic, simulation, power: 0.8, simulationState: 'completed' });
    expect(d.source).toBe('simulation');
    expect(d.method).toBe('lin_regression_adjustment');
    expect(d.mde_relative!).toBeCloseTo(0.1 + (0.08 / 0.24) * 0.1, 12);
    expect(d.analytic.mde_relative).toBe(0.04);
    expect(d.text).toMatch(/^MDE at 80% power: \+13\.3%, simulated with Lin's regression adjustment on 200 placebo pilots/);
    expect(d.text).toMatch(/The analytic MDE \+4\.0% is an approximation for Lin's regression adjustment \(t-test on the KPI adjusted by OLS/);
    expect(d.text).toMatch(/does not decide\.$/);
  });

  it('no simulated lift reaches the target: the MDE is above the largest lift, the analytic figure still does not decide', () => {
    const weak = { ...simulation, methods: simulation.methods.map((m) => ({ ...m, detection: m.detection.map((p) => ({ ...p, rate: p.rate / 2 })) })) };
    const d = powerDecision({ analytic, simulation: weak, power: 0.8, simulationState: 'completed' });
    expect(d).toMatchObject({ source: 'simulation', mde_relative: null });
    expect(d.text).toMatch(/above \+20\.0%/);
  });

  it('before the simulation completes the analytic figure is shown, as an approximation, and says the simulation will decide', () => {
    const d = powerDecision({ analytic, simulation: null, power: 0.8, simulationState: 'pending' });
    expect(d).toMatchObject({ source: 'analytic', mde_relative: 0.04, simulated: null });
    expect(d.text).toMatch(/approximation for Lin's regression adjustment.*has not finished; its MDE will decide/);
  });
});
