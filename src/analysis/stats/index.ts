/**
 * Public API of PilotLab's pure statistics core (no Nest, no TypeORM, no I/O).
 * Design algorithms (PRNG, allocation, assignment, templates) live in ../design.
 */
export {
  chiSquareCdf,
  chiSquareSf,
  fCdf,
  fSf,
  ibeta,
  lnGamma,
  normalCdf,
  normalInv,
  normalSf,
  studentTCdf,
  studentTInv,
  studentTSf,
} from './distributions';
export { mean, sampleSd, sampleVariance } from './descriptive';
export { studentTTest, welchTTest, zTestPValue } from './welch';
export type { Alternative, TTestOptions, TTestResult, TTestStatus } from './welch';
export { relativeLift } from './relative-lift';
export type { RelativeLiftResult, RelativeLiftStatus } from './relative-lift';
export { adjustPValues, rejectAt } from './multiple-testing';
export type { PValueAdjustment } from './multiple-testing';
export { chiSquareGoodnessOfFit } from './srm';
export type { SrmResult } from './srm';
export { computeTerritoryKpis, kpisFromAggregates } from './sales-velocity';
export type { CohortAggregates, CohortKpis, KpiWindow, Opportunity, TerritoryKpis } from './sales-velocity';
export { pairedRandomizationTest, randomizationTest } from './randomization-inference';
export type {
  PairedRandomizationTestInput,
  RandomizationStatistic,
  RandomizationTestInput,
  RandomizationTestResult,
} from './randomization-inference';
export { balanceRow, standardizedMeanDifference } from './balance';
export type { BalanceRow } from './balance';
