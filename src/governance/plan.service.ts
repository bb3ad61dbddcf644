import { Injectable } from '@nestjs/common';
import { assertMayApprove } from './separation-of-duties';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { CreatePilotDto } from '../pilots/dto/create-pilot.dto';
import { assertPilotDefinition } from '../pilots/pilot-rules';
import { PilotEntity } from '../pilots/pilot.entity';
import { PilotRepository } from '../pilots/pilot.repository';
import { applyDto } from '../pilots/pilots.service';
import { AMENDABLE_STATUSES } from './lifecycle';
import type { Actor } from '../common/auth/principal';
import { LockedPlan, lockedPlanOf, planDiff, planHash } from './plan';

interface PlanRow {
  version: number;
  status: 'pending' | 'approved' | 'rejected';
  plan: LockedPlan;
  plan_hash: string;
  changes: Partial<CreatePilotDto> | null;
  reason: string | null;
  proposed_by: string | null;
  proposed_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
}

/** What every report carries about the plan it was computed under. */
export interface ReportPlanSection {
  version: number | null;
  hash: string | null;
  locked_at: string | null;
  amendments: { version: number; reason: string; approved_at: string | null; changes: { field: string; before: unknown; after: unknown }[] }[];
}

const COLUMNS = `version, status, plan, plan_hash, changes, reason, proposed_by, proposed_at, decided_by, decided_at`;

/**
 * Locked analysis plans after approval: version 1 is frozen by the approval itself
 * (LifecycleService); a later change is an amendment — proposed with a reason, applied only when a
 * key other than its proposer and the pilot's author approves it — and every later report lists it.
 */
@Injectable()
export class PlanService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly audit: AuditService,
  ) {}

  /** The plan versions of a pilot (oldest first), each amendment with its changed fields. */
  async list(pilotId: string) {
    const pilot = await this.pilots.getById(pilotId);
    const rows = await this.rows(this.dataSource.manager, pilotId);
    return {
      pilot_id: pilotId,
      current_version: pilot.planVersion,
      current_hash: pilot.planHash,
      versions: rows.map((r) => {
        const previous = this.approvedBefore(rows, r.version);
        return { ...this.view(r), changes: previous ? planDiff(previous.plan, r.plan) : [] };
      }),
    };
  }

  /**
   * Proposes an amendment of an approved (or running, or stopped) pilot's plan.
   * @throws INVALID_STATE before approval or after conclusion; FORBIDDEN for a sales_ops key that
   * did not author the pilot; VALIDATION_FAILED when the changes break the definition or change
   * nothing; AMENDMENT_PENDING when another amendment awaits approval.
   */
  async propose(pilotId: string, changes: Partial<CreatePilotDto>, reason: string, actor: Actor) {
    try {
      return await this.dataSource.transaction(async (em) => {
        const pilot = await this.pilots.getForUpdate(em, pilotId);
        this.assertAmendable(pilot);
        if (actor.key.role === 'sales_ops' && pilot.authorKeyId !== actor.key.id) {
          throw new AppException('FORBIDDEN', 'A sales_ops key may only amend pilots it created', { author_key_id: pilot.authorKeyId });
        }
        const locked = await this.lockedPlan(em, pilotId);
        const current = lockedPlanOf(pilot, locked.primary_method, locked.draws, locked.few_cluster_method);
        const next = lockedPlanOf(this.amended(pilot, changes), locked.primary_method, locked.draws, locked.few_cluster_method);
        const diff = planDiff(current, next);
        if (!diff.length) throw new AppException('VALIDATION_FAILED', 'The amendment changes nothing in the plan', [{ path: 'changes', errors: ['changes nothing'] }]);
        const [{ v }] = await em.query(`SELECT coalesce(max(version), 0) + 1 AS v FROM analysis_plans WHERE pilot_id = $1`, [pilotId]);
        const [row]: PlanRow[] = await em.query(
          `INSERT INTO analysis_plans (pilot_id, version, status, plan, plan_hash, changes, reason, proposed_by)
           VALUES ($1, $2, 'pending', $3::jsonb, $4, $5::jsonb, $6, $7) RETURNING ${COLUMNS}`,
          [pilotId, v, JSON.stringify(next), planHash(next), JSON.stringify(changes), reason, actor.key.id],
        );
        await this.audit.record(
          {
            actor: actor.key,
            request_id: actor.requestId,
            action: 'plan.amendment_proposed',
            entity_type: 'pilot',
            entity_id: pilotId,
            pilot_id: pilotId,
            before: { plan_version: pilot.planVersion, plan_hash: pilot.planHash },
            after: { version: row.version, plan_hash: row.plan_hash, reason, changes: diff },
          },
          em,
        );
        return { pilot_id: pilotId, ...this.view(row), changes: diff };
      });
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === '23505') {
        throw new AppException('AMENDMENT_PENDING', 'Another amendment of this plan awaits approval; approve or reject it first');
      }
      throw err;
    }
  }

  /**
   * Approves or rejects a pending amendment. Approval applies it to the pilot and makes it the plan
   * in force (new version and hash). @throws AMENDMENT_NOT_FOUND; INVALID_STATE when it is not
   * pending or the pilot can no longer be amended; SEPARATION_OF_DUTIES when the approver proposed
   * the amendment or authored the pilot.
   */
  async decide(pilotId: string, version: number, decision: 'approve' | 'reject', actor: Actor, note?: string | null) {
    return this.dataSource.transaction(async (em) => {
      const pilot = await this.pilots.getForUpdate(em, pilotId);
      const [row]: PlanRow[] = await em.query(`SELECT ${COLUMNS} FROM analysis_plans WHERE pilot_id = $1 AND version = $2 FOR UPDATE`, [pilotId, version]);
      if (!row || version === 1) throw new AppException('AMENDMENT_NOT_FOUND', `Pilot ${pilotId} has no plan amendment ${version}`);
      if (row.status !== 'pending') {
        throw new AppException('INVALID_STATE', `Amendment ${version} is already ${row.status}`, { status: row.status });
      }
      if (decision === 'approve') {
        this.assertAmendable(pilot);
        await assertMayApprove(em, pilotId, actor.key.id, 'amendment', row.proposed_by);
      }
      const before = { plan_version: pilot.planVersion, plan_hash: pilot.planHash };
      if (decision === 'approve') {
        const amended = this.amended(pilot, row.changes ?? {});
        const hash = planHash(lockedPlanOf(amended, row.plan.primary_method, row.plan.draws, row.plan.few_cluster_method));
        if (hash !== row.plan_hash) {
          throw new AppException('INVALID_STATE', 'The pilot changed since the amendment was proposed; propose it again', { expected: row.plan_hash, now: hash });
        }
        amended.planVersion = version;
        amended.planHash = hash;
        await this.pilots.save(amended, em);
      }
      // A raw UPDATE … RETURNING through TypeORM's pg driver resolves to [rows, affectedCount].
      const [[after]]: [PlanRow[], number] = await em.query(
        `UPDATE analysis_plans SET status = $3, decided_by = $4, decided_at = now() WHERE pilot_id = $1 AND version = $2 RETURNING ${COLUMNS}`,
        [pilotId, version, decision === 'approve' ? 'approved' : 'rejected', actor.key.id],
      );
      await this.audit.record(
        {
          actor: actor.key,
          request_id: actor.requestId,
          action: decision === 'approve' ? 'plan.amendment_approved' : 'plan.amendment_rejected',
          entity_type: 'pilot',
          entity_id: pilotId,
          pilot_id: pilotId,
          before,
          after: decision === 'approve' ? { plan_version: version, plan_hash: row.plan_hash, reason: row.reason } : { version, rejected: true, ...(note ? { note } : {}) },
        },
        em,
      );
      return { pilot_id: pilotId, ...this.view(after) };
    });
  }

  /**
   * The plan section of a report: version and hash in force and the approved amendments with their
   * reasons and changed fields (empty before approval; a report before approval has no plan).
   */
  async reportSection(pilotId: string, em: EntityManager = this.dataSource.manager): Promise<ReportPlanSection> {
    const rows = (await this.rows(em, pilotId)).filter((r) => r.status === 'approved');
    const current = rows[rows.length - 1];
    return {
      version: current?.version ?? null,
      hash: current?.plan_hash ?? null,
      locked_at: rows[0]?.decided_at ? new Date(rows[0].decided_at).toISOString() : null,
      amendments: rows.slice(1).map((r, i) => ({
        version: r.version,
        reason: r.reason ?? '',
        approved_at: r.decided_at ? new Date(r.decided_at).toISOString() : null,
        changes: planDiff(rows[i].plan, r.plan),
      })),
    };
  }

  /** The plan in force: its primary method and the assignment draws are fixed at approval; amendments keep them. */
  private async lockedPlan(em: EntityManager, pilotId: string): Promise<LockedPlan> {
    const rows = (await this.rows(em, pilotId)).filter((r) => r.status === 'approved');
    return rows[rows.length - 1].plan;
  }

  private amended(pilot: PilotEntity, changes: Partial<CreatePilotDto>): PilotEntity {
    const copy = Object.assign(new PilotEntity(), pilot, {
      secondaryKpis: [...pilot.secondaryKpis],
      guardrailKpis: [...pilot.guardrailKpis],
      interimLookDates: [...(pilot.interimLookDates ?? [])],
    });
    applyDto(copy, changes);
    assertPilotDefinition(copy);
    return copy;
  }

  private assertAmendable(pilot: PilotEntity): void {
    if (!AMENDABLE_STATUSES.includes(pilot.status)) {
      throw new AppException(
        'INVALID_STATE',
        pilot.status === 'draft' || pilot.status === 'in_review'
          ? `The plan is not locked yet (the pilot is ${pilot.status}); edit the draft with PATCH /pilots/${pilot.id}`
          : `The plan of a ${pilot.status} pilot can no longer be amended`,
        { status: pilot.status, amendable_in: AMENDABLE_STATUSES },
      );
    }
  }

  private rows(em: EntityManager, pilotId: string): Promise<PlanRow[]> {
    return em.query(`SELECT ${COLUMNS} FROM analysis_plans WHERE pilot_id = $1 ORDER BY version`, [pilotId]);
  }

  private approvedBefore(rows: PlanRow[], version: number): PlanRow | undefined {
    return rows.filter((r) => r.version < version && r.status === 'approved').pop();
  }

  private view(r: PlanRow) {
    return {
      version: r.version,
      status: r.status,
      plan_hash: r.plan_hash,
      plan: r.plan,
      reason: r.reason,
      proposed_by: r.proposed_by,
      proposed_at: r.proposed_at,
      decided_by: r.decided_by,
      decided_at: r.decided_at,
    };
  }
}
