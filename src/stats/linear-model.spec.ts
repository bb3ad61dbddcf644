/**
 * cr2Coefficient works in the k-dimensional column space (see its docstring). These tests check it
 * against the direct route it replaced, which builds each cluster's n_g × n_g matrix I − H_gg, takes
 * its symmetric inverse square root by a Jacobi eigen-decomposition (pseudo-inverse over eigenvalues
 * ≤ 1e-10) and forms a_g = A_g X_g M c explicitly. The direct route lives only here, as the oracle.
 * (In exact arithmetic an exactly fitted direction u of a cluster lies in the column space of X, so
 * the value A_g gives it changes neither a_g'e_g nor B; the exact-fit cases check that neither route
 * blows up near 1 − μ = 0.)
 */
import fc from 'fast-check';
import { cr2Coefficient, invertMatrix, Matrix, olsFit, OlsFit, symmetricEigen } from './linear-model';
import { solveLinear } from './linear-solve';

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
const matVec = (a: Matrix, v: readonly number[]) => a.map((row) => dot(row, v));

/** The direct n_g × n_g CR2 route (the implementation before the k-dimensional one). */
function cr2Direct(fit: OlsFit, clusters: readonly string[], j: number): { variance: number; df: number | null; clusters: number } | null {
  const map = new Map<string, number[]>();
  clusters.forEach((g, i) => (map.get(g) ?? map.set(g, []).get(g)!).push(i));
  const groups = [...map.values()];
  const G = groups.length;
  if (G < 2) return null;
  const { k, x, residuals, xtxInv } = fit;
  const mc = xtxInv.map((row) => row[j]);
  const as: number[][] = [];
  const us: number[][] = [];
  let variance = 0;
  for (const rows of groups) {
    const xg = rows.map((i) => x[i]);
    const ng = rows.length;
    const igh: Matrix = xg.map((ri, a) => xg.map((rj, b) => (a === b ? 1 : 0) - dot(ri, matVec(xtxInv, rj))));
    const { values, vectors } = symmetricEigen(igh);
    const inv = values.map((l) => (l > 1e-10 ? 1 / Math.sqrt(l) : 0));
    const ag: Matrix = Array.from({ length: ng }, (_, a) =>
      Array.from({ length: ng }, (_, b) => {
        let s = 0;
        for (let l = 0; l < ng; l++) s += vectors[a][l] * inv[l] * vectors[b][l];
        return s;
      }),
    );
    const a = matVec(ag, xg.map((r) => dot(r, mc)));
    variance += dot(a, rows.map((i) => residuals[i])) ** 2;
    as.push(a);
    us.push(Array.from({ length: k }, (_, col) => xg.reduce((s, r, i) => s + r[col] * a[i], 0)));
  }
  const mu = us.map((u) => matVec(xtxInv, u));
  let trace = 0;
  let traceSq = 0;
  for (let g = 0; g < G; g++) {
    for (let h = 0; h < G; h++) {
      const b = (g === h ? dot(as[g], as[g]) : 0) - dot(us[g], mu[h]);
      if (g === h) trace += b;
      traceSq += b * b;
    }
  }
  return { variance, df: traceSq > 0 ? (trace * trace) / traceSq : null, clusters: G };
}

const close = (actual: number | null, expected: number | null, rel = 1e-8) => {
  if (expected === null) return expect(actual).toBeNull();
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(rel * Math.max(1e-12, Math.abs(expected)));
};

/** A territory × period panel (DiD design [1, treated, post, treated·post]) with unequal cluster sizes. */
const panelArb = fc
  .tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 6 }))
  .chain(([nt, nc]) =>
    fc.record({
      sizes: fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })), { minLength: nt + nc, maxLength: nt + nc }),
      nt: fc.constant(nt),
      y: fc.array(fc.integer({ min: -100_000, max: 1_000_000 }).map((v) => v / 100), { minLength: 120, maxLength: 120 }),
    }),
  );

describe('cr2Coefficient (k-dimensional route) equals the direct n_g × n_g route', () => {
  it('on random DiD panels with unequal clusters, for every coefficient', () => {
    fc.assert(
      fc.property(panelArb, ({ sizes, nt, y }) => {
        const x: number[][] = [];
        const cl: string[] = [];
        sizes.forEach(([pre, post], g) => {
          const tr = g < nt ? 1 : 0;
          for (let i = 0; i < pre + post; i++) {
            const po = i >= pre ? 1 : 0;
            x.push([1, tr, po, tr * po]);
            cl.push(`T${g}`);
          }
        });
        const fit = olsFit(x, y.slice(0, x.length));
        for (let j = 0; j < 4; j++) {
          const fast = cr2Coefficient(fit, cl, j)!;
          const direct = cr2Direct(fit, cl, j)!;
          expect(fast.clusters).toBe(direct.clusters);
          close(fast.variance, direct.variance);
          close(fast.df, direct.df);
        }
      }),
      { numRuns: 80, seed: 20261130 },
    );
  });

  it('with a continuous covariate and a singleton cluster per row (leverage-heavy, n_g < k)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: -5000, max: 5000 })), { minLength: 6, maxLength: 25 }),
        fc.boolean(),
        (rows, singletons) => {
          const x = rows.map(([c, t]) => [1, t, c / 10]);
          const y = rows.map(([, , v]) => v / 7);
          if (new Set(rows.map(([, t]) => t)).size < 2) return;
          let fit: OlsFit;
          try {
            fit = olsFit(x, y);
          } catch {
            return; // collinear draw
          }
          const cl = rows.map((_, i) => (singletons ? `u${i}` : `g${i % 3}`));
          for (let j = 0; j < 3; j++) {
            const fast = cr2Coefficient(fit, cl, j);
            const direct = cr2Direct(fit, cl, j);
            close(fast?.variance ?? null, direct?.variance ?? null, 1e-7);
            close(fast?.df ?? null, direct?.df ?? null, 1e-7);
          }
        },
      ),
      { numRuns: 80, seed: 7 },
    );
  });

  it('a cluster fitted exactly (its own dummy column) gets the pseudo-inverse in both routes', () => {
    // clusters A, B, C; the last column is the indicator of cluster C, so H_CC has an eigenvalue 1
    const cl = ['A', 'A', 'A', 'B', 'B', 'B', 'C', 'C'];
    const x = cl.map((g, i) => [1, i % 2, g === 'C' ? 1 : 0]);
    const y = [3.1, 4.7, 2.2, 5.9, 6.3, 4.4, 10.5, 12.25];
    const fit = olsFit(x, y);
    for (let j = 0; j < 3; j++) {
      const fast = cr2Coefficient(fit, cl, j)!;
      const direct = cr2Direct(fit, cl, j)!;
      close(fast.variance, direct.variance, 1e-7);
      close(fast.df, direct.df, 1e-7);
    }
  });

  it('a row fitted exactly (a dummy for one row) gets the pseudo-inverse in both routes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: -5000, max: 5000 })), { minLength: 9, maxLength: 20 }),
        fc.nat(),
        (rows, pick) => {
          if (new Set(rows.map(([t]) => t)).size < 2) return;
          const one = pick % rows.length;
          const x = rows.map(([t], i) => [1, t, i === one ? 1 : 0, i % 2]);
          const y = rows.map(([, v]) => v / 3);
          let fit: OlsFit;
          try {
            fit = olsFit(x, y);
          } catch {
            return;
          }
          const cl = rows.map((_, i) => `g${i % 3}`);
          // not the dummy's own coefficient (j = 2): its a_g can be exactly 0 in every cluster, and
          // then both routes return a df that is a ratio of rounding noise (0/0)
          for (const j of [0, 1, 3]) {
            const fast = cr2Coefficient(fit, cl, j)!;
            const direct = cr2Direct(fit, cl, j)!;
            close(fast.variance, direct.variance, 1e-7);
            close(fast.df, direct.df, 1e-7);
          }
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });
});

describe('solveLinear', () => {
  it('equals invertMatrix(A)·b, and is singular exactly where invertMatrix is', () => {
    let s = 42;
    const u = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
    let singular = 0;
    for (let trial = 0; trial < 50; trial++) {
      const k = 2 + (trial % 9);
      const z = Array.from({ length: k + 3 }, () => Array.from({ length: k }, () => u() * 10 ** (trial % 4)));
      // every fifth matrix collinear: its last column is the sum of the first two
      if (trial % 5 === 0) z.forEach((r) => (r[k - 1] = r[0] + r[1]));
      const a = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => z.reduce((acc, r) => acc + r[i] * r[j], 0)));
      const b = Array.from({ length: k }, () => u());
      let inv: number[][] | null = null;
      try {
        inv = invertMatrix(a);
      } catch {
        inv = null;
      }
      if (inv === null) {
        expect(() => solveLinear(a, b)).toThrow(RangeError);
        singular++;
        continue;
      }
      const x = solveLinear(a, b);
      inv.forEach((row, i) => {
        const want = row.reduce((acc, v, j) => acc + v * b[j], 0);
        expect(Math.abs(x[i] - want)).toBeLessThanOrEqual(1e-8 * Math.max(1, ...x.map(Math.abs)));
      });
    }
    expect(singular).toBeGreaterThan(0);
  });
});
