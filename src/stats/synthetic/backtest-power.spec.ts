/**
 * Placebo-backtest MDE of a few-treated pilot (backtest-power.ts) on simulated panels with known
 * noise: the DiD backtests' spread matches its closed-form SD, SDID's MDE falls with the test length,
 * scales with the data and ignores a level shift; short histories and missing data give skip reasons.
 */
import { createPrng, Prng } from '../design/prng';
import { backtestPower, BacktestLength, MIN_BACKTEST_WINDOWS } from './backtest-power';

function gauss(rng: Prng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
}

/** iid panel: y_it = μ_i + σ·ε_it, units d00… (donors) and t0… (treated). */
function iidPanel(seed: number, donors: number, treated: number, weeks: number, sigma: number): { codes: string[]; y: number[][] } {
  const rng = createPrng(seed);
  const codes = [...Array.from({ length: donors }, (_, i) => `d${String(i).padStart(2, '0')}`), ...Array.from({ length: treated }, (_, i) => `t${i}`)];
  const y = codes.map(() => {
    const mu = 100 + 20 * gauss(rng);
    return Array.from({ length: weeks }, () => mu + sigma * gauss(rng));
  });
  return { codes, y };
}

/** Backtest windows sliding back by one week from the end of the history: pre weeks, then L test weeks. */
function windowsOf(panel: { codes: string[]; y: number[][] }, pre: number, L: number, max: number, map: (v: number) => number = (v) => v): BacktestLength {
  const h = panel.y[0].length;
  const windows = [];
  for (let k = 0; k < max; k++) {
    const end = h - k;
    const start = end - L - pre;
    if (start < 0) break;
    const unit: string[] = [];
    const week: number[] = [];
    const value: number[] = [];
    panel.codes.forEach((c, i) => {
      for (let t = start; t < end; t++) {
        unit.push(c);
        week.push(t - start);
        value.push(map(panel.y[i][t]));
      }
    });
    windows.push({ test_start: `w${end - L}`, test_end: `w${end - 1}`, pre_weeks: pre, panel: { unit, week, value } });
  }
  return { weeks: L, windows, unavailable: windows.length ? null : `history of ${h} weeks is shorter than ${pre} + ${L}` };
}

const treatedOf = (p: { codes: string[] }) => p.codes.filter((c) => c.startsWith('t'));

describe('placebo-backtest MDE (few-treated power)', () => {
  it('uses z_{1−α/2} + z_power (standard normal table: 1.959964 + 0.841621 at α = 0.05, power 0.8)', () => {
    const p = iidPanel(1, 10, 1, 40, 5);
    const r = backtestPower({ lengths: [windowsOf(p, 8, 4, 20)], treated: treatedOf(p), alpha: 0.05, power: 0.8 });
    expect(r.multiplier).toBeCloseTo(1.959964 + 0.841621, 5);
    const row = r.lengths[0];
    expect(row.mde_absolute).toBeCloseTo(r.multiplier * row.sd!, 10);
    const e = row.estimates.map((x) => x.estimate);
    expect(row.bias).toBeCloseTo(e.reduce((s, v) => s + v, 0) / e.length, 10);
    expect(row.mde_relative).toBeCloseTo(row.mde_absolute! / row.baseline!, 10);
  });

  it('DiD backtests on iid noise: sd matches σ·sqrt((1/L + 1/P)(1/N1 + 1/N0)) within 20%', () => {
    const sigma = 10;
    const p = iidPanel(7, 20, 2, 520, sigma);
    for (const L of [4, 12]) {
      const r = backtestPower({ lengths: [windowsOf(p, 8, L, 480)], treated: treatedOf(p), alpha: 0.05, power: 0.8, estimator: 'did' });
      const theory = sigma * Math.sqrt((1 / L + 1 / 8) * (1 / 2 + 1 / 20));
      expect(r.lengths[0].windows).toBeGreaterThan(400);
      expect(r.lengths[0].sd! / theory).toBeGreaterThan(0.8);
      expect(r.lengths[0].sd! / theory).toBeLessThan(1.2);
      expect(Math.abs(r.lengths[0].bias!)).toBeLessThan(0.25 * theory);
    }
  });

  it('SDID: longer test windows give a smaller MDE on iid noise, and the MDE grows with the noise', () => {
    const quiet = iidPanel(3, 20, 1, 200, 5);
    const noisy = iidPanel(3, 20, 1, 200, 15);
    const mde = (p: typeof quiet, L: number) =>
      backtestPower({ lengths: [windowsOf(p, 12, L, 120)], treated: treatedOf(p), alpha: 0.05, power: 0.8 }).lengths[0].mde_absolute!;
    expect(mde(quiet, 16)).toBeLessThan(mde(quiet, 4) / 1.15);
    expect(mde(noisy, 8)).toBeGreaterThan(2 * mde(quiet, 8));
  });

  it('SDID: scaling the KPI scales the absolute MDE and leaves the relative one; a level shift leaves the absolute MDE', () => {
    const p = iidPanel(11, 15, 2, 80, 8);
    const run = (map: (v: number) => number) =>
      backtestPower({ lengths: [windowsOf(p, 10, 6, 26, map)], treated: treatedOf(p), alpha: 0.1, power: 0.9 }).lengths[0];
    const base = run((v) => v);
    const scaled = run((v) => 3 * v);
    const shifted = run((v) => v + 500);
    expect(scaled.mde_absolute! / base.mde_absolute!).toBeCloseTo(3, 4);
    expect(scaled.mde_relative!).toBeCloseTo(base.mde_relative!, 4);
    expect(shifted.mde_absolute! / base.mde_absolute!).toBeCloseTo(1, 4);
    expect(shifted.mde_relative!).toBeLessThan(base.mde_relative!);
  });

  it('too short a history, too few windows and a treated territory without data give skip reasons, not an MDE', () => {
    const p = iidPanel(5, 10, 1, 30, 5);
    const short = windowsOf(p, 8, 26, 26);
    const few = windowsOf(p, 8, 20, 26); // 30 − 28 + 1 = 3 windows
    // the treated territory has no data in the first 10 weeks: windows reaching there are skipped
    const gappy = { codes: p.codes, y: p.y.map((row, i) => (p.codes[i].startsWith('t') ? row.map((v, t) => (t < 10 ? NaN : v)) : row)) };
    const partial = windowsOf(gappy, 8, 4, 26);
    const r = backtestPower({ lengths: [short, few, partial], treated: treatedOf(p), alpha: 0.05, power: 0.8 });
    expect(r.lengths[0]).toMatchObject({ weeks: 26, status: 'skipped', windows: 0, mde_absolute: null });
    expect(r.lengths[0].skip_reasons.map((s) => s.reason).join(' ')).toMatch(/shorter than 8 \+ 26/);
    expect(r.lengths[1]).toMatchObject({ weeks: 20, status: 'skipped', windows: 3, mde_absolute: null });
    expect(r.lengths[1].skip_reasons.map((s) => s.reason).join(' ')).toMatch(new RegExp(`at least ${MIN_BACKTEST_WINDOWS}`));
    expect(r.lengths[2].status).toBe('ok');
    expect(r.lengths[2].windows).toBe(30 - 12 - 10 + 1);
    expect(r.lengths[2].skip_reasons).toEqual([{ reason: 'a treated territory has no data in some weeks of the window', count: r.lengths[2].windows_offered - r.lengths[2].windows }]);
  });

  it('a donor without data in a window is dropped from that window only', () => {
    const p = iidPanel(9, 10, 1, 40, 5);
    const gappy = { codes: p.codes, y: p.y.map((row, i) => (i === 0 ? row.map((v, t) => (t < 20 ? NaN : v)) : row)) };
    const row = backtestPower({ lengths: [windowsOf(gappy, 8, 4, 26)], treated: treatedOf(p), alpha: 0.05, power: 0.8 }).lengths[0];
    expect(row.donors).toEqual([9, 10]);
    expect(row.windows).toBe(row.windows_offered);
  });
});
