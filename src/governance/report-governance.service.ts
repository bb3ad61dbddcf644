import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { PilotRepository } from '../pilots/pilot.repository';
import { InterimLookService, SequentialSection } from './interim-look.service';
import { PlanService, ReportPlanSection } from './plan.service';

/** What governance adds to every report: the locked plan (hash, amendments) and the sequential section. */
export interface ReportGovernance {
  plan: ReportPlanSection;
  sequential: SequentialSection | null;
}

/** Builds the governance part of a report while the analysis job computes it (same transaction). */
@Injectable()
export class ReportGovernanceService {
  constructor(
    private readonly plans: PlanService,
    private readonly looks: InterimLookService,
    private readonly pilots: PilotRepository,
  ) {}

  /** @param result the report built so far (its primary KPI decides the interim looks) */
  async addendum(reportId: string, pilotId: string, result: unknown, em: EntityManager): Promise<ReportGovernance> {
    const pilot = await this.pilots.getById(pilotId, em);
    return {
      plan: await this.plans.reportSection(pilot.id, em),
      sequential: await this.looks.sectionFor(reportId, pilot, result, em),
    };
  }
}
