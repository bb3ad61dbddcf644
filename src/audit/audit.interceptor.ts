import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { mergeMap, Observable } from 'rxjs';
import type { Principal } from '../common/auth/principal';
import { AUDITED_IN_SERVICE } from './audit.decorator';
import { AuditService } from './audit.service';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The top-level scalar fields of a response (ids, statuses, counts, hashes) and short arrays of
 * scalars: what an audit reader needs, without copying whole assignments or reports.
 */
export function auditSummary(body: unknown): Record<string, unknown> | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return Array.isArray(body) ? { items: body.length } : null;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'key') continue; // never an API key secret
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = typeof v === 'string' ? v.slice(0, 500) : v;
    else if (v instanceof Date) out[k] = v.toISOString();
    else if (Array.isArray(v) && v.length <= 50 && v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x))) out[k] = v;
  }
  return out;
}

/**
 * Records every successful mutating request (POST/PUT/PATCH/DELETE) in the audit trail, before the
 * response is sent: who (key), what (`METHOD /route/:pattern`), on which entity (first path
 * segment, `:id`), and a summary of the result. Handlers marked @AuditedInService() write their own
 * detailed events instead (lifecycle, keys, plans).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request & { apiKey?: Principal; id?: unknown }>();
    if (!MUTATING.has(req.method)) return next.handle();
    if (this.reflector.getAllAndOverride<boolean>(AUDITED_IN_SERVICE, [ctx.getHandler(), ctx.getClass()])) return next.handle();
    return next.handle().pipe(
      mergeMap(async (body) => {
        const route: string = (req.route?.path as string | undefined) ?? req.path;
        const segment = route.split('/').filter(Boolean)[0] ?? 'unknown';
        const id = typeof req.params?.id === 'string' ? req.params.id : null;
        const pilotId = segment === 'pilots' && id && UUID.test(id) ? id : null;
        const summary = auditSummary(body);
        const entityId = id ?? (summary && (summary.id ?? summary.batch_id ?? summary.report_id)) ?? null;
        await this.audit.record({
          actor: req.apiKey ?? null,
          action: `${req.method} ${route}`,
          entity_type: segment,
          entity_id: entityId === null ? null : String(entityId),
          pilot_id: pilotId ?? (typeof summary?.pilot_id === 'string' && UUID.test(summary.pilot_id) ? summary.pilot_id : null),
          request_id: req.id === undefined ? null : String(req.id),
          after: summary,
        });
        return body;
      }),
    );
  }
}
