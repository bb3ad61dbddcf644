import { AppException } from '../common/errors/app.exception';
import { daysBetween } from '../common/utils/dates';
import { PilotEntity } from './pilot.entity';

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
  if (roles.filter((r) => r === 'control').length !== 1 || roles.filter((r) => r === 'treatment').length !== 1) {
    details.push({ path: 'arms', errors: ['need exactly one control arm and one treatment arm'] });
  }
  if (new Set(p.arms.map((a) => a.key)).size !== p.arms.length) {
    details.push({ path: 'arms', errors: ['arm keys must differ'] });
  }
  const withCount = p.arms.filter((a) => a.count !== undefined).length;
  const withRatio = p.arms.filter((a) => a.ratio !== undefined).length;
  if (!((withCount === p.arms.length && withRatio === 0) || (withRatio === p.arms.length && withCount === 0))) {
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
  if (p.designType === 'complete' && p.stratifyBy) {
    details.push({ path: 'design.stratify_by', errors: ['only a stratified design has a stratum variable'] });
  }
  if (daysBetween(p.testPeriodStart, p.testPeriodEnd) > 3660) {
    details.push({ path: 'test_period', errors: ['may span at most ten years'] });
  }
  if (details.length) throw new AppException('VALIDATION_FAILED', 'The pilot definition is inconsistent', details);
}

/** @throws PILOT_FROZEN unless the pilot is still a draft (design and assignment freeze at launch). */
export function assertDraft(p: PilotEntity, action: string): void {
  if (p.status !== 'draft') {
    throw new AppException('PILOT_FROZEN', `Cannot ${action}: the pilot is ${p.status}; design and assignment froze at launch`, {
      status: p.status,
      launched_at: p.launchedAt,
    });
  }
}
