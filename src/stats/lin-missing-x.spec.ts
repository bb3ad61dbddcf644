import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { linRegressionAdjustment } from './covariate-adjustment';
import { aliasedColumns, hcCovariance, olsFit } from './linear-model';

interface LinInput {
  y: number[];
  x: (number | null)[];
  treated: (0 | 1)[];
}
// numpy route (matrix_rank column check, explicit hat-matrix HC2), checked in the script against Lin on
// the territories with a pre-period value only: test/fixtures/reference/scripts/lin_missing_x.py
const reference = loadReference<LinInput>('lin_missing_x');
const byName = (name: string) => reference.cases.find((c) => c.name === name)!;

describe('Lin regression with missing pre-period values (mean-imputed, indicator D and T·D)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s matches the numpy reference', (_name, c) => {
    const r = linRegressionAdjustment(c.input.y, c.input.x, c.input.treated);
    assertNoNonFinite(r);
    expect(r.status).toBe('ok');
    expect(compareToReference(r, c.expected, c.tolerance, { integerFields: ['df', 'k'] })).toEqual([]);
    const extra = c as unknown as { dropped_columns: string[]; exact_rows: number };
    expect(r.dropped_columns.map((d) => d.column)).toEqual(extra.dropped_columns);
    expect(r.exact_fit).toHaveLength(extra.exact_rows);
  });

  it('every missing territory treated: T·D duplicates D, is dropped and said so; same numbers as the fit without that column', () => {
    const c = byName('two_missing_both_treated');
    const r = linRegressionAdjustment(c.input.y, c.input.x, c.input.treated);
    expect(r.status).toBe('ok');
    expect(r.columns).toEqual(['intercept', 'treatment', 'x_centred', 'treatment_x_centred', 'missing_indicator']);
    expect(r.note).toMatch(/treatment × missing-pre-period interaction, because every territory without a pre-period value is in the treatment arm/);
    expect(r.note).not.toMatch(/_/); // words, not column codes
    // the same model with T·D removed by hand
    const obs = c.input.x.filter((v): v is number => v !== null);
    const mx = obs.reduce((s, v) => s + v, 0) / obs.length;
    const design = c.input.y.map((_, i) => {
      const t = c.input.treated[i];
      const xc = (c.input.x[i] ?? mx) - mx;
      return [1, t, xc, t * xc, c.input.x[i] === null ? 1 : 0];
    });
    const fit = olsFit(design, c.input.y);
    const v = hcCovariance(fit, 'HC2')!;
    expect(r.estimate).toBeCloseTo(fit.coef[1], 9);
    expect(r.se).toBeCloseTo(Math.sqrt(v[1][1]), 9);
    expect(r.df).toBe(20 - 5);
  });

  it('one missing territory per arm: finite HC2 SE, equal to Lin on the territories with a pre-period value', () => {
    const c = byName('one_missing_per_arm');
    const r = linRegressionAdjustment(c.input.y, c.input.x, c.input.treated);
    const dropped = linRegressionAdjustment(c.input.y, c.input.x, c.input.treated, { missingX: 'drop' });
    expect(r.status).toBe('ok');
    expect(r.se).not.toBeNull();
    expect(r.estimate).toBeCloseTo(dropped.estimate!, 9);
    expect(r.se! / dropped.se!).toBeCloseTo(1, 12);
    expect(r.exact_fit).toEqual([0, 3]);
    expect(r.note).toMatch(/2 territories are fitted exactly .*leverage 1.*no weight in the estimate nor in its HC2 standard error/);
  });

  it('a territory fitted exactly that carries weight in the estimate: null SE with the reason, never NaN', () => {
    // two treated territories with different X: the treated arm's line goes through both (leverage 1)
    const r = linRegressionAdjustment([5, 7, 1, 2, 3, 2.5], [1, 2, 1, 2, 3, 4], [1, 1, 0, 0, 0, 0]);
    assertNoNonFinite(r);
    expect(r.status).toBe('insufficient_data');
    expect(r.estimate).not.toBeNull();
    expect(r.se).toBeNull();
    expect(r.reason).toMatch(/fitted exactly \(leverage 1\) yet carry weight in the estimate, so its HC2 standard error is undefined/);
  });

  it('states why an arm is too small', () => {
    const r = linRegressionAdjustment([1, 2, 3], [1, 2, 3], [1, 0, 0]);
    expect(r.reason).toBe('each arm needs at least 2 territories (treatment 1, control 2)');
  });
});

describe('aliasedColumns (rank-revealing Gram–Schmidt, relative tolerance)', () => {
  it('keeps earlier columns, drops a zero column and a combination of earlier ones, whatever their scale', () => {
    const x = [
      [1, 0, 1e6, 0, 2e6 + 3],
      [1, 1, 2e6, 0, 4e6 + 3],
      [1, 0, 3e6, 0, 6e6 + 3],
      [1, 1, 5e6, 0, 1e7 + 3],
    ];
    const { kept, aliased } = aliasedColumns(x);
    expect(kept).toEqual([0, 1, 2]);
    expect(aliased).toEqual([
      { column: 3, combination_of: [] },
      { column: 4, combination_of: [0, 2] },
    ]);
  });
  it('keeps a nearly but not exactly collinear column', () => {
    expect(aliasedColumns([[1, 1], [1, 1.001], [1, 1]]).kept).toEqual([0, 1]);
  });
});
