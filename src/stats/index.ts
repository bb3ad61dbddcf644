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
// Estimators and analyses of issue 3 (covariate adjustment, DiD, paired/rank tests, guardrails,
// velocity decomposition, censored cycle time, data completeness).
export { invertMatrix, olsFit, hcCovariance, classicCovariance, cr1Covariance, cr2Coefficient } from './linear-model';
export type { Matrix, OlsFit, HcType, Cr2Result } from './linear-model';
export { cuped, ancova, linRegressionAdjustment } from './covariate-adjustment';
export type { CupedResult, AncovaResult, LinAdjustmentResult } from './covariate-adjustment';
export { differenceInDifferences } from './difference-in-differences';
export type { DidPanelInput, DidResult } from './difference-in-differences';
export { pairedTTest, wilcoxonSignedRank } from './paired';
export type { PairedTTestResult, WilcoxonSignedRankResult } from './paired';
export { mannWhitneyU } from './mann-whitney';
export type { MannWhitneyResult } from './mann-whitney';
export { nonInferiorityTest } from './non-inferiority';
export type { NonInferiorityMargin, NonInferiorityResult } from './non-inferiority';
export { velocityDecomposition } from './velocity-decomposition';
export type { VelocityTotals, VelocityDecompositionResult, LogLiftComponent } from './velocity-decomposition';
export { kaplanMeier, logRankTest } from './survival';
export type { SurvivalSample, KaplanMeierResult, LogRankResult } from './survival';
export { completenessCheck, COMPLETENESS_ALPHA } from './completeness';
export type { CompletenessCheck } from './completeness';
// Few-cluster inference, diagnostics and exact completeness (issue 14).
export { cr2WithImbensKolesarDf, cr3Jackknife } from './cluster-small-sample';
export type { Cr2DfResult, Cr3Result } from './cluster-small-sample';
export { wildClusterBootstrap } from './wild-cluster-bootstrap';
export type { WildClusterBootstrapInput, WildClusterBootstrapResult, WildWeights } from './wild-cluster-bootstrap';
export { randomizationTTest } from './randomization-t';
export type { RandomizationTInput, RandomizationTResult, StudentizedStatistic } from './randomization-t';
export { fewClusterDiagnostics, fragility } from './few-cluster-diagnostics';
export type { FewClusterDiagnostics, FragilityResult, MethodVerdict, TerritoryLeverage } from './few-cluster-diagnostics';
export { fewClusterInference, FEW_CLUSTER_METHOD_LABELS } from './few-cluster-inference';
export type { FewClusterInferenceResult, FewClusterMethod, FewClusterRow } from './few-cluster-inference';
export { exactCompletenessCheck, exactSampleRatioTest } from './srm-exact';
export type { ExactCompletenessCheck, ExactSrmResult } from './srm-exact';
export { holmConsistentLevels } from './holm-intervals';
export type { HolmLevel } from './holm-intervals';
export { didPanelDesign, stratifiedDifference } from './design-consistent';
export type { StratifiedDifferenceResult } from './design-consistent';
export { defaultOptions, fitSynth, jackknifeSe, noiseLevel, placeboSe, sumNormalize } from './synthetic/synthdid';
export type { PanelMatrix, SynthEstimator, SynthFit, SynthOptions } from './synthetic/synthdid';
export { analyseFewTreated, assertKFitsPool, buildPanelMatrix, FewTreatedInputError } from './synthetic/few-treated';
export type { FewTreatedEstimate, FewTreatedOptions, FewTreatedPanel, FewTreatedResult } from './synthetic/few-treated';
export { SELECTION_ALGORITHM_VERSION, SELECTION_DEFAULTS, selectTreatedSet, selectTreatedSetAsync } from './synthetic/treated-selection';
export type { SelectionCandidate, TreatedSelectionInput, TreatedSelectionOptions, TreatedSelectionResult } from './synthetic/treated-selection';
