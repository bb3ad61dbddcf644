import { parse } from 'csv-parse/sync';
import { KPI_KEYS } from '../../kpis/kpi-catalogue';
import { KPI_RESULT_COLUMNS, kpiResultCsv, territoryKpiCsv } from './report-csv';
import { sampleReport } from './sample-report.fixture';

describe('territoryKpiCsv', () => {
  it("writes one test-period row per territory with the report's values, unrounded, empty for null", () => {
    const report = sampleReport();
    report.territories[0].kpis.win_rate = null;
    report.territories[1].kpis.revenue_won = 1234.5678901234;
    const rows = parse(territoryKpiCsv(report), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(report.territories.length);
    expect(Object.keys(rows[0])).toEqual(['territory_code', 'region', 'stratum', 'arm', 'period', 'period_start', 'period_end', ...KPI_KEYS, 'open_now']);
    rows.forEach((row, i) => {
      const t = report.territories[i];
      expect(row.territory_code).toBe(t.territory_code);
      expect(row.arm).toBe(t.arm);
      expect(row.period).toBe('test');
      expect(row.period_start).toBe('2024-02-05');
      for (const k of KPI_KEYS) expect(row[k]).toBe(t.kpis[k] === null ? '' : String(t.kpis[k]));
    });
    expect(rows[1].revenue_won).toBe('1234.5678901234');
  });

  it('adds pre-period rows and regions when they are known', () => {
    const report = sampleReport();
    const extras = new Map([['Ada Park', { region: 'North', pre_period: { opportunities: 7, win_rate: 0.25 } }]]);
    const rows = parse(territoryKpiCsv(report, extras), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(report.territories.length + 1);
    expect(rows[0]).toMatchObject({ territory_code: 'Ada Park', region: 'North', period: 'pre', period_start: '2024-01-01', opportunities: '7', win_rate: '0.25', revenue_won: '' });
    expect(rows[1]).toMatchObject({ territory_code: 'Ada Park', period: 'test' });
  });

  it('a name with a comma or quote survives the round trip', () => {
    const report = sampleReport();
    report.territories[0].territory_code = 'Park, "Ada"';
    const rows = parse(territoryKpiCsv(report), { columns: true }) as Record<string, string>[];
    expect(rows[0].territory_code).toBe('Park, "Ada"');
  });
});

describe('kpiResultCsv', () => {
  it("adds a column group per method the report carries, empty where a KPI lacks it", () => {
    const report = sampleReport();
    (report.kpis[0] as any).methods = { cuped: { method: 'Welch t on CUPED', estimate: 1.5, ci_low: -1, ci_high: 4, p_value: 0.3 }, did_panel: null };
    (report.kpis[4] as any).non_inferiority = { margin: 0.1, margin_type: 'relative', p_value: 0.01, adjusted_p: 0.02, non_inferior: true };
    const rows = parse(kpiResultCsv(report), { columns: true }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({ cuped_method: 'Welch t on CUPED', cuped_estimate: '1.5', cuped_ci_low: '-1', cuped_ci_high: '4', cuped_p: '0.3', did_panel_estimate: '' });
    expect(rows[1]).toMatchObject({ cuped_estimate: '', non_inferior: '' });
    expect(rows[4]).toMatchObject({ non_inferiority_margin: '0.1', non_inferiority_adjusted_p: '0.02', non_inferior: 'true' });
  });

  it("writes every KPI's stored numbers", () => {
    const report = sampleReport();
    const rows = parse(kpiResultCsv(report), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]).slice(0, KPI_RESULT_COLUMNS.length)).toEqual([...KPI_RESULT_COLUMNS]);
    expect(rows.map((r) => r.kpi)).toEqual(report.kpis.map((k) => k.kpi));
    rows.forEach((row, i) => {
      const k = report.kpis[i];
      expect(row.control_mean).toBe(String(k.control.mean));
      expect(row.treatment_mean).toBe(String(k.treatment.mean));
      expect(row.difference_ci_low).toBe(String(k.difference.ci_low));
      expect(row.welch_p).toBe(String(k.difference.p_value));
      expect(row.relative_lift).toBe(k.relative_lift.estimate === null ? '' : String(k.relative_lift.estimate));
      expect(row.adjusted_p).toBe(k.adjusted ? String((k.adjusted as any).primary_p) : '');
      expect(row.primary_estimate).toBe(String((k as any).primary.estimate));
      expect(row.primary_p).toBe(String((k as any).primary.p_value));
      expect(row.decision_p).toBe(k.decision_p === null ? '' : String(k.decision_p));
      expect(row.significant).toBe(k.significant === null ? '' : String(k.significant));
    });
  });
});
