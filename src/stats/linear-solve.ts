/**
 * One linear solve for the small dense systems of the few-cluster methods (CR3's leave-one-cluster-out
 * step, cluster-small-sample.ts), beside `invertMatrix` in linear-model.ts.
 */
import type { Matrix } from './linear-model';

/**
 * Solves A x = b for one right-hand side by Gaussian elimination with partial pivoting (k³/3
 * multiplications against the inverse's k³). The pivots are those of `invertMatrix` (Gauss–Jordan
 * eliminates the rows below a pivot the same way), and so is the singularity rule: a pivot at most
 * 1e-12 × max|a_ij| throws. Golub & Van Loan (2013) §3.4.
 * @param a k × k matrix (not modified); b k values
 * @throws RangeError on a singular matrix (collinear columns)
 */
export function solveLinear(a: Matrix, b: readonly number[]): number[] {
  const n = a.length;
  const m = a.map((row, i) => {
    const r = new Float64Array(n + 1);
    for (let j = 0; j < n; j++) r[j] = row[j];
    r[n] = b[i];
    return r;
  });
  let scale = 1e-300;
  for (const row of a) for (const v of row) if (Math.abs(v) > scale) scale = Math.abs(v);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
    if (Math.abs(m[piv][col]) <= 1e-12 * scale) throw new RangeError('the design matrix is singular (collinear columns)');
    [m[col], m[piv]] = [m[piv], m[col]];
    const pr = m[col];
    const p = pr[col];
    for (let r = col + 1; r < n; r++) {
      const row = m[r];
      const f = row[col] / p;
      if (f === 0) continue;
      for (let j = col; j <= n; j++) row[j] -= f * pr[j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let acc = m[i][n];
    for (let j = i + 1; j < n; j++) acc -= m[i][j] * x[j];
    x[i] = acc / m[i][i];
  }
  return x;
}
