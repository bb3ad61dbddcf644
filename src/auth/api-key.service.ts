import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { EnvironmentVariables } from '../config/env.validation';
import type { Principal } from '../common/auth/principal';
import { Role } from '../common/auth/roles';


/** The API view of a key: never the secret nor its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  is_bootstrap: boolean;
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
}

/** A row as VIEW_COLUMNS selects it: exactly the API view. */
type KeyRow = ApiKeyView;

const VIEW_COLUMNS = `id, name, role, prefix, is_bootstrap, created_by, created_at, revoked_at, revoked_by`;

/** SHA-256 (hex) of a presented key. Keys carry 160 random bits, so a fast hash is enough (no salt/KDF needed). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * API keys: created with one role, shown once, stored as SHA-256 hashes, revocable. The bootstrap
 * admin key comes from BOOTSTRAP_ADMIN_KEY and is registered at API start.
 */
@Injectable()
export class ApiKeyService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ApiKeyService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly env: EnvironmentVariables,
    private readonly audit: AuditService,
  ) {}

  /** Registers BOOTSTRAP_ADMIN_KEY. @throws when NODE_ENV=production and it is not set (the API does not start). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.BOOTSTRAP_ADMIN_KEY) {
      if (this.env.NODE_ENV === 'production') throw new Error('BOOTSTRAP_ADMIN_KEY is required when NODE_ENV=production (at least 24 characters)');
      this.logger.warn('BOOTSTRAP_ADMIN_KEY is not set: no bootstrap admin key (existing keys keep working)');
      return;
    }
    await this.registerBootstrapKey(this.env.BOOTSTRAP_ADMIN_KEY);
  }

  /**
   * Registers `key` as the bootstrap admin key (idempotent) and revokes any other bootstrap key, so
   * rotating BOOTSTRAP_ADMIN_KEY retires the old one. A key revoked earlier stays revoked: set a new
   * BOOTSTRAP_ADMIN_KEY to recover.
   */
  async registerBootstrapKey(key: string): Promise<void> {
    const hash = hashApiKey(key);
    await this.dataSource.transaction(async (em) => {
      const rows: { id: string }[] = await em.query(
        `INSERT INTO api_keys (name, role, prefix, key_hash, is_bootstrap) VALUES ('bootstrap admin', 'admin', 'bootstrap', $1, true)
         ON CONFLICT (key_hash) DO NOTHING RETURNING id`,
        [hash],
      );
      if (rows.length) {
        await this.audit.record({ action: 'api_key.bootstrap_registered', entity_type: 'api_key', entity_id: rows[0].id, after: { role: 'admin', is_bootstrap: true } }, em);
        this.logger.log(`bootstrap admin key registered (id ${rows[0].id})`);
      }
      // A raw UPDATE … RETURNING through TypeORM's pg driver resolves to [rows, affectedCount].
      const [retired]: [{ id: string }[], number] = await em.query(
        `UPDATE api_keys SET revoked_at = now() WHERE is_bootstrap AND key_hash <> $1 AND revoked_at IS NULL RETURNING id`,
        [hash],
      );
      for (const r of retired) {
        await this.audit.record({ action: 'api_key.revoked', entity_type: 'api_key', entity_id: r.id, before: { revoked_at: null }, after: { reason: 'BOOTSTRAP_ADMIN_KEY rotated' } }, em);
        this.logger.log(`previous bootstrap admin key ${r.id} revoked (BOOTSTRAP_ADMIN_KEY changed)`);
      }
    });
  }

  /**
   * Creates a key with one role. @returns the view plus `key`, the secret, which is never shown again.
   */
  async create(input: { name: string; role: Role }, by: Principal | null, requestId?: string) {
    const prefix = `plk_${randomBytes(4).toString('hex')}`;
    const key = `${prefix}_${randomBytes(20).toString('base64url')}`;
    return this.dataSource.transaction(async (em) => {
      const [row]: KeyRow[] = await em.query(
        `INSERT INTO api_keys (name, role, prefix, key_hash, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${VIEW_COLUMNS}`,
        [input.name, input.role, prefix, hashApiKey(key), by?.id ?? null],
      );
      await this.audit.record(
        { actor: by, request_id: requestId, action: 'api_key.created', entity_type: 'api_key', entity_id: row.id, after: { name: row.name, role: row.role, prefix } },
        em,
      );
      return { ...row, key };
    });
  }

  async list(opts: { limit: number; offset: number; include_revoked?: boolean }) {
    const where = opts.include_revoked ? '' : 'WHERE revoked_at IS NULL';
    const items: KeyRow[] = await this.dataSource.query(
      `SELECT ${VIEW_COLUMNS} FROM api_keys ${where} ORDER BY created_at, id LIMIT $1 OFFSET $2`,
      [opts.limit, opts.offset],
    );
    const [{ n }] = await this.dataSource.query(`SELECT count(*)::int AS n FROM api_keys ${where}`);
    return { total: n, limit: opts.limit, offset: opts.offset, items };
  }

  /** Revokes a key (idempotent: a second revoke returns it unchanged). @throws API_KEY_NOT_FOUND */
  async revoke(id: string, by: Principal, requestId?: string): Promise<ApiKeyView> {
    return this.dataSource.transaction(async (em: EntityManager) => {
      const [before]: KeyRow[] = await em.query(`SELECT ${VIEW_COLUMNS} FROM api_keys WHERE id = $1 FOR UPDATE`, [id]);
      if (!before) throw new AppException('API_KEY_NOT_FOUND', `No API key with id ${id}`);
      if (before.revoked_at) return before;
      const [after]: KeyRow[] = await em.query(
        `UPDATE api_keys SET revoked_at = now(), revoked_by = $2 WHERE id = $1 RETURNING ${VIEW_COLUMNS}`,
        [id, by.id],
      );
      await this.audit.record(
        { actor: by, request_id: requestId, action: 'api_key.revoked', entity_type: 'api_key', entity_id: id, before: { revoked_at: null }, after: { revoked_at: after.revoked_at } },
        em,
      );
      return after;
    });
  }

  /** The principal of a presented key, or null when it is unknown or revoked. */
  async authenticate(presented: string): Promise<Principal | null> {
    if (presented.length > 512) return null;
    const rows: { id: string; name: string; role: Role; prefix: string }[] = await this.dataSource.query(
      `SELECT id, name, role, prefix FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [hashApiKey(presented)],
    );
    return rows[0] ?? null;
  }
}
