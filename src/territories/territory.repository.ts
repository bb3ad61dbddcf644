import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { UpsertTerritoryDto } from './dto/territory.dto';
import { TerritoryEntity } from './territory.entity';

/** Territory persistence with intent-named queries. */
@Injectable()
export class TerritoryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts or updates territories by code in one statement per chunk, inside the caller's
   * transaction. @returns how many rows were created and updated.
   */
  async upsertMany(em: EntityManager, items: UpsertTerritoryDto[]): Promise<{ created: number; updated: number }> {
    let created = 0;
    let updated = 0;
    const CHUNK = 1_000;
    for (let i = 0; i < items.length; i += CHUNK) {
      const chunk = items.slice(i, i + CHUNK);
      const params: unknown[] = [];
      const tuples = chunk.map((t) => {
        params.push(t.code, t.name, t.region, t.team ?? null, t.manager ?? null, JSON.stringify(t.attributes ?? {}));
        const b = params.length - 6;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::jsonb)`;
      });
      const rows: { inserted: boolean }[] = await em.query(
        `INSERT INTO territories (code, name, region, team, manager, attributes)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (code) DO UPDATE SET
           name = EXCLUDED.name, region = EXCLUDED.region, team = EXCLUDED.team,
           manager = EXCLUDED.manager, attributes = EXCLUDED.attributes, updated_at = now()
         RETURNING (xmax = 0) AS inserted`,
        params,
      );
      for (const r of rows) r.inserted ? created++ : updated++;
    }
    return { created, updated };
  }

  findByCode(code: string): Promise<TerritoryEntity | null> {
    return this.dataSource.getRepository(TerritoryEntity).findOne({ where: { code } });
  }

  findByCodes(codes: string[]): Promise<TerritoryEntity[]> {
    if (codes.length === 0) return Promise.resolve([]);
    return this.dataSource.getRepository(TerritoryEntity).find({ where: { code: In(codes) }, order: { code: 'ASC' } });
  }

  findByRegions(regions: string[]): Promise<TerritoryEntity[]> {
    if (regions.length === 0) return Promise.resolve([]);
    return this.dataSource.getRepository(TerritoryEntity).find({ where: { region: In(regions) }, order: { code: 'ASC' } });
  }

  /** Pages through territories ordered by code, optionally within one region. */
  findPage(opts: { region?: string; limit: number; offset: number }): Promise<[TerritoryEntity[], number]> {
    return this.dataSource.getRepository(TerritoryEntity).findAndCount({
      where: opts.region ? { region: opts.region } : {},
      order: { code: 'ASC' },
      take: opts.limit,
      skip: opts.offset,
    });
  }

  /** Map of every territory code to its id (for attributing opportunity rows). */
  async idsByCode(em: EntityManager): Promise<Map<string, string>> {
    const rows: { id: string; code: string }[] = await em.query(`SELECT id, code FROM territories`);
    return new Map(rows.map((r) => [r.code, r.id]));
  }
}
