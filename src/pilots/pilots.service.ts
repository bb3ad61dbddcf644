import { EnvironmentVariables } from '../config/env.validation';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { canonicalJson } from '../common/utils/canonical-json';
import type { Actor } from '../common/auth/principal';
import { CreatePilotDto } from './dto/create-pilot.dto';
import { UpdatePilotDto } from './dto/update-pilot.dto';
import { EligibilityService } from './eligibility.service';
import { assertDraft, assertPilotDefinition } from './pilot-rules';
import { DesignOptions, PilotEntity } from './pilot.entity';
import { assertKFitsPool, FewTreatedInputError } from '../stats/synthetic/few-treated';
import { fewTreatedException } from './few-treated-errors';
import { PilotRepository } from './pilot.repository';
import { parseAsOf } from '../opportunities/ingestion/dates';

/**
 * Defines, edits and reads pilots (the author is the creating key; a sales_ops key edits only its
 * own drafts). The assignment lives in assignment/, the lifecycle verbs in governance/.
 */
@Injectable()
export class PilotsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly eligibility: EligibilityService,
    private readonly audit: AuditService,
    private readonly env: EnvironmentVariables,
  ) {}

  /**
   * Creates a draft pilot after checking the definition and that its eligible territories can fill
   * every arm with at least 2. @throws VALIDATION_FAILED, UNKNOWN_TERRITORY, DESIGN_INFEASIBLE
   */
  async create(dto: CreatePilotDto, actor?: Actor) {
    const pilot = applyDto(new PilotEntity(), dto);
    pilot.reportingCurrency = dto.reporting_currency ?? this.env.DEFAULT_CURRENCY;
    pilot.status = 'draft';
    pilot.authorKeyId = actor?.key.id ?? null;
    await this.check(pilot);
    return this.dataSource.transaction(async (em) => {
      const view = toPilotView(await this.pilots.save(pilot, em));
      await this.audit.record(
        { actor: actor?.key ?? null, request_id: actor?.requestId, action: 'pilot.created', entity_type: 'pilot', entity_id: view.id, pilot_id: view.id, after: view },
        em,
      );
      return view;
    });
  }

  /**
   * Edits a draft pilot. A change of eligibility, arms or design discards the stored assignment
   * (it no longer matches); other edits keep it.
   * @throws PILOT_FROZEN after launch; the same validation errors as create.
   */
  async update(id: string, dto: UpdatePilotDto, actor?: Actor) {
    return this.dataSource.transaction(async (em) => {
      const pilot = await this.pilots.getForUpdate(em, id);
      if (actor?.key.role === 'sales_ops' && pilot.authorKeyId !== actor.key.id) {
        throw new AppException('FORBIDDEN', 'A sales_ops key may only edit pilots it created', { author_key_id: pilot.authorKeyId });
      }
      assertDraft(pilot, 'edit the pilot');
      await this.assertSeedOpen(em, pilot, dto);
      const before = toPilotView(pilot);
      applyDto(pilot, dto);
      await this.check(pilot);
      // Only what the draw depends on invalidates a stored assignment (launch re-checks the inputs hash too).
      const redraw = dto.eligibility !== undefined || dto.arms !== undefined || dto.design !== undefined;
      // A raw DELETE … RETURNING through TypeORM's pg driver resolves to [rows, affectedCount].
      const removed: unknown[] = redraw ? (await em.query(`DELETE FROM assignments WHERE pilot_id = $1 RETURNING id`, [id]))[0] : [];
      const saved = await this.pilots.save(pilot, em);
      const after = toPilotView(saved);
      await this.audit.record(
        {
          actor: actor?.key ?? null,
          request_id: actor?.requestId,
          action: 'pilot.updated',
          entity_type: 'pilot',
          entity_id: id,
          pilot_id: id,
          before: changedFields(before, after),
          after: { ...changedFields(after, before), assignment_discarded: removed.length > 0 },
        },
        em,
      );
      return { ...after, assignment_discarded: removed.length > 0 };
    });
  }

  async get(id: string) {
    return toPilotView(await this.pilots.getById(id));
  }

  async list(opts: { limit: number; offset: number }) {
    const [items, total] = await this.pilots.findPage(opts);
    return { total, limit: opts.limit, offset: opts.offset, items: items.map(toPilotView) };
  }

  /**
   * The plan states its seed before the first draw, or never: once an assignment was drawn (any
   * recorded draw, even a discarded one) `design.seed` cannot change. @throws SEED_LOCKED (409)
   */
  private async assertSeedOpen(em: EntityManager, pilot: PilotEntity, dto: UpdatePilotDto): Promise<void> {
    const requested = dto.design?.seed;
    if (requested === undefined || requested === pilot.seed) return;
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM assignment_draws WHERE pilot_id = $1`, [pilot.id]);
    if (n > 0) {
      throw new AppException('SEED_LOCKED', `The assignment was drawn ${n} time(s) already: design.seed can no longer change (it is stated before the first draw)`, {
        path: 'design.seed',
        current_seed: pilot.seed,
        requested_seed: requested,
        draws: n,
      });
    }
  }

  private async check(pilot: PilotEntity): Promise<void> {
    assertPilotDefinition(pilot);
    const eligible = await this.eligibility.resolve(pilot);
    // excluded territories (design constraint) do not fill arms
    const excluded = new Set(pilot.designOptions?.constraints?.exclude ?? []);
    const usable = eligible.filter((t) => !excluded.has(t.code));
    if (pilot.designType === 'chosen') {
      // the named treated territories must be eligible; the donor pool is settled when the assignment is drawn
      const codes = new Set(usable.map((t) => t.code));
      const treated = pilot.designOptions?.treated ?? [];
      const notEligible = treated.filter((c) => !codes.has(c));
      if (notEligible.length) {
        throw new AppException('DESIGN_INFEASIBLE', `Treated territories that are not eligible (or are excluded): ${notEligible.join(', ')}`, {
          not_eligible: notEligible,
          what_to_change: 'name treated territories among the eligible ones (eligibility) and do not exclude them',
        });
      }
      try {
        assertKFitsPool(treated.length, usable.length);
      } catch (err) {
        throw err instanceof FewTreatedInputError ? fewTreatedException(err) : err;
      }
      return;
    }
    if (pilot.designType === 'selected') {
      // forced territories must be eligible and k must fit the pool; PilotLab picks the treated set at the draw
      const codes = new Set(usable.map((t) => t.code));
      const notEligible = (pilot.designOptions?.constraints?.force ?? []).map((f) => f.territory_code).filter((c) => !codes.has(c));
      if (notEligible.length) {
        throw new AppException('DESIGN_INFEASIBLE', `Forced territories that are not eligible (or are excluded): ${notEligible.join(', ')}`, {
          not_eligible: notEligible,
          what_to_change: 'force only eligible territories, and do not exclude them',
        });
      }
      try {
        assertKFitsPool(pilot.designOptions?.k ?? 0, usable.length);
      } catch (err) {
        throw err instanceof FewTreatedInputError ? fewTreatedException(err) : err;
      }
      return;
    }
    this.eligibility.armCounts(pilot, usable.length);
  }
}

/** Copies the given DTO fields onto the entity (create, PATCH and plan amendments). */
export function applyDto(pilot: PilotEntity, dto: Partial<CreatePilotDto>): PilotEntity {
  if (dto.name !== undefined) pilot.name = dto.name;
  if (dto.hypothesis !== undefined) pilot.hypothesis = dto.hypothesis;
  if (dto.treatment_description !== undefined) pilot.treatmentDescription = dto.treatment_description;
  if (dto.eligibility !== undefined) {
    pilot.eligibility = dto.eligibility.regions
      ? { regions: dto.eligibility.regions, ...(dto.eligibility.territory_codes ? { territory_codes: dto.eligibility.territory_codes } : {}) }
      : { territory_codes: dto.eligibility.territory_codes };
  }
  if (dto.arms !== undefined) {
    pilot.arms = dto.arms.map((a) => ({
      key: a.key,
      role: a.role,
      ...(a.count !== undefined ? { count: a.count } : {}),
      ...(a.ratio !== undefined ? { ratio: a.ratio } : {}),
    }));
  }
  if (dto.primary_kpi !== undefined) pilot.primaryKpi = dto.primary_kpi;
  if (dto.secondary_kpis !== undefined || pilot.secondaryKpis === undefined) pilot.secondaryKpis = dto.secondary_kpis ?? [];
  if (dto.guardrail_kpis !== undefined || pilot.guardrailKpis === undefined) pilot.guardrailKpis = dto.guardrail_kpis ?? [];
  if (dto.guardrail_margins !== undefined || pilot.guardrailMargins === undefined) {
    pilot.guardrailMargins = dto.guardrail_margins?.length ? dto.guardrail_margins.map((m) => ({ kpi: m.kpi, margin: m.margin, type: m.type })) : null;
  }
  if (dto.multiple_testing !== undefined || pilot.multipleTesting === undefined) pilot.multipleTesting = dto.multiple_testing ?? pilot.multipleTesting ?? 'holm';
  if (dto.pre_period !== undefined) {
    pilot.prePeriodStart = dto.pre_period.start;
    pilot.prePeriodEnd = dto.pre_period.end;
  }
  if (dto.test_period !== undefined) {
    pilot.testPeriodStart = dto.test_period.start;
    pilot.testPeriodEnd = dto.test_period.end;
  }
  if (dto.alpha !== undefined || pilot.alpha === undefined) pilot.alpha = dto.alpha ?? pilot.alpha ?? 0.05;
  if (dto.reporting_currency !== undefined) pilot.reportingCurrency = dto.reporting_currency;
  if (dto.monthly_cost !== undefined || pilot.monthlyCost === undefined) pilot.monthlyCost = dto.monthly_cost ?? pilot.monthlyCost ?? null;
  if (dto.interim_looks !== undefined || pilot.interimLookDates === undefined) pilot.interimLookDates = [...(dto.interim_looks ?? [])].sort();
  if (dto.design !== undefined) {
    pilot.designType = dto.design.type;
    pilot.stratifyBy = dto.design.type === 'stratified' ? (dto.design.stratify_by ?? 'region') : (dto.design.stratify_by ?? null);
    // the plan-stated seed; a PATCH of the design without one keeps the current seed (stated or not)
    if (dto.design.seed !== undefined) pilot.seed = dto.design.seed;
    else if (pilot.seed === undefined) pilot.seed = null;
    pilot.designOptions = designOptionsOf(dto.design);
  }
  return pilot;
}

/** The fields of `a` whose values differ in `b` (for audit before/after). */
function changedFields(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(a).filter(([k, v]) => k !== 'updated_at' && canonicalJson(v) !== canonicalJson(b[k])));
}

/** The design parameters beyond type, stratum variable and seed, with defaults filled in (only those given). */
function designOptionsOf(d: NonNullable<CreatePilotDto['design']>): DesignOptions {
  const o: DesignOptions = {};
  if (d.pair_on !== undefined) o.pair_on = d.pair_on;
  if (d.rerandomization !== undefined) {
    o.rerandomization = {
      covariates: d.rerandomization.covariates,
      acceptance_probability: d.rerandomization.acceptance_probability ?? 0.05,
      // New designs set the threshold from M's own distribution (skewed covariates keep p_a); pilots
      // stored without the field keep the χ² rule they were drawn with.
      threshold_rule: d.rerandomization.threshold_rule ?? 'empirical',
    };
  }
  if (d.constraints !== undefined) {
    const c = d.constraints;
    o.constraints = {
      ...(c.force ? { force: c.force.map((f) => ({ territory_code: f.territory_code, arm: f.arm })) } : {}),
      ...(c.exclude ? { exclude: c.exclude } : {}),
      ...(c.max_treated_share
        ? { max_treated_share: { covariate: c.max_treated_share.covariate ?? 'pre_period_revenue_won', max_share: c.max_treated_share.max_share } }
        : {}),
    };
  }
  if (d.max_draws !== undefined) o.max_draws = d.max_draws;
  if (d.treated !== undefined) o.treated = [...d.treated];
  if (d.k !== undefined) o.k = d.k;
  if (d.selection !== undefined) {
    const s = d.selection;
    o.selection = Object.fromEntries(Object.entries({ candidates: s.candidates, exhaustive_limit: s.exhaustive_limit, windows: s.windows, top: s.top }).filter(([, v]) => v !== undefined));
  }
  if (d.pre_period_as_of !== undefined) {
    if (d.type === 'chosen' || d.type === 'selected') {
      throw new AppException('VALIDATION_FAILED', 'design.pre_period_as_of is read by randomized designs only', [
        { path: 'design.pre_period_as_of', errors: ['a few-treated (chosen or selected) design has no pre-period covariates to read as of an instant'] },
      ]);
    }
    const at = parseAsOf(d.pre_period_as_of, 'design.pre_period_as_of');
    if (!at.ok || !at.value) {
      throw new AppException('VALIDATION_FAILED', 'design.pre_period_as_of is not an as-of instant', [
        { path: 'design.pre_period_as_of', errors: [at.ok ? 'must not be empty' : at.reason] },
      ]);
    }
    o.pre_period_as_of = at.value.toISOString();
  }
  return o;
}

/** The API view of a pilot (snake_case, windows as objects). */
export function toPilotView(p: PilotEntity) {
  return {
    id: p.id,
    name: p.name,
    hypothesis: p.hypothesis,
    treatment_description: p.treatmentDescription,
    status: p.status,
    eligibility: p.eligibility,
    arms: p.arms,
    primary_kpi: p.primaryKpi,
    secondary_kpis: p.secondaryKpis,
    guardrail_kpis: p.guardrailKpis,
    guardrail_margins: p.guardrailMargins ?? null,
    multiple_testing: p.multipleTesting,
    pre_period: { start: p.prePeriodStart, end: p.prePeriodEnd },
    test_period: { start: p.testPeriodStart, end: p.testPeriodEnd },
    alpha: p.alpha,
    monthly_cost: p.monthlyCost ?? null,
    reporting_currency: p.reportingCurrency ?? null,
    design: { type: p.designType, stratify_by: p.stratifyBy, seed: p.seed, ...(p.designOptions ?? {}) },
    interim_looks: p.interimLookDates,
    author_key_id: p.authorKeyId,
    plan_version: p.planVersion,
    plan_hash: p.planHash,
    approved_at: p.approvedAt,
    launched_at: p.launchedAt,
    stopped_at: p.stoppedAt,
    concluded_at: p.concludedAt,
    archived_at: p.archivedAt,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}
