import { calibrationRecord, CalibrationFlags, flaggedReasonsIn, gridSizeFor, isFlagged } from './calibration-flags';

/** A record with classic and grid flags (the shape the bench writes). */
function record(): CalibrationFlags {
  return {
    generated_by: 'test',
    generated_at: null,
    data: 'test',
    placebo_pilots_per_design: 1000,
    ri_draws: 200,
    targets: { fpr: [0.035, 0.065], coverage: [0.93, 0.97], alpha: 0.05, planted_lift: 0.1 },
    flagged: [{ design: 'rerandomization', method: 'welch', reasons: ['FPR 0.8% outside [3.5%, 6.5%]'] }],
    results: [],
    grid: {
      generated_by: 'test',
      generated_at: null,
      sizes: [30, 10, 50, 20],
      panels: [],
      placebo_pilots_per_cell: 2000,
      methods_run: 'all',
      monte_carlo_draws: 399,
      targets: { fpr: [0.04, 0.06], coverage: [0.935, 0.965], alpha: 0.05, planted_lift: 0.1 },
      seconds: 0,
      workers: 2,
      load_average: [],
      flagged: [
        { design: 'matched_pairs', G: 20, method: 'wild_cluster_bootstrap', reasons: ['CRM panel: FPR 6.9% outside [4.0%, 6.0%]'] },
        { design: 'rerandomization', G: 10, method: 'welch', reasons: ['simulated heavy-tailed panel: coverage 99.0% outside [93.5%, 96.5%]'] },
      ],
      cells: [],
    },
  };
}

describe('gridSizeFor', () => {
  it('takes the largest calibrated size at or below the territory count, the smallest below the grid', () => {
    const sizes = [30, 10, 50, 20];
    expect([4, 9, 10, 19, 20, 29, 30, 35, 49, 50, 400].map((n) => gridSizeFor(n, sizes))).toEqual([10, 10, 10, 10, 20, 20, 30, 30, 30, 50, 50]);
    expect(gridSizeFor(25, [])).toBeNull();
  });
});

describe('flaggedReasonsIn', () => {
  it('flags a method only at the grid size that failed, with the size in the reason', () => {
    const r = record();
    expect(flaggedReasonsIn(r, 'matched_pairs', 'wild_cluster_bootstrap', 20)).toEqual([
      'calibrated at G = 20 territories (the grid size at or below 20): CRM panel: FPR 6.9% outside [4.0%, 6.0%]',
    ]);
    expect(flaggedReasonsIn(r, 'matched_pairs', 'wild_cluster_bootstrap', 29)).toHaveLength(1);
    expect(flaggedReasonsIn(r, 'matched_pairs', 'wild_cluster_bootstrap', 19)).toEqual([]);
    expect(flaggedReasonsIn(r, 'matched_pairs', 'wild_cluster_bootstrap', 30)).toEqual([]);
    expect(flaggedReasonsIn(r, 'complete', 'wild_cluster_bootstrap', 20)).toEqual([]);
    expect(flaggedReasonsIn(r, 'matched_pairs', 'cr3_jackknife', 20)).toEqual([]);
  });

  it('says when a pilot is below the smallest calibrated size', () => {
    expect(flaggedReasonsIn(record(), 'rerandomization', 'welch', 6)[1]).toMatch(/^at 6 territories, below the smallest calibrated size, the G = 10 calibration applies: simulated/);
  });

  it('keeps the classic flags at every size, and without a size or a grid', () => {
    const r = record();
    expect(flaggedReasonsIn(r, 'rerandomization', 'welch', 40)).toEqual(['FPR 0.8% outside [3.5%, 6.5%]']);
    expect(flaggedReasonsIn(r, 'rerandomization', 'welch')).toEqual(['FPR 0.8% outside [3.5%, 6.5%]']);
    expect(flaggedReasonsIn({ ...r, grid: undefined }, 'matched_pairs', 'wild_cluster_bootstrap', 20)).toEqual([]);
  });
});

describe('the committed calibration-results.json', () => {
  const grid = calibrationRecord().grid;

  it('has a grid over G = 10, 20, 30, 50 with the issue-14 targets', () => {
    expect(grid).toBeDefined();
    expect(grid!.sizes).toEqual([10, 20, 30, 50]);
    expect(grid!.targets.fpr).toEqual([0.04, 0.06]);
    expect(grid!.targets.coverage).toEqual([0.935, 0.965]);
  });

  it('flags exactly the (design, G, method) with a failed or not-run cell on some panel', () => {
    const failing = new Set(grid!.cells.filter((c) => c.status !== 'pass').map((c) => `${c.design}|${c.G}|${c.method}`));
    for (const c of grid!.cells) {
      // a cell exactly at its size, and one territory more (same grid size)
      for (const n of [c.G, c.G + 1]) {
        expect([c.design, c.G, c.method, n, isFlagged(c.design, c.method as never, n) && grid!.flagged.some((f) => f.design === c.design && f.G === c.G && f.method === c.method)]).toEqual([
          c.design,
          c.G,
          c.method,
          n,
          failing.has(`${c.design}|${c.G}|${c.method}`),
        ]);
      }
    }
  });
});
