import { createPrng } from '../src/stats/design/prng';
import { cr1Covariance, olsFit } from '../src/stats/linear-model';
import { wildClusterBootstrap } from '../src/stats/wild-cluster-bootstrap';
import { intArg } from './bench-util';

/**
 * `npm run bench:wcr [-- --clusters G --weeks W --draws B]` (defaults 50, 104, 9,999).
 *
 * Builds a territory × week panel (G territories, W weeks, the first half pre-period, half the
 * territories treated, territory effects and heavy-tailed noise from the project PRNG) and times,
 * in ONE run and process:
 *  - baseline: one OLS fit of the DiD model y ~ 1 + treated + post + treated·post with its CR1
 *    covariance (what every single bootstrap draw would cost if it re-ran OLS);
 *  - WCR p-value: wildClusterBootstrap with B Rademacher draws, no CI;
 *  - WCR p-value + CI by test inversion (the form reports use).
 * Each is the median of 5 runs after one warm-up. Prints the ratios last; the target (issue 14) is
 * WCR with 9,999 draws at G = 50 × 104 weeks under 1 s.
 */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time<T>(f: () => T, reps = 5): { ms: number; value: T } {
  let value = f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    value = f();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: median(ts), value };
}

function main(): void {
  const G = intArg('clusters', 50);
  const W = intArg('weeks', 104);
  const B = intArg('draws', 9_999);
  const rng = createPrng(14);
  const normal = (): number => {
    const u = 1 - rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
  };
  const x: number[][] = [];
  const y: number[] = [];
  const clusters: string[] = [];
  for (let g = 0; g < G; g++) {
    const treated = g % 2;
    const effect = 3 * normal();
    const scale = 1 + (g % 5);
    for (let w = 0; w < W; w++) {
      const post = w >= W / 2 ? 1 : 0;
      const heavy = normal() / Math.sqrt(Math.max(0.05, -Math.log(1 - rng.nextDouble()))); // heavy tails
      x.push([1, treated, post, treated * post]);
      y.push(20 + effect + 0.5 * post + scale * heavy);
      clusters.push(`T${g}`);
    }
  }
  console.log(`bench:wcr  clusters=${G}  weeks=${W}  rows=${y.length.toLocaleString('en')}  draws=${B.toLocaleString('en')}  node=${process.version}`);
  const base = time(() => {
    const fit = olsFit(x, y);
    return cr1Covariance(fit, clusters)![3][3];
  });
  console.log(`baseline: one OLS fit + CR1 covariance: ${base.ms.toFixed(2)} ms`);
  const p = time(() => wildClusterBootstrap({ x, y, clusters, coefficient: 3, draws: B, seed: 1, ci: false }));
  console.log(`WCR p-value (${p.value.weights}, ${p.value.enumeration ? 'enumeration' : 'Monte Carlo'}, ${p.value.draws} draws): ${p.ms.toFixed(1)} ms  p=${p.value.p_value!.toFixed(4)}`);
  const ci = time(() => wildClusterBootstrap({ x, y, clusters, coefficient: 3, draws: B, seed: 1 }));
  console.log(`WCR p-value + 95% CI by test inversion: ${ci.ms.toFixed(1)} ms  CI=[${ci.value.ci_low!.toFixed(4)}, ${ci.value.ci_high!.toFixed(4)}]`);
  console.log(`WCR(p)/one-OLS ratio=${(p.ms / base.ms).toFixed(1)}  WCR(p+CI)/one-OLS ratio=${(ci.ms / base.ms).toFixed(1)}  (re-running OLS per draw would be ~${B}x)`);
  console.log(`target WCR ${B} draws < 1000 ms: ${ci.ms < 1000 ? 'met' : 'NOT met'} (${ci.ms.toFixed(0)} ms with the CI)`);
}

main();
