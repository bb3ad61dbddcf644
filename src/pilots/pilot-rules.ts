import { AppException } from '../common/errors/app.exception';
import { daysBetween } from '../common/utils/dates';
import { KPI_KEYS } from '../kpis/kpi-catalogue';
import { isFewTreatedDesign, PilotEntity } from './pilot.entity';

/**
 * Cross-field rules of a pilot definition that class-validator cannot express; each violation is
 * reported by path. @throws VALIDATION_FAILED listing every violation.
 */
export function assertPilotDefinition(p: PilotEntity): void {
  const details: { path: string; errors: string[] }[] = [];
  const e = p.eligibility ?? {};
  const hasRegions = Array.isArray(e.regions) && e.regions.length > 0;
  const hasCodes = Array.isArray(e.territory_codes) && e.territory_codes.length > 0;
  if (hasRegions === hasCodes) {
    details.push({ path: 'eligibility', errors: ['give exactly one of regions or territory_codes'] });
  }
  const roles = p.arms.map((a) => a.role);
  const nTreatments = roles.filter((r) => r === 'treatment').length;
  if (roles.filter((r) => r === 'control').length !== 1 || nTreatments < 1 || nTreatments > 4) {
    details.push({ path: 'arms', errors: ['need exactly one control arm and 1 to 4 treatment arms'] });
  }
  if (new Set(p.arms.map((a) => a.key)).size !== p.arms.length) {
    details.push({ path: 'arms', errors: ['arm keys must differ'] });
  }
  const withCount = p.arms.filter((a) => a.count !== undefined).length;
  const withRatio = p.arms.filter((a) => a.ratio !== undefined).length;
  // chosen: the arm sizes follow from the named treated territories, so allocation fields are optional
  const allocationFree = isFewTreatedDesign(p.designType) && withCount === 0 && withRatio === 0;
  if (!allocationFree && !((withCount === p.arms.length && withRatio === 0) || (withRatio === p.arms.length && withCount === 0))) {
    details.push({ path: 'arms', errors: ['give count on every arm or ratio on every arm (not both, not neither)'] });
  }
  if (p.prePeriodStart > p.prePeriodEnd) details.push({ path: 'pre_period', errors: ['start must not be after end'] });
  if (p.testPeriodStart > p.testPeriodEnd) details.push({ path: 'test_period', errors: ['start must not be after end'] });
  if (p.prePeriodEnd >= p.testPeriodStart) {
    details.push({ path: 'pre_period', errors: ['must end before the test period starts (windows may not overlap)'] });
  }
  if (p.secondaryKpis.includes(p.primaryKpi)) {
    details.push({ path: 'secondary_kpis', errors: [`must not repeat the primary KPI '${p.primaryKpi}'`] });
  }
  const overlap = p.guardrailKpis.filter((k) => k === p.primaryKpi || p.secondaryKpis.includes(k));
  if (overlap.length) details.push({ path: 'guardrail_kpis', errors: [`already listed as primary or secondary: ${overlap.join(', ')}`] });
  for (const m of p.guardrailMargins ?? []) {
    if (!p.guardrailKpis.includes(m.kpi)) details.push({ path: 'guardrail_margins', errors: [`'${m.kpi}' is not a guardrail KPI`] });
    if (m.type === 'relative' && m.margin >= 1) details.push({ path: 'guardrail_margins', errors: [`a relative margin must be below 1 (got ${m.margin} for '${m.kpi}')`] });
  }
  if (new Set((p.guardrailMargins ?? []).map((m) => m.kpi)).size !== (p.guardrailMargins ?? []).length) {
    details.push({ path: 'guardrail_margins', errors: ['one margin per guardrail KPI'] });
  }
  if (p.designType !== 'stratified' && p.stratifyBy) {
    details.push({ path: 'design.stratify_by', errors: ['only a stratified design has a stratum variable'] });
  }
  details.push(...designOptionViolations(p));
  if (daysBetween(p.testPeriodStart, p.testPeriodEnd) > 3660) {
    details.push({ path: 'test_period', errors: ['may span at most ten years'] });
  }
  const looks = p.interimLookDates ?? [];
  const outside = looks.filter((d) => d < p.testPeriodStart || d >= p.testPeriodEnd);
  if (outside.length) {
    details.push({ path: 'interim_looks', errors: [`must fall on or after the test period start and before its end (the final look): ${outside.join(', ')}`] });
  }
  if (details.length) throw new AppException('VALIDATION_FAILED', 'The pilot definition is inconsistent', details);
}

/**
 * @throws PILOT_FROZEN unless the pilot is still a draft (definition, design and assignment freeze
 * when it is submitted for review; after approval the plan changes only by amendment).
 */
export function assertDraft(p: PilotEntity, action: string): void {
  if (p.status !== 'draft') {
    throw new AppException('PILOT_FROZEN', `Cannot ${action}: the pilot is ${p.status}; only a draft can change (after approval, amend the plan)`, {
      status: p.status,
      launched_at: p.launchedAt,
    });
  }
}

/** KPI keys a `pre_period_<kpi>` covariate may name. */
const PRE_PERIOD_PREFIX = 'pre_period_';

/**
 * Cross-field rules of the design parameters (src/stats/design/designs.ts): pair_on only and
 * always for matched pairs (equal allocation: ratio on every arm, all equal), rerandomization
 * covariates only and always for rerandomization, `pre_period_<kpi>` names a catalogue KPI, forced
 * arms exist, a territory is not both forced and excluded.
 */
export function designOptionViolations(p: PilotEntity): { path: string; errors: string[] }[] {
  const out: { path: string; errors: string[] }[] = [];
  const o = p.designOptions ?? {};
  const checkName = (path: string, name: string) => {
    if (name.startsWith(PRE_PERIOD_PREFIX) && !(KPI_KEYS as readonly string[]).includes(name.slice(PRE_PERIOD_PREFIX.length))) {
      out.push({ path, errors: [`'${name}' names no KPI; use pre_period_<kpi> with one of ${KPI_KEYS.join(', ')}, or a territory attribute`] });
    }
  };
  if (p.designType === 'matched_pairs') {
    if (!o.pair_on) out.push({ path: 'design.pair_on', errors: ['a matched-pairs design needs pair_on (e.g. pre_period_revenue_won)'] });
    else checkName('design.pair_on', o.pair_on);
    const ratios = p.arms.map((a) => a.ratio);
    if (ratios.some((r) => r === undefined) || new Set(ratios).size !== 1) {
      out.push({ path: 'arms', errors: ['a matched-pairs design puts one territory of each block in every arm: give the same ratio on every arm'] });
    }
  } else if (o.pair_on !== undefined) {
    out.push({ path: 'design.pair_on', errors: ['only a matched_pairs design pairs territories'] });
  }
  if (p.designType === 'rerandomization') {
    if (!o.rerandomization) out.push({ path: 'design.rerandomization', errors: ['a rerandomization design needs covariates'] });
    else o.rerandomization.covariates.forEach((c, i) => checkName(`design.rerandomization.covariates.${i}`, c));
  } else if (o.rerandomization !== undefined) {
    out.push({ path: 'design.rerandomization', errors: ['only a rerandomization design takes rerandomization covariates'] });
  }
  if (p.designType === 'chosen') {
    const treated = o.treated ?? [];
    if (treated.length < 1 || treated.length > 5) {
      out.push({ path: 'design.treated', errors: ['a chosen design names 1 to 5 treated territories (design.treated)'] });
    }
    if (p.arms.length !== 2) out.push({ path: 'arms', errors: ['a chosen design has exactly one control arm (the donor pool) and one treatment arm'] });
    const c0 = o.constraints ?? {};
    if (c0.force?.length || c0.max_treated_share) {
      out.push({ path: 'design.constraints', errors: ['a chosen design names its treated territories in design.treated; only constraints.exclude applies'] });
    }
    const both = treated.filter((code) => (c0.exclude ?? []).includes(code));
    if (both.length) out.push({ path: 'design.treated', errors: [`both treated and excluded: ${both.join(', ')}`] });
    if (o.max_draws !== undefined) out.push({ path: 'design.max_draws', errors: ['a chosen design draws nothing'] });
  } else if (p.designType === 'selected') {
    out.push(...selectedDesignViolations(p));
  } else if (o.treated !== undefined) {
    out.push({ path: 'design.treated', errors: ["only a chosen design names its treated territories; use design.constraints.force for randomized designs"] });
  }
  if (p.designType !== 'selected' && (o.k !== undefined || o.selection !== undefined)) {
    out.push({ path: o.k !== undefined ? 'design.k' : 'design.selection', errors: ['only a selected design asks PilotLab to pick k treated territories'] });
  }
  const c = o.constraints ?? {};
  const armKeys = new Set(p.arms.map((a) => a.key));
  (c.force ?? []).forEach((f, i) => {
    if (!armKeys.has(f.arm)) out.push({ path: `design.constraints.force.${i}.arm`, errors: [`'${f.arm}' is not one of the pilot's arms`] });
  });
  const forced = (c.force ?? []).map((f) => f.territory_code);
  if (new Set(forced).size !== forced.length) out.push({ path: 'design.constraints.force', errors: ['a territory is forced more than once'] });
  const both = forced.filter((code) => (c.exclude ?? []).includes(code));
  if (both.length) out.push({ path: 'design.constraints', errors: [`both forced and excluded: ${both.join(', ')}`] });
  if (c.max_treated_share) checkName('design.constraints.max_treated_share.covariate', c.max_treated_share.covariate);
  return out;
}

/** Weekly-panel KPIs a selected design can backtest on (additive per territory-week, as the few-treated report analyses). */
export const SELECTION_KPIS = ['revenue_won', 'opportunities'] as const;

/**
 * Rules of a `selected` design: k (1–5) treated territories picked by PilotLab, two arms, an
 * additive primary KPI (the backtests run on its weekly panel), no named treated list; forced
 * territories go to the treatment arm (always treated) or the control arm (never treated, still
 * donors); `max_treated_share` caps the picked set; no acceptance loop (max_draws).
 */
function selectedDesignViolations(p: PilotEntity): { path: string; errors: string[] }[] {
  const out: { path: string; errors: string[] }[] = [];
  const o = p.designOptions ?? {};
  if (o.k === undefined) out.push({ path: 'design.k', errors: ['a selected design says how many treated territories PilotLab picks (design.k, 1 to 5)'] });
  if (o.treated !== undefined) out.push({ path: 'design.treated', errors: ['a selected design does not name its treated territories: PilotLab picks k of them (use design.constraints.force to insist on some)'] });
  if (p.arms.length !== 2) out.push({ path: 'arms', errors: ['a selected design has exactly one control arm (the donor pool) and one treatment arm'] });
  if (o.max_draws !== undefined) out.push({ path: 'design.max_draws', errors: ['a selected design draws nothing: it scores candidate sets (design.selection)'] });
  if (!(SELECTION_KPIS as readonly string[]).includes(p.primaryKpi)) {
    out.push({ path: 'primary_kpi', errors: [`a selected design backtests candidates on the weekly panel of an additive KPI: ${SELECTION_KPIS.join(' or ')}`] });
  }
  const treatmentArm = p.arms.find((a) => a.role === 'treatment')?.key;
  const forcedTreated = (o.constraints?.force ?? []).filter((f) => f.arm === treatmentArm).length;
  if (o.k !== undefined && forcedTreated > o.k) out.push({ path: 'design.constraints.force', errors: [`${forcedTreated} territories forced into the treatment arm exceed k = ${o.k}`] });
  return out;
}
