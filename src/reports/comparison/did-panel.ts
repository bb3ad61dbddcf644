import { differenceInDifferences, DidPanelInput } from '../../stats/difference-in-differences';
import { KpiResult } from '../report.types';
import { ComparedArms, KpiExtras } from './comparison-inputs';

/** The long territory × week panel of the compared arms, with the longest pre-period and test calendars. */
interface WeeklyPanel {
  panel: DidPanelInput;
  weeksPre: number;
  weeksTest: number;
}

/**
 * The territory × week panel of the two compared arms: one row per territory-week, period
 * `post:week`, y the weekly value; units without a calendar (null) or of other arms are left out.
 */
function weeklyPanel(weekly: NonNullable<KpiExtras['weekly']>, arms: ComparedArms): WeeklyPanel {
  const territory: string[] = [];
  const period: string[] = [];
  const treated: (0 | 1)[] = [];
  const post: (0 | 1)[] = [];
  const y: number[] = [];
  let weeksPre = 0;
  let weeksTest = 0;
  weekly.forEach((w, i) => {
    if (!w || !(arms.inT(i) || arms.inC(i))) return;
    weeksPre = Math.max(weeksPre, w.pre.length);
    weeksTest = Math.max(weeksTest, w.test.length);
    const push = (vals: readonly number[], p: 0 | 1) =>
      vals.forEach((v, k) => {
        territory.push(`u${i}`);
        period.push(`${p}:${k}`);
        treated.push(arms.inT(i) ? 1 : 0);
        post.push(p);
        y.push(v);
      });
    push(w.pre, 0);
    push(w.test, 1);
  });
  return { panel: { territory, period, treated, post, y }, weeksPre, weeksTest };
}

/**
 * Difference-in-differences on the weekly panel (`weekly`: complete calendars per unit, zeros for empty
 * weeks, of an additive KPI): y = b0 + b1·treated + b2·post + b3·treated·post by OLS over the
 * territory-weeks, effect b3 with CR2 errors clustered by territory and Bell–McCaffrey df, per
 * territory-week in `weeklyUnit` (default 'per territory-week'). Insufficient data (no block
 * numbers) without at least one pre-period and one test week. Sources: Bell & McCaffrey (2002).
 */
export function didPanelEstimate(
  weekly: NonNullable<KpiExtras['weekly']>,
  arms: ComparedArms,
  weeklyUnit: string | undefined,
  alpha: number,
): NonNullable<KpiResult['methods']['did_panel']> {
  const { panel, weeksPre, weeksTest } = weeklyPanel(weekly, arms);
  const unit = weeklyUnit ?? 'per territory-week';
  const d = weeksPre > 0 && weeksTest > 0 ? differenceInDifferences(panel, { alpha }) : null;
  return {
    method: 'did_ols_cr2_bell_mccaffrey (territory × ISO-week panel, empty weeks = 0)',
    status: d ? d.status : 'insufficient_data',
    estimate: d ? d.ols.coef_did ?? d.did_2x2 : null,
    ci_low: d?.cr2.ci_low ?? null,
    ci_high: d?.cr2.ci_high ?? null,
    se: d?.cr2.se ?? null,
    df: d?.cr2.df ?? null,
    p_value: d?.cr2.p_value ?? null,
    note: d ? `${d.n_clusters} territories, ${d.n_obs} territory-weeks` : 'the panel needs at least one pre-period and one test week',
    unit,
    weeks_pre: weeksPre,
    weeks_test: weeksTest,
  };
}
