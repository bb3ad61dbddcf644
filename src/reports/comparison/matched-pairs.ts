import { pairedTTest, wilcoxonSignedRank } from '../../stats/paired';
import { KpiResult, MethodEstimate } from '../report.types';
import { ComparedArms } from './comparison-inputs';

/** The paired analyses of a matched-pairs design (KpiResult.methods.paired_t and wilcoxon_signed_rank). */
export interface MatchedPairsMethods {
  pairedT: MethodEstimate;
  wilcoxon: NonNullable<KpiResult['methods']['wilcoxon_signed_rank']>;
}

/** The complete pairs: exactly one treatment and one control territory, both with a defined value. */
function completePairs(values: readonly (number | null)[], pairOf: readonly string[], arms: ComparedArms): { t: number; c: number }[] {
  const byPair = new Map<string, { t: number | null; c: number | null; nT: number; nC: number }>();
  values.forEach((v, i) => {
    if (!(arms.inT(i) || arms.inC(i))) return;
    const e = byPair.get(pairOf[i]) ?? { t: null, c: null, nT: 0, nC: 0 };
    if (arms.inT(i)) {
      e.t = v;
      e.nT++;
    } else {
      e.c = v;
      e.nC++;
    }
    byPair.set(pairOf[i], e);
  });
  return [...byPair.values()]
    .filter((e) => e.nT === 1 && e.nC === 1 && e.t !== null && e.c !== null)
    .map((e) => ({ t: e.t!, c: e.c! }));
}

/**
 * The paired analyses over the complete pairs (`pairOf`: the pair id per unit, i.e. the stored
 * stratum; `values` one per unit, null = undefined): the paired t-test on the pair differences
 * (n − 1 df, (1 − α) CI in the KPI's unit) and the Wilcoxon signed-rank test (zero differences
 * dropped, midranks; a p without an interval). Never throws: too few pairs give a status.
 * Sources: Student (1908); Wilcoxon (1945).
 */
export function matchedPairsMethods(
  values: readonly (number | null)[],
  pairOf: readonly string[],
  arms: ComparedArms,
  alpha: number,
): MatchedPairsMethods {
  const pairs = completePairs(values, pairOf, arms);
  const t = pairs.map((p) => p.t);
  const c = pairs.map((p) => p.c);
  const pt = pairedTTest(t, c, { alpha });
  const wx = wilcoxonSignedRank(t, c);
  return {
    pairedT: {
      method: 'paired_t (pair differences, n − 1 df)',
      status: pt.status,
      estimate: pt.mean_diff,
      ci_low: pt.ci_low,
      ci_high: pt.ci_high,
      se: pt.se,
      df: pt.df,
      p_value: pt.p_two_sided,
      note: `${pairs.length} complete pairs`,
    },
    wilcoxon: {
      method: 'wilcoxon_signed_rank (zero differences dropped, midranks)',
      status: wx.status,
      estimate: null,
      ci_low: null,
      ci_high: null,
      se: null,
      df: null,
      p_value: wx.p_value,
      note: `W+ = ${wx.w_plus} over ${wx.n_nonzero} non-zero pair differences; a test of location without an interval`,
      p_method: wx.p_method,
    },
  };
}
