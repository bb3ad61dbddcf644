import { Body, Controller, Delete, Get, Injectable, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsIn, IsObject, IsOptional } from 'class-validator';
import { DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ALL_ROLES, Roles } from '../../common/auth/roles';
import { ImportProfile, importProfile, PipelineStageMap, PROFILE_NAMES, StageMappingByPipeline } from './profiles';

/** Body of PUT /import-sources/:name. */
export class ImportSourceDto {
  @ApiProperty({ enum: PROFILE_NAMES }) @IsIn([...PROFILE_NAMES]) profile: string;
  @ApiPropertyOptional({ description: 'profile field → source column, e.g. {"territory":"Region"}' }) @IsOptional() @IsObject() column_map?: Record<string, string>;
  @ApiPropertyOptional({ description: 'pipeline → {won, lost, open} stage names/ids' }) @IsOptional() @IsObject() stage_mapping?: Record<string, PipelineStageMap>;
}

export interface ImportSource {
  name: string;
  profile: string;
  column_map: Record<string, string>;
  stage_mapping: StageMappingByPipeline;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function checkSource(dto: ImportSourceDto): void {
  const details: { path: string; errors: string[] }[] = [];
  for (const [k, v] of Object.entries(dto.column_map ?? {})) if (typeof v !== 'string' || v === '') details.push({ path: `column_map.${k}`, errors: ['must be a column name'] });
  for (const [p, m] of Object.entries(dto.stage_mapping ?? {})) {
    for (const key of ['won', 'lost', 'open'] as const) {
      const list = (m as Partial<PipelineStageMap>)?.[key];
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) details.push({ path: `stage_mapping.${p}.${key}`, errors: ['must be an array of stage names'] });
    }
  }
  if (details.length) throw new AppException('VALIDATION_FAILED', `Request validation failed: ${details.map((d) => d.path).join(', ')}`, details);
}

/** Stored import sources: a named profile with a user column map and a stage mapping per pipeline. */
@Injectable()
export class ImportSourceService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Creates or replaces a source. @throws VALIDATION_FAILED */
  async put(name: string, dto: ImportSourceDto): Promise<ImportSource> {
    if (!NAME.test(name)) throw new AppException('VALIDATION_FAILED', 'source name must match ^[a-z0-9][a-z0-9_-]{0,63}$', [{ path: 'name', errors: ['bad name'] }]);
    checkSource(dto);
    const rows: ImportSource[] = await this.ds.query(
      `INSERT INTO import_sources (name, profile, column_map, stage_mapping) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET profile = EXCLUDED.profile, column_map = EXCLUDED.column_map, stage_mapping = EXCLUDED.stage_mapping, updated_at = now()
       RETURNING name, profile, column_map, stage_mapping`,
      [name, dto.profile, JSON.stringify(dto.column_map ?? {}), JSON.stringify(dto.stage_mapping ?? {})],
    );
    return rows[0];
  }

  /** @throws IMPORT_SOURCE_NOT_FOUND */
  async get(name: string): Promise<ImportSource> {
    const rows: ImportSource[] = await this.ds.query(`SELECT name, profile, column_map, stage_mapping FROM import_sources WHERE name = $1`, [name]);
    if (!rows[0]) throw new AppException('IMPORT_SOURCE_NOT_FOUND', `No import source '${name}'`, { source: name });
    return rows[0];
  }

  /** Every stored source, by name. */
  async list(): Promise<{ total: number; items: ImportSource[] }> {
    const items: ImportSource[] = await this.ds.query(`SELECT name, profile, column_map, stage_mapping FROM import_sources ORDER BY name`);
    return { total: items.length, items };
  }

  /**
   * Deletes a source; uploads naming it afterwards get 404. Batches already received through it
   * keep their rows (a batch records its column mapping, not the source).
   * @returns the deleted source (its last profile, column map and stage mapping)
   * @throws IMPORT_SOURCE_NOT_FOUND
   */
  async remove(name: string): Promise<ImportSource & { deleted: true }> {
    // A CTE so the driver returns the rows (a bare DELETE … RETURNING answers [rows, count]).
    const rows: ImportSource[] = await this.ds.query(
      `WITH d AS (DELETE FROM import_sources WHERE name = $1 RETURNING name, profile, column_map, stage_mapping) SELECT * FROM d`,
      [name],
    );
    const gone = rows[0];
    if (!gone) throw new AppException('IMPORT_SOURCE_NOT_FOUND', `No import source '${name}'`, { source: name });
    return { ...gone, deleted: true };
  }

  /**
   * The profile and explicit column map of an upload: `?source=` (its stored profile, column map and
   * stage mapping; a `profile` given too must agree) or `?profile=`. @throws IMPORT_SOURCE_NOT_FOUND,
   * UNKNOWN_IMPORT_PROFILE, VALIDATION_FAILED
   */
  async resolve(profileName: string | undefined, sourceName: string | undefined): Promise<{ profile: ImportProfile; columnMap: Record<string, string> | null }> {
    if (sourceName === undefined || sourceName === '') return { profile: importProfile(profileName), columnMap: null };
    const s = await this.get(sourceName);
    if (profileName !== undefined && profileName !== s.profile) {
      throw new AppException('VALIDATION_FAILED', `source '${s.name}' uses profile ${s.profile}, not ${profileName}`, [{ path: 'profile', errors: ['disagrees with the source'] }]);
    }
    const stageMaps = Object.keys(s.stage_mapping).length ? s.stage_mapping : undefined;
    return { profile: importProfile(s.profile, stageMaps), columnMap: Object.keys(s.column_map).length ? s.column_map : null };
  }
}

@ApiTags('opportunities')
@Controller('import-sources')
export class ImportSourcesController {
  constructor(private readonly sources: ImportSourceService) {}

  @Put(':name')
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Create or update a named import source (profile, column map, stage mapping per pipeline)' })
  put(@Param('name') name: string, @Body() dto: ImportSourceDto) {
    return this.sources.put(name, dto);
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Every stored import source, by name' })
  list() {
    return this.sources.list();
  }

  @Get(':name')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'One import source' })
  get(@Param('name') name: string) {
    return this.sources.get(name);
  }

  @Delete(':name')
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Delete an import source (uploads naming it then get 404; stored batches are kept)' })
  remove(@Param('name') name: string) {
    return this.sources.remove(name);
  }
}
