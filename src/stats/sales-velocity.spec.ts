import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { computeTerritoryKpis, kpisFromAggregates, Opportunity } from './sales-velocity';

const reference = loadReference<{ window_start: string; window_end: string; opportunities: Opportunity[] }>('sales_velocity');

describe('computeTerritoryKpis against sales_velocity.json (reference implementation + pandas)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = computeTerritoryKpis(c.input.opportunities, { start: c.input.window_start, end: c.input.window_end });
    assertNoNonFinite(r);
    expect(compareToReference(r, c.expected, c.tolerance)).toEqual([]);
  });
});

describe('sales velocity edge rules', () => {
  const window = { start: '2024-01-01', end: '2024-03-31' };

  it('an opportunity without engage date is never in a cohort and counts as excluded', () => {
    const r = computeTerritoryKpis(
      [
        { id: 'A', engage_date: null, close_date: '2024-02-01', status: 'won', amount: 100 },
        { id: 'B', engage_date: '2024-01-10', close_date: '2024-01-20', status: 'won', amount: 50 },
      ],
      window,
    );
    expect(r.n_excluded_outside_window).toBe(1);
    expect(r.n_opportunities).toBe(1);
    expect(r.won_amount_total).toBe(50);
    // 1 opp x win rate 1 x 50 / 10 days
    expect(r.velocity).toBe(5);
  });

  it('rejects impossible dates and closes before engagement', () => {
    expect(() => computeTerritoryKpis([], { start: '2024-02-30', end: '2024-03-31' })).toThrow(RangeError);
    expect(() =>
      computeTerritoryKpis([{ id: 'X', engage_date: '2024-02-10', close_date: '2024-02-01', status: 'lost', amount: 0 }], window),
    ).toThrow(/before it was engaged/);
  });

  it('kpisFromAggregates: velocity 0 when closed deals were all lost, null when the average cycle is 0', () => {
    expect(kpisFromAggregates({ n_opportunities: 3, n_closed: 2, n_won: 0, n_lost: 2, won_amount_total: 0, cycle_days_total: 73 }).velocity).toBe(0);
    expect(kpisFromAggregates({ n_opportunities: 2, n_closed: 2, n_won: 1, n_lost: 1, won_amount_total: 5000, cycle_days_total: 0 }).velocity).toBeNull();
    expect(() => kpisFromAggregates({ n_opportunities: 2, n_closed: 2, n_won: 2, n_lost: 1, won_amount_total: 1, cycle_days_total: 1 })).toThrow(RangeError);
  });
});
