import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { PilotEntity } from './pilot.entity';

/** Pilot persistence. */
@Injectable()
export class PilotRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(em?: EntityManager) {
    return (em ?? this.dataSource.manager).getRepository(PilotEntity);
  }

  /** @throws PILOT_NOT_FOUND */
  async getById(id: string, em?: EntityManager): Promise<PilotEntity> {
    const pilot = await this.repo(em).findOne({ where: { id } });
    if (!pilot) throw new AppException('PILOT_NOT_FOUND', `No pilot with id ${id}`);
    return pilot;
  }

  /**
   * Reads the pilot and locks its row for the rest of the transaction, so two lifecycle requests
   * (assign, launch, edit) on one pilot run one after the other. @throws PILOT_NOT_FOUND
   */
  async getForUpdate(em: EntityManager, id: string): Promise<PilotEntity> {
    const pilot = await em.getRepository(PilotEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!pilot) throw new AppException('PILOT_NOT_FOUND', `No pilot with id ${id}`);
    return pilot;
  }

  save(pilot: PilotEntity, em?: EntityManager): Promise<PilotEntity> {
    return this.repo(em).save(pilot);
  }

  findPage(opts: { limit: number; offset: number }): Promise<[PilotEntity[], number]> {
    return this.repo().findAndCount({ order: { createdAt: 'DESC' }, take: opts.limit, skip: opts.offset });
  }
}
