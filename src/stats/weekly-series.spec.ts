import { periodWeeks, weeklyArmSeries, type WeeklyMeasure } from './weekly-series';

// The two measures as the KPI catalogue defines them (kpis/kpi-catalogue.ts); stats/ does not import it.
const salesVelocity: WeeklyMeasure = { key: 'sales_velocity', label: 'Sales velocity', unit: 'currency per day', value: (k) => k.velocity };
const opportunities: WeeklyMeasure = { key: 'opportunities', label: 'Opportunities', unit: 'count', value: (k) => k.n_opportunities };

describe('periodWeeks', () => {
  it('cuts a period into ISO weeks (Monday to Sunday), the first and last cut at the period ends', () => {
    // 2017-07-01 was a Saturday, 2017-07-19 a Wednesday
    expect(periodWeeks({ period: 'test', start: '2017-07-01', end: '2017-07-19' })).toEqual([
      { week_start: '2017-07-01', week_end: '2017-07-02', days: 2 },
      { week_start: '2017-07-03', week_end: '2017-07-09', days: 7 },
      { week_start: '2017-07-10', week_end: '2017-07-16', days: 7 },
      { week_start: '2017-07-17', week_end: '2017-07-19', days: 3 },
    ]);
    // 2024-01-01 was a Monday
    expect(periodWeeks({ period: 'pre', start: '2024-01-01', end: '2024-01-31' })).toEqual([
      { week_start: '2024-01-01', week_end: '2024-01-07', days: 7 },
      { week_start: '2024-01-08', week_end: '2024-01-14', days: 7 },
      { week_start: '2024-01-15', week_end: '2024-01-21', days: 7 },
      { week_start: '2024-01-22', week_end: '2024-01-28', days: 7 },
      { week_start: '2024-01-29', week_end: '2024-01-31', days: 3 },
    ]);
  });
  it('refuses an end before the start and a date that is not YYYY-MM-DD', () => {
    expect(() => periodWeeks({ period: 'test', start: '2024-02-01', end: '2024-01-01' })).toThrow(RangeError);
    expect(() => periodWeeks({ period: 'test', start: '2024-2-1', end: '2024-03-01' })).toThrow(RangeError);
  });
});

describe('weeklyArmSeries', () => {
  const units = [
    { territory_id: 'a', arm: 'control' },
    { territory_id: 'b', arm: 'control' },
    { territory_id: 'c', arm: 'treatment' },
  ];
  const periods = [
    { period: 'pre' as const, start: '2024-01-01', end: '2024-01-10' },
    { period: 'test' as const, start: '2024-01-15', end: '2024-01-21' },
  ];
  const panel = [
    // a: N 4, win rate 1/2, average deal 1000, cycle 20/2 = 10 days -> velocity 4 × 0.5 × 1000 / 10 = 200
    { territory_id: 'a', period: 'pre' as const, week_start: '2024-01-01', aggregates: { n_opportunities: 4, n_closed: 2, n_won: 1, n_lost: 1, won_amount_total: 1000, cycle_days_total: 20 } },
    // b: N 2, win rate 1, average deal 300, cycle 12/2 = 6 days -> velocity 2 × 1 × 300 / 6 = 100
    { territory_id: 'b', period: 'pre' as const, week_start: '2024-01-01', aggregates: { n_opportunities: 2, n_closed: 2, n_won: 2, n_lost: 0, won_amount_total: 600, cycle_days_total: 12 } },
    { territory_id: 'c', period: 'test' as const, week_start: '2024-01-15', aggregates: { n_opportunities: 3, n_closed: 1, n_won: 0, n_lost: 1, won_amount_total: 0, cycle_days_total: 5 } },
  ];

  it('averages a ratio KPI over the territories with a value and counts the others as missing', () => {
    const s = weeklyArmSeries(panel, units, ['control', 'treatment'], salesVelocity, periods);
    expect(s.weeks.map((w) => [w.period, w.week_start, w.days])).toEqual([
      ['pre', '2024-01-01', 7],
      ['pre', '2024-01-08', 3],
      ['test', '2024-01-15', 7],
    ]);
    expect(s.weeks[0].arms).toEqual([
      { arm: 'control', mean: 150, n_territories: 2, n_missing: 0 },
      { arm: 'treatment', mean: null, n_territories: 0, n_missing: 1 },
    ]);
    // a week without any deal: velocity undefined everywhere
    expect(s.weeks[1].arms.map((a) => a.mean)).toEqual([null, null]);
    // closed but nothing won: velocity 0, not missing
    expect(s.weeks[2].arms[1]).toEqual({ arm: 'treatment', mean: 0, n_territories: 1, n_missing: 0 });
    expect(s.label).toBe('Sales velocity');
    expect(s.kpi).toBe('sales_velocity');
  });

  it('averages a count KPI with 0 for territories that had no deal that week', () => {
    const s = weeklyArmSeries(panel, units, ['control', 'treatment'], opportunities, periods);
    expect(s.weeks[0].arms[0]).toEqual({ arm: 'control', mean: 3, n_territories: 2, n_missing: 0 });
    expect(s.weeks[1].arms[0].mean).toBe(0);
    expect(s.weeks[2].arms[1].mean).toBe(3);
  });

  it('refuses a panel week that is not a week of its period', () => {
    const bad = [{ ...panel[0], week_start: '2024-01-02' }];
    expect(() => weeklyArmSeries(bad, units, ['control', 'treatment'], opportunities, periods)).toThrow(/not a week/);
  });
});
