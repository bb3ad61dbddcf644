import { backtestPanel, backtestWindowDates, fewTreatedPowerText } from './few-treated-power';
import { backtestPower } from '../stats/synthetic/backtest-power';

describe('few-treated power: backtest windows and panels', () => {
  const pre = { start: '2024-01-01', end: '2024-01-28' }; // 4 weeks, Monday to Sunday

  it('windows end on the pre-period end and step back a week while the pseudo pre-period starts inside the treated data', () => {
    const { windows, unavailable } = backtestWindowDates(pre, 2, '2023-10-04', 26);
    expect(unavailable).toBeNull();
    expect(windows[0]).toEqual({ pre: { start: '2023-12-18', end: '2024-01-14' }, test: { start: '2024-01-15', end: '2024-01-28' } });
    expect(windows[1].test).toEqual({ start: '2024-01-08', end: '2024-01-21' });
    // data from the week of Monday 2023-10-02: the last window's pseudo pre-period starts on it
    expect(windows[windows.length - 1].pre.start).toBe('2023-10-02');
    expect(windows).toHaveLength(12);
    expect(backtestWindowDates(pre, 2, '2023-10-04', 5).windows).toHaveLength(5);
  });

  it('no window: the reason names the weeks needed and where the data start; a treated territory without deals', () => {
    const r = backtestWindowDates(pre, 26, '2023-10-04', 26);
    expect(r.windows).toEqual([]);
    expect(r.unavailable).toMatch(/history too short: a 26-week test after a 4-week pre-period needs about 30 weeks .* before 2024-01-28; their data start in the week of 2023-10-02/);
    expect(backtestWindowDates(pre, 2, null, 26).unavailable).toMatch(/no recorded opportunity/);
  });

  it('the panel has the pre weeks then the test weeks, 0 for a week without deals, NaN before a territory’s first deal', () => {
    const w = { pre: { start: '2024-01-01', end: '2024-01-14' }, test: { start: '2024-01-15', end: '2024-01-21' } };
    const agg = (n: number, won: number) => ({ n_opportunities: n, won_amount_total: won }) as never;
    const rows = [
      { territory_id: 'a', period: 'pre' as const, week_start: '2024-01-01', aggregates: agg(2, 100) },
      { territory_id: 'a', period: 'test' as const, week_start: '2024-01-15', aggregates: agg(1, 50) },
      { territory_id: 'b', period: 'pre' as const, week_start: '2024-01-08', aggregates: agg(3, 70) },
    ];
    const firsts = new Map([['a', '2023-06-01'], ['b', '2024-01-09']]);
    const { panel, pre_weeks } = backtestPanel(rows, [{ id: 'a', code: 'A' }, { id: 'b', code: 'B' }], 'revenue_won', w, firsts);
    expect(pre_weeks).toBe(2);
    expect(panel.unit).toEqual(['A', 'A', 'A', 'B', 'B', 'B']);
    expect(panel.week).toEqual([0, 1, 2, 0, 1, 2]);
    expect(panel.value).toEqual([100, 0, 50, NaN, 70, 0]);
  });

  it('the text gives each length its MDE or its reason, and the shortest length reaching the target', () => {
    const result = backtestPower({ lengths: [{ weeks: 26, windows: [], unavailable: 'history too short: x' }], treated: ['t'], alpha: 0.05, power: 0.8 });
    const ok = { ...result.lengths[0], weeks: 8, status: 'ok' as const, windows: 20, mde_absolute: 120, mde_relative: 0.12, bias: 3, sd: 42.8 };
    const { text, weeks_needed } = fewTreatedPowerText({ ...result, lengths: [ok, result.lengths[0]] }, 'won amount per territory-week', 0.15);
    expect(weeks_needed).toBe(8);
    expect(text).toMatch(/8 weeks: MDE 12\.0% \(120 won amount per territory-week; 20 backtest windows, bias 3\.00\); 26 weeks: no MDE \(history too short: x; 0 backtest window\(s\) with an estimate/);
    expect(text).toMatch(/The shortest test reaching the target MDE of 15\.0% is 8 weeks\.$/);
    expect(fewTreatedPowerText({ ...result, lengths: [ok] }, 'u', 0.05).weeks_needed).toBeNull();
  });
});
