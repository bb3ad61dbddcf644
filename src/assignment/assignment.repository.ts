import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AssignmentUnitEntity } from './assignment-unit.entity';
import { AssignmentEntity } from './assignment.entity';

/** Assignment persistence: one assignment per pilot, replaced while the pilot is a draft. */
@Injectable()
export class AssignmentRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The pilot's assignment with its units ordered by territory code, or null. */
  async findByPilot(pilotId: string, em?: EntityManager): Promise<AssignmentEntity | null> {
    const m = em ?? this.dataSource.manager;
    const a = await m.getRepository(AssignmentEntity).findOne({ where: { pilotId } });
    if (!a) return null;
    a.units = await m.getRepository(AssignmentUnitEntity).find({ where: { assignmentId: a.id }, order: { territoryCode: 'ASC' } });
    return a;
  }

  /** Replaces the pilot's assignment inside the caller's transaction. */
  async replace(em: EntityManager, assignment: Omit<AssignmentEntity, 'id' | 'createdAt' | 'units'>, units: Omit<AssignmentUnitEntity, 'assignmentId' | 'assignment'>[]): Promise<AssignmentEntity> {
    await em.query(`DELETE FROM assignments WHERE pilot_id = $1`, [assignment.pilotId]);
    const saved = await em.getRepository(AssignmentEntity).save(em.getRepository(AssignmentEntity).create(assignment));
    const repo = em.getRepository(AssignmentUnitEntity);
    for (let i = 0; i < units.length; i += 1000) {
      await repo.insert(units.slice(i, i + 1000).map((u) => ({ ...u, assignmentId: saved.id })));
    }
    return (await this.findByPilot(assignment.pilotId, em))!;
  }
}
