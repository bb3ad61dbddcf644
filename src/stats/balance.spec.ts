import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { balanceRow, standardizedMeanDifference } from './balance';

describe('standardizedMeanDifference (Austin 2009, sample variances)', () => {
  it('matches a hand computation: t [1,2,3], c [2,3,4,5] -> (2 - 3.5)/sqrt((1 + 5/3)/2)', () => {
    // s²_t = 1, s²_c = 5/3 (n - 1); pooled SD = sqrt(4/3); SMD = -1.5/sqrt(4/3) = -1.299038105676658
    expect(standardizedMeanDifference([1, 2, 3], [2, 3, 4, 5])).toBeCloseTo(-1.299038105676658, 13);
  });

  it('is null for a constant covariate or an arm with fewer than 2 values', () => {
    expect(standardizedMeanDifference([2, 2], [2, 2, 2])).toBeNull();
    expect(standardizedMeanDifference([2], [1, 2, 3])).toBeNull();
  });
});

describe('balanceRow', () => {
  it('drops and counts missing values (never treats them as 0) and rates the SMD', () => {
    const row = balanceRow('headcount', [10, null, 12, undefined], [11, 13, null]);
    expect(row.n_missing_treatment).toBe(2);
    expect(row.n_missing_control).toBe(1);
    expect(row.n_missing).toBe(3);
    expect(row.mean_treatment).toBe(11);
    expect(row.mean_control).toBe(12);
    // s²_t = 2, s²_c = 2 -> pooled SD sqrt(2); SMD = -1/sqrt(2)
    expect(row.smd).toBeCloseTo(-Math.SQRT1_2, 14);
    expect(row.rating).toBe('imbalanced');
    assertNoNonFinite(row);
  });

  it('gives null SMD and rating without NaN when every value is missing', () => {
    const row = balanceRow('quota', [null, null], [null]);
    expect(row.smd).toBeNull();
    expect(row.mean_treatment).toBeNull();
    expect(row.rating).toBeNull();
    assertNoNonFinite(row);
  });
});
