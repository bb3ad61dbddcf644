/**
 * Minimal type declaration for the parts of jstat 1.9.6 that PilotLab uses (there is no
 * `@types/jstat`). Only `src/stats/distributions.ts` may import jstat: every other module
 * goes through that wrapper, which documents where jstat is accurate enough and where it is not.
 */
declare module 'jstat' {
  export interface JStatStatic {
    gammaln(x: number): number;
    normal: {
      cdf(x: number, mean: number, sd: number): number;
      inv(p: number, mean: number, sd: number): number;
    };
    studentt: {
      cdf(x: number, df: number): number;
      inv(p: number, df: number): number;
    };
  }
  export const jStat: JStatStatic;
}
