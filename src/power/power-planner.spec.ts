import { createPrng } from '../stats/design/prng';
import { planPower, PlannerWindow, realisedPower, windowsFromWeeklyPanel } from './power-planner';

/**
 * Synthetic panel: G territories × W weeks, weekly KPI = size_i · exp(u_it) with size_i log-normal
 * (σ = 0.6) and u_it a stationary AR(1) (ρ = 0.8, marginal SD 0.35), so the pre-period predicts the
 * outcome but not exactly and the history is stationary (the planner's estimate should transfer).
 */
function syntheticPanel(G: number, W: number, seed: number): number[][] {
  const rng = createPrng(seed);
  const normal = () => {
    const u = 1 - rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
  };
  const rho = 0.8;
  const sd = 0.35;
  return Array.from({ length: G }, () => {
    const size = 1000 * Math.exp(0.6 * normal());
    let u = sd * normal();
    return Array.from({ length: W }, () => {
      u = rho * u + sd * Math.sqrt(1 - rho * rho) * normal();
      return size * Math.exp(u);
    });
  });
}

const units = (G: number) => Array.from({ length: G }, (_, i) => ({ code: `T${String(i).padStart(3, '0')}`, stratum: i % 2 ? 'north' : 'south' }));

function finish<T>(g: Generator<number, T, undefined>): T {
  let s = g.next();
  while (!s.done) s = g.next();
  return s.value;
}

describe('planPower: the cheapest plan reaching the target', () => {
  const panel = syntheticPanel(40, 80, 11);
  const windowsByWeeks = new Map<number, PlannerWindow[]>([4, 8].map((L) => [L, windowsFromWeeklyPanel(panel, { weeks: L, preWeeks: 8, fromWeek: 8, toWeek: 80, step: 2 })]));
  const base = { units: units(40), windowsByWeeks, designs: ['complete', 'stratified', 'matched_pairs', 'rerandomization'] as const, power: 0.8, alpha: 0.05, simulations: 80, seed: 5 };

  it('power grows with territories; the recommendation is the fewest territories, then the shortest test, among cells reaching the target', () => {
    const r = finish(planPower({ ...base, designs: [...base.designs], territoryCounts: [10, 40], mde: 0.5 }));
    expect(r.cells).toHaveLength(2 * 2 * 4);
    const at = (n: number) => r.cells.find((c) => c.design === 'complete' && c.weeks === 8 && c.territories === n)!.power.rate!;
    expect(at(40)).toBeGreaterThan(at(10));
    const rec = r.recommendation!;
    expect(rec).not.toBeNull();
    const reaching = r.cells.filter((c) => c.valid && c.power.rate! >= 0.8);
    expect(reaching.every((c) => c.territories > rec.territories || (c.territories === rec.territories && c.weeks >= rec.weeks))).toBe(true);
    expect(rec.mde_at_target_power).not.toBeNull();
    expect(rec.mde_at_target_power!).toBeLessThanOrEqual(0.5);
    expect(r.text).toMatch(new RegExp(`^Cheapest plan for 80% power to detect a 50.0% lift.*${rec.territories} territories .* for ${rec.weeks} weeks`));
  }, 300_000);

  it('says plainly when no plan reaches the target', () => {
    const r = finish(planPower({ ...base, designs: ['complete'], territoryCounts: [6], mde: 0.01, simulations: 60 }));
    expect(r.recommendation).toBeNull();
    expect(r.text).toMatch(/^No plan reaches 80% power to detect a 1.0% lift at α = 0.05: not with up to 6 territories and 8 weeks/);
  });

  it('a covariate design without pre-period data is skipped with the reason, never silently', () => {
    const early = new Map([[4, windowsFromWeeklyPanel(panel, { weeks: 4, preWeeks: 8, fromWeek: 0, toWeek: 8, step: 4 })]]);
    const r = finish(planPower({ ...base, windowsByWeeks: early, designs: ['rerandomization'], territoryCounts: [10], mde: 0.2, simulations: 10 }));
    const cell = r.cells[0];
    expect(cell.valid).toBe(false);
    expect(cell.skipped).toBe(10);
    expect(cell.skip_reasons[0].reason).toMatch(/starts before the data: no pre-period KPI to rerandomize on/);
    expect(cell.invalid_reason).toMatch(/no placebo pilot could be analysed/);
  });
});

describe("the planner's claims hold on held-back history (issue 14)", () => {
  // 60 territories, 1,000 weeks: the planner sees weeks 0–499, the realised power is measured on
  // test windows inside weeks 500–999 that it never saw. Windows do not overlap (step = L), so the
  // ~60 windows per half are nearly independent draws of the history (with overlapping windows of a
  // short panel, a few distinct stretches of history would dominate both rates). Both sides simulate
  // the deciding method of the design (planner-deciding-test.ts: randomization inference re-drawn
  // from the actual design, on the Lin-adjusted KPI unless the calibration flags it for the design,
  // B = 199). Monte Carlo SE: 4,000 placebo pilots cycle through the windows (pilot i uses window
  // i mod K), a stratified sample, so the SE of the realised power given the held-back history is at
  // most √(0.8·0.2/4000) = 0.63 points; the stated MDE is fitted to exactly 80% on 4,000 training
  // pilots, whose own MC error adds about as much, so the SE of realised − 80% from Monte Carlo is
  // ≈ 0.9 points. ±4 points (≈ 4.4 such SEs) leaves room for the difference between the two halves of
  // the history and still fails when the planner is biased (main's planner, which simulated the
  // stratified difference t-test, realised 84.4% for a stated 80% on the stratified design here).
  // Measured on this branch (seeds 7 and 8): complete 80.8%, stratified 78.0%, matched pairs 80.1%,
  // rerandomization 80.0%.
  const G = 60;
  const L = 8;
  const panel = syntheticPanel(G, 1000, 2026);
  const training = windowsFromWeeklyPanel(panel, { weeks: L, preWeeks: L, fromWeek: L, toWeek: 500, step: L });
  const heldBack = windowsFromWeeklyPanel(panel, { weeks: L, preWeeks: L, fromWeek: 500, toWeek: 1000, step: L });
  it.each(['complete', 'stratified', 'matched_pairs', 'rerandomization'] as const)(
    '%s: a stated 80% power gives 80% ± 4% realised power on held-back weeks',
    (design) => {
      const plan = finish(planPower({ units: units(G), windowsByWeeks: new Map([[L, training]]), territoryCounts: [20], designs: [design], mde: 2, power: 0.8, alpha: 0.05, simulations: 4000, seed: 7 }));
      const stated = plan.recommendation!;
      expect(stated).not.toBeNull();
      expect(stated.deciding_test).toMatch(/^randomization inference \(/);
      expect(stated.mde_at_target_power).not.toBeNull();
      const realised = realisedPower({ units: units(G), windows: heldBack, design, territories: 20, mde: stated.mde_at_target_power!, alpha: 0.05, simulations: 4000, seed: 8 });
      expect(realised.n).toBeGreaterThanOrEqual(3900);
      expect(Math.abs(realised.rate! - 0.8)).toBeLessThanOrEqual(0.04);
    },
    300_000,
  );
});
