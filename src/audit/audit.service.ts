import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { toUtcInstant } from '../common/validation/is-iso-instant';

/** One audit event as written: who (key), what (action on an entity), before/after snapshots. */
export interface AuditEventInput {
  actor?: { id: string; name: string; role: string } | null;
  action: string;
  entity_type: string;
  entity_id?: string | null;
  pilot_id?: string | null;
  request_id?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Filters of GET /audit (all optional, combined with AND). */
export interface AuditFilter {
  pilot_id?: string;
  entity_type?: string;
  entity_id?: string;
  action?: string;
  actor_key_id?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

/**
 * The append-only audit trail. Writes only INSERTs (a trigger rejects UPDATE, DELETE and TRUNCATE
 * on `audit_events`); pass the caller's EntityManager so the event commits or rolls back with the
 * change it describes.
 */
@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(e: AuditEventInput, em?: EntityManager): Promise<void> {
    await (em ?? this.dataSource.manager).query(
      `INSERT INTO audit_events (actor_key_id, actor_name, actor_role, action, entity_type, entity_id, pilot_id, request_id, before, after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb)`,
      [
        e.actor?.id ?? null,
        e.actor?.name ?? (e.actor === undefined ? 'system' : null),
        e.actor?.role ?? null,
        e.action,
        e.entity_type,
        e.entity_id ?? null,
        e.pilot_id ?? null,
        e.request_id ?? null,
        e.before === undefined ? null : JSON.stringify(e.before),
        e.after === undefined ? null : JSON.stringify(e.after),
      ],
    );
  }

  /** A page of events, oldest first (ids ascending), with the total matching. */
  async find(f: AuditFilter) {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.pilot_id) add('pilot_id = ?', f.pilot_id);
    if (f.entity_type) add('entity_type = ?', f.entity_type);
    if (f.entity_id) add('entity_id = ?', f.entity_id);
    if (f.action) add('action = ?', f.action);
    if (f.actor_key_id) add('actor_key_id = ?', f.actor_key_id);
    // validated by AuditQuery; normalised to UTC so the session time zone never matters
    if (f.from) add('occurred_at >= ?::timestamptz', toUtcInstant(f.from));
    if (f.to) add('occurred_at < ?::timestamptz', toUtcInstant(f.to));
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ n }] = await this.dataSource.query(`SELECT count(*)::int AS n FROM audit_events ${clause}`, params);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT id::text AS id, occurred_at, actor_key_id, actor_name, actor_role, action, entity_type, entity_id, pilot_id, request_id, before, after
         FROM audit_events ${clause} ORDER BY audit_events.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, f.limit, f.offset],
    );
    return { total: n, limit: f.limit, offset: f.offset, items: rows };
  }
}
