import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { parseCsvBuffer } from '../common/utils/csv';
import { flattenValidationErrors } from '../common/validation/validation';
import { UpsertTerritoriesResultDto, UpsertTerritoryDto } from './dto/territory.dto';
import { TerritoryEntity } from './territory.entity';
import { TerritoryRepository } from './territory.repository';

export const MAX_TERRITORIES_PER_REQUEST = 10_000;
const CSV_FIXED_COLUMNS = ['code', 'name', 'region', 'team', 'manager'];

/** Loads and reads territories. A load is all-or-nothing: a partial territory master would skew designs. */
@Injectable()
export class TerritoriesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly territories: TerritoryRepository,
  ) {}

  /**
   * Creates or updates territories by code. @throws VALIDATION_FAILED when a code repeats within the
   * request (which of the two would win is ambiguous); nothing is written then.
   */
  async upsert(items: UpsertTerritoryDto[]): Promise<UpsertTerritoriesResultDto> {
    const seen = new Map<string, number>();
    const dupes: { path: string; errors: string[] }[] = [];
    items.forEach((t, i) => {
      const first = seen.get(t.code);
      if (first !== undefined) dupes.push({ path: `${i}.code`, errors: [`code '${t.code}' repeats item ${first}`] });
      else seen.set(t.code, i);
    });
    if (dupes.length) throw new AppException('VALIDATION_FAILED', 'Territory codes repeat within the request', dupes);
    const result = await this.dataSource.transaction((em) => this.territories.upsertMany(em, items));
    return { received: items.length, ...result };
  }

  /**
   * Loads territories from CSV: columns code, name, region, optional team and manager; every other
   * column is a numeric covariate (an empty cell leaves it out; text is an error). Rows are numbered
   * from 1 after the header.
   */
  async upsertFromCsv(buffer: Buffer): Promise<UpsertTerritoriesResultDto> {
    let records: Record<string, string>[];
    try {
      records = parseCsvBuffer(buffer);
    } catch (err) {
      throw new AppException('MALFORMED_CSV', `CSV could not be parsed: ${(err as Error).message}`);
    }
    if (records.length === 0 || records.length > MAX_TERRITORIES_PER_REQUEST) {
      throw new AppException('VALIDATION_FAILED', `CSV must hold 1 to ${MAX_TERRITORIES_PER_REQUEST} rows, got ${records.length}`);
    }
    const details: { row: number; path: string; errors: string[] }[] = [];
    const items: UpsertTerritoryDto[] = [];
    for (let i = 0; i < records.length; i++) {
      const rec = records[i];
      const attributes: Record<string, number> = {};
      for (const [col, cell] of Object.entries(rec)) {
        if (CSV_FIXED_COLUMNS.includes(col) || cell === '') continue;
        const n = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cell) ? Number(cell) : NaN;
        if (!Number.isFinite(n)) details.push({ row: i + 1, path: col, errors: [`'${cell}' is not a number`] });
        else attributes[col] = n;
      }
      const item = plainToInstance(UpsertTerritoryDto, {
        code: rec.code,
        name: rec.name,
        region: rec.region,
        team: rec.team ? rec.team : null,
        manager: rec.manager ? rec.manager : null,
        attributes,
      });
      const errors = await validate(item, { whitelist: true, forbidNonWhitelisted: true });
      for (const f of flattenValidationErrors(errors)) details.push({ row: i + 1, ...f });
      items.push(item);
    }
    if (details.length) throw new AppException('VALIDATION_FAILED', `${details.length} invalid cell(s) in the CSV`, details);
    return this.upsert(items);
  }

  async list(opts: { region?: string; limit: number; offset: number }) {
    const [items, total] = await this.territories.findPage(opts);
    return { total, limit: opts.limit, offset: opts.offset, items: items.map(toView) };
  }

  async get(code: string) {
    const t = await this.territories.findByCode(code);
    if (!t) throw new AppException('NOT_FOUND', `No territory with code '${code}'`);
    return toView(t);
  }
}

/** The API view of a territory. */
export function toView(t: TerritoryEntity) {
  return {
    id: t.id,
    code: t.code,
    name: t.name,
    region: t.region,
    team: t.team,
    manager: t.manager,
    attributes: t.attributes,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}
