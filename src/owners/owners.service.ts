import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { parseCsvBuffer } from '../common/utils/csv';
import { flattenValidationErrors } from '../common/validation/validation';
import { parseRequiredDecimal } from '../common/database/transformers';
import { OwnerTerritoriesResultDto, OwnerTerritoryDto } from './dto/owner-territory.dto';

export const MAX_OWNER_ROWS_PER_REQUEST = 100_000;

/**
 * Loads owner (rep) → territory mappings with effective dates. A load is all or nothing: every
 * territory must exist (422 UNKNOWN_TERRITORY), and an owner's intervals may not overlap, neither
 * within the load nor with the stored ones (400 VALIDATION_FAILED listing each). A row with the
 * same (owner, valid_from) as a stored one replaces it (idempotent re-load). Each load takes the
 * next mapping version, which makes every pilot's rollups recompute in full on their next refresh.
 */
@Injectable()
export class OwnersService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Validated rows from a CSV (`owner,territory,valid_from,valid_to`). @throws MALFORMED_CSV, VALIDATION_FAILED */
  async fromCsv(buffer: Buffer): Promise<OwnerTerritoryDto[]> {
    let records: Record<string, string>[];
    try {
      records = parseCsvBuffer(buffer);
    } catch (err) {
      throw new AppException('MALFORMED_CSV', `CSV could not be parsed: ${(err as Error).message}`);
    }
    if (records.length === 0) throw new AppException('MALFORMED_CSV', 'The CSV has no data rows');
    if (records.length > MAX_OWNER_ROWS_PER_REQUEST) throw new AppException('BATCH_TOO_LARGE', `At most ${MAX_OWNER_ROWS_PER_REQUEST} rows per load`);
    const items: OwnerTerritoryDto[] = [];
    const details = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const raw: Record<string, string | null> = { owner: r.owner, territory: r.territory, valid_from: r.valid_from };
      if (r.valid_to !== undefined && r.valid_to !== '') raw.valid_to = r.valid_to;
      const item = plainToInstance(OwnerTerritoryDto, raw);
      details.push(...flattenValidationErrors(await validate(item, { whitelist: true }), String(i + 1)));
      items.push(item);
    }
    if (details.length) throw new AppException('VALIDATION_FAILED', 'Some mapping rows are invalid (paths are CSV row numbers)', details);
    return items;
  }

  /** Stores the rows (see the class comment). */
  async load(items: OwnerTerritoryDto[]): Promise<OwnerTerritoriesResultDto> {
    const details: { path: string; errors: string[] }[] = [];
    items.forEach((it, i) => {
      if (it.valid_to && it.valid_to < it.valid_from) details.push({ path: `${i}.valid_to`, errors: ['must be on or after valid_from'] });
    });
    const keys = items.map((it) => `${it.owner}\u0000${it.valid_from}`);
    keys.forEach((k, i) => {
      if (keys.indexOf(k) !== i) details.push({ path: `${i}`, errors: [`owner '${items[i].owner}' has two rows from ${items[i].valid_from}`] });
    });
    if (details.length) throw new AppException('VALIDATION_FAILED', 'Some mapping rows are invalid', details);

    return this.dataSource.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('owner_territories'))`);
      const codes: { code: string; id: string }[] = await em.query(`SELECT code, id FROM territories WHERE code = ANY($1::text[])`, [
        [...new Set(items.map((i) => i.territory))],
      ]);
      const idOf = new Map(codes.map((c) => [c.code, c.id]));
      const unknown = [...new Set(items.map((i) => i.territory).filter((c) => !idOf.has(c)))];
      if (unknown.length) throw new AppException('UNKNOWN_TERRITORY', `Unknown territory code(s): ${unknown.join(', ')}`, { codes: unknown });
      const [{ v }]: { v: string }[] = await em.query(`SELECT nextval('owner_mapping_version_seq') AS v`);
      const version = parseRequiredDecimal(v);
      const [counts]: { inserted: string; updated: string }[] = await em.query(
        `WITH w AS (
           INSERT INTO owner_territories (owner, valid_from, valid_to, territory_id, mapping_version, updated_at)
           SELECT * , now() FROM unnest($1::varchar[], $2::date[], $3::date[], $4::uuid[], $5::bigint[])
           ON CONFLICT (owner, valid_from) DO UPDATE SET valid_to = EXCLUDED.valid_to, territory_id = EXCLUDED.territory_id,
             mapping_version = EXCLUDED.mapping_version, updated_at = now()
           RETURNING (xmax = 0) AS inserted)
         SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM w`,
        [
          items.map((i) => i.owner),
          items.map((i) => i.valid_from),
          items.map((i) => i.valid_to ?? null),
          items.map((i) => idOf.get(i.territory)),
          items.map(() => version),
        ],
      );
      // Overlaps among the owner's intervals after the load (inclusive days) roll everything back.
      const overlaps: { owner: string; a_from: string; b_from: string }[] = await em.query(
        `SELECT a.owner, a.valid_from::text AS a_from, b.valid_from::text AS b_from
           FROM owner_territories a JOIN owner_territories b ON a.owner = b.owner AND a.valid_from < b.valid_from
          WHERE a.owner = ANY($1::varchar[]) AND (a.valid_to IS NULL OR a.valid_to >= b.valid_from)
          ORDER BY 1, 2 LIMIT 100`,
        [[...new Set(items.map((i) => i.owner))]],
      );
      if (overlaps.length) {
        throw new AppException(
          'VALIDATION_FAILED',
          'An owner may be mapped to one territory at a time: some intervals overlap',
          overlaps.map((o) => ({ path: o.owner, errors: [`the interval from ${o.a_from} overlaps the one from ${o.b_from}`] })),
        );
      }
      return { inserted: parseRequiredDecimal(counts.inserted), updated: parseRequiredDecimal(counts.updated), mapping_version: version };
    });
  }

  /** An owner's mapping history, oldest first. @throws NOT_FOUND */
  async history(owner: string) {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT o.owner, t.code AS territory, o.valid_from::text AS valid_from, o.valid_to::text AS valid_to, o.mapping_version::text AS mapping_version
         FROM owner_territories o JOIN territories t ON t.id = o.territory_id WHERE o.owner = $1 ORDER BY o.valid_from`,
      [owner],
    );
    if (rows.length === 0) throw new AppException('NOT_FOUND', `No territory mapping for owner '${owner}'`);
    return { owner, intervals: rows.map(({ owner: _o, ...r }) => r) };
  }
}
