import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AssignmentService } from '../assignment/assignment.service';
import { AuditService } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/principal';
import { AppException } from '../common/errors/app.exception';
import { PilotEntity, PilotStatus } from '../pilots/pilot.entity';
import { PilotRepository } from '../pilots/pilot.repository';
import { EligibilityService } from '../pilots/eligibility.service';
import { recommendedPanelMethod, recommendedPrimaryMethod } from '../stats/primary-method';
import { DEFAULT_FEW_CLUSTER_METHOD, FewClusterMethod } from '../stats/few-cluster-inference';
import { LifecycleAction, nextStatus } from './lifecycle';
import { lockedPlanOf, planHash } from './plan';
import { AssignmentDrawRepository, planDraws } from '../assignment/assignment-draws';
import { assertMayApprove } from './separation-of-duties';


/** Serialises every launch, so two launches cannot both reserve the same territory. */
const RESERVATION_LOCK = `SELECT pg_advisory_xact_lock(hashtext('pilotlab:territory-reservations'))`;

/**
 * Moves pilots through the lifecycle (see lifecycle.ts), enforcing who may do what beyond the role
 * rule of the route: a sales_ops key only submits its own pilots; nobody approves a pilot they
 * authored — created, edited or drew the assignment of — nor through a key an author created
 * (admins included; separation-of-duties.ts). Approval freezes the analysis plan (version 1, hashed); launch checks
 * the assignment is fresh and reserves the territories. Each transition is stored in
 * `pilot_transitions` and the audit trail, in the same transaction as the change.
 */
@Injectable()
export class LifecycleService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pilots: PilotRepository,
    private readonly assignments: AssignmentService,
    private readonly audit: AuditService,
    private readonly eligibility: EligibilityService,
    private readonly draws: AssignmentDrawRepository,
  ) {}

  /**
   * Applies `action` to the pilot. @throws PILOT_NOT_FOUND; INVALID_STATE (409) for a move the
   * lifecycle does not allow; FORBIDDEN / SEPARATION_OF_DUTIES (403); ASSIGNMENT_REQUIRED (409) at
   * submit without a stored assignment; ASSIGNMENT_NOT_FOUND,
   * ASSIGNMENT_STALE, TERRITORY_RESERVED (409) at launch.
   */
  async transition(pilotId: string, action: LifecycleAction, actor: Actor, reason?: string | null) {
    return this.dataSource.transaction(async (em) => {
      if (action === 'launch') await em.query(RESERVATION_LOCK);
      const pilot = await this.pilots.getForUpdate(em, pilotId);
      const from = pilot.status;
      const to = nextStatus(action, from);
      const now = new Date();
      const extra: Record<string, unknown> = {};
      if ((action === 'submit' || action === 'archive') && actor.key.role === 'sales_ops') this.assertAuthor(pilot, actor.key, action);
      if (action === 'submit') await this.assertAssigned(em, pilot);
      if (action === 'approve') {
        await assertMayApprove(em, pilot.id, actor.key.id, 'pilot');
        const methods = await this.methodsOf(em, pilot);
        const plan = lockedPlanOf(pilot, methods.primary, planDraws(await this.draws.list(pilot.id, em)), methods.fewCluster);
        const hash = planHash(plan);
        // Version 1 normally; approved again after a return to draft, the plan is locked as a new version.
        const [{ v }] = await em.query(`SELECT coalesce(max(version), 0) + 1 AS v FROM analysis_plans WHERE pilot_id = $1`, [pilot.id]);
        await em.query(
          `INSERT INTO analysis_plans (pilot_id, version, status, plan, plan_hash, reason, proposed_by, decided_by, decided_at)
           VALUES ($1, $2, 'approved', $3::jsonb, $4, $5, $6, $7, $8)`,
          [pilot.id, v, JSON.stringify(plan), hash, v === 1 ? null : `approved again after a return to draft${reason ? `: ${reason}` : ''}`, pilot.authorKeyId, actor.key.id, now],
        );
        pilot.planVersion = v;
        pilot.planHash = hash;
        pilot.approvedAt = now;
        extra.plan_version = v;
        extra.plan_hash = hash;
      }
      if (action === 'return' && from === 'approved') {
        // The approval is withdrawn: the plan is no longer locked and a pending amendment lapses.
        await em.query(`UPDATE analysis_plans SET status = 'rejected', decided_by = $2, decided_at = now() WHERE pilot_id = $1 AND status = 'pending'`, [
          pilot.id,
          actor.key.id,
        ]);
        pilot.planVersion = null;
        pilot.planHash = null;
        pilot.approvedAt = null;
      }
      if (action === 'launch') {
        const a = await this.assignments.assertFresh(pilot, em);
        await this.assertTerritoriesFree(em, pilot);
        pilot.launchedAt = now;
        extra.inputs_hash = a.inputsHash;
      }
      if (action === 'stop') pilot.stoppedAt = now;
      if (action === 'conclude') pilot.concludedAt = now;
      if (action === 'archive') pilot.archivedAt = now;
      pilot.status = to;
      await this.pilots.save(pilot, em);
      await this.record(em, pilot.id, from, to, actor, reason ?? null, action, extra);
      return { pilot_id: pilot.id, status: to, previous_status: from, at: now, ...this.timestamps(pilot), ...extra };
    });
  }

  /**
   * The key of the method that will decide the primary KPI (the report's choice,
   * `recommendedPrimaryMethod`) and the panel's few-cluster method (`recommendedPanelMethod`; the
   * default when none is valid, the report then says so): from the design type and the number of
   * assigned territories (the eligible ones before an assignment exists).
   */
  private async methodsOf(em: EntityManager, pilot: PilotEntity): Promise<{ primary: string; fewCluster: FewClusterMethod }> {
    const [{ n }] = await em.query(
      `SELECT count(*)::int AS n FROM assignment_units u JOIN assignments a ON a.id = u.assignment_id WHERE a.pilot_id = $1`,
      [pilot.id],
    );
    const territories = n > 0 ? n : (await this.eligibility.resolve(pilot)).length;
    return {
      primary: recommendedPrimaryMethod(pilot.designType, territories).key,
      fewCluster: recommendedPanelMethod(pilot.designType, territories).method ?? DEFAULT_FEW_CLUSTER_METHOD,
    };
  }

  /** The recorded transitions of a pilot, oldest first. @throws PILOT_NOT_FOUND */
  async history(pilotId: string) {
    await this.pilots.getById(pilotId);
    const rows = await this.dataSource.query(
      `SELECT from_status, to_status, actor_key_id, reason, occurred_at FROM pilot_transitions WHERE pilot_id = $1 ORDER BY id`,
      [pilotId],
    );
    return { pilot_id: pilotId, items: rows };
  }

  /**
   * Declares `otherId` compatible with `pilotId` (one direction): the two may then share
   * territories while both run, once each has declared the other. Idempotent.
   * @throws PILOT_NOT_FOUND; VALIDATION_FAILED for the pilot itself
   */
  async declareCompatible(pilotId: string, otherId: string, reason: string, actor: Actor) {
    if (pilotId === otherId) {
      throw new AppException('VALIDATION_FAILED', 'A pilot cannot be declared compatible with itself', [{ path: 'pilot_id', errors: ['must be another pilot'] }]);
    }
    return this.dataSource.transaction(async (em) => {
      await this.pilots.getById(pilotId, em);
      await this.pilots.getById(otherId, em);
      const inserted = await em.query(
        `INSERT INTO pilot_compatibility (pilot_id, compatible_pilot_id, reason, declared_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING declared_at`,
        [pilotId, otherId, reason, actor.key.id],
      );
      if (inserted.length) {
        await this.audit.record(
          {
            actor: actor.key,
            request_id: actor.requestId,
            action: 'pilot.compatibility_declared',
            entity_type: 'pilot',
            entity_id: pilotId,
            pilot_id: pilotId,
            after: { compatible_pilot_id: otherId, reason },
          },
          em,
        );
      }
      return this.compatibility(pilotId, em);
    });
  }

  /** The pilots this pilot declared compatible, and whether each declared it back. */
  async compatibility(pilotId: string, em: EntityManager = this.dataSource.manager) {
    await this.pilots.getById(pilotId, em);
    const rows = await em.query(
      `SELECT c.compatible_pilot_id AS pilot_id, c.reason, c.declared_by, c.declared_at,
              EXISTS (SELECT 1 FROM pilot_compatibility b WHERE b.pilot_id = c.compatible_pilot_id AND b.compatible_pilot_id = c.pilot_id) AS mutual
         FROM pilot_compatibility c WHERE c.pilot_id = $1 ORDER BY c.declared_at, c.compatible_pilot_id`,
      [pilotId],
    );
    return { pilot_id: pilotId, items: rows };
  }

  /**
   * Review needs something to review: the assignment is part of what is frozen at submit and locked
   * at approval, so a pilot without a stored one cannot be submitted (launch would only find out).
   * @throws ASSIGNMENT_REQUIRED (409)
   */
  private async assertAssigned(em: EntityManager, pilot: PilotEntity): Promise<void> {
    if (await this.assignments.hasAssignment(pilot.id, em)) return;
    throw new AppException(
      'ASSIGNMENT_REQUIRED',
      `Pilot ${pilot.id} has no assignment; draw it (POST /pilots/${pilot.id}/assignment) before submitting the pilot for review`,
      { pilot_id: pilot.id, status: pilot.status },
    );
  }

  /** @throws FORBIDDEN unless `key` authored the pilot. */
  assertAuthor(pilot: PilotEntity, key: Principal, what: string): void {
    if (pilot.authorKeyId !== key.id) {
      throw new AppException('FORBIDDEN', `A sales_ops key may only ${what} pilots it created`, { author_key_id: pilot.authorKeyId });
    }
  }

  /**
   * A territory is in at most one running pilot, unless the two pilots declared each other
   * compatible. @throws TERRITORY_RESERVED naming the other pilot(s) and the shared territories.
   */
  private async assertTerritoriesFree(em: EntityManager, pilot: PilotEntity): Promise<void> {
    const conflicts: { pilot_id: string; name: string; territories: string[] }[] = await em.query(
      `SELECT p.id AS pilot_id, p.name, array_agg(DISTINCT u.territory_code ORDER BY u.territory_code) AS territories
         FROM pilots p
         JOIN assignments a ON a.pilot_id = p.id
         JOIN assignment_units u ON u.assignment_id = a.id
        WHERE p.status = 'running' AND p.id <> $1
          AND u.territory_id IN (SELECT u2.territory_id FROM assignments a2 JOIN assignment_units u2 ON u2.assignment_id = a2.id WHERE a2.pilot_id = $1)
          AND NOT (EXISTS (SELECT 1 FROM pilot_compatibility c WHERE c.pilot_id = $1 AND c.compatible_pilot_id = p.id)
               AND EXISTS (SELECT 1 FROM pilot_compatibility c WHERE c.pilot_id = p.id AND c.compatible_pilot_id = $1))
        GROUP BY p.id, p.name ORDER BY p.name, p.id`,
      [pilot.id],
    );
    if (conflicts.length) {
      const first = conflicts[0];
      throw new AppException(
        'TERRITORY_RESERVED',
        `Territories ${first.territories.slice(0, 5).join(', ')}${first.territories.length > 5 ? ', …' : ''} are in running pilot '${first.name}' (${first.pilot_id}); ` +
          'stop it, or declare the two pilots compatible with each other',
        { conflicts },
      );
    }
  }

  private async record(
    em: EntityManager,
    pilotId: string,
    from: PilotStatus,
    to: PilotStatus,
    actor: Actor,
    reason: string | null,
    action: LifecycleAction,
    extra: Record<string, unknown>,
  ): Promise<void> {
    await em.query(`INSERT INTO pilot_transitions (pilot_id, from_status, to_status, actor_key_id, reason) VALUES ($1, $2, $3, $4, $5)`, [
      pilotId,
      from,
      to,
      actor.key.id,
      reason,
    ]);
    await this.audit.record(
      {
        actor: actor.key,
        request_id: actor.requestId,
        action: `pilot.${action}`,
        entity_type: 'pilot',
        entity_id: pilotId,
        pilot_id: pilotId,
        before: { status: from },
        after: { status: to, ...(reason ? { reason } : {}), ...extra },
      },
      em,
    );
  }

  private timestamps(p: PilotEntity) {
    return { approved_at: p.approvedAt, launched_at: p.launchedAt, stopped_at: p.stoppedAt, concluded_at: p.concludedAt, archived_at: p.archivedAt };
  }
}
