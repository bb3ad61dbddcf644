import { weeklyCalendars, weekStarts } from './weekly-panel';

describe('weekly panel calendar', () => {
  it('labels weeks as the window start, then every ISO Monday up to the end', () => {
    expect(weekStarts({ start: '2024-04-01', end: '2024-04-21' })).toEqual(['2024-04-01', '2024-04-08', '2024-04-15']);
    // a window starting on a Wednesday: its first week is clipped to the start
    expect(weekStarts({ start: '2024-04-03', end: '2024-04-15' })).toEqual(['2024-04-03', '2024-04-08', '2024-04-15']);
  });

  it('completes the calendar with zeros: a week without deals is 0, never missing', () => {
    const cal = weeklyCalendars(
      [
        { territory_id: 't1', period: 'pre', week_start: '2024-03-04', aggregates: { n_opportunities: 2, won_amount_total: 100 } },
        { territory_id: 't1', period: 'test', week_start: '2024-04-15', aggregates: { n_opportunities: 1, won_amount_total: 0 } },
      ],
      ['t1', 't2'],
      { start: '2024-03-01', end: '2024-03-17' },
      { start: '2024-04-01', end: '2024-04-21' },
    );
    expect(cal.get('t1')!.opportunities).toEqual({ pre: [0, 2, 0], test: [0, 0, 1] });
    expect(cal.get('t1')!.revenue_won.pre).toEqual([0, 100, 0]);
    expect(cal.get('t2')!.opportunities).toEqual({ pre: [0, 0, 0], test: [0, 0, 0] });
  });
});
