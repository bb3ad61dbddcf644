import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppException } from '../common/errors/app.exception';
import type { Principal } from '../common/auth/principal';
import { ApiKeyService } from './api-key.service';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { PUBLIC_METADATA, Role, ROLES_METADATA } from '../common/auth/roles';

/** The key a request presents: `x-api-key`, or `Authorization: Bearer <key>`. */
export function presentedKey(req: Pick<Request, 'headers'>): string | null {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return null;
}

/**
 * Global guard: every route needs a valid, unrevoked key unless marked @Public(); then the key's
 * role must be listed in the handler's @Roles(...) (admin always passes). A route without a rule
 * is admin-only (fail closed). 401 UNAUTHENTICATED, 403 FORBIDDEN; failed authentications are
 * limited per client address and globally (AuthFailureLimiter: 429 RATE_LIMITED with Retry-After).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
    private readonly failures: AuthFailureLimiter,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { apiKey?: Principal }>();
    const principal = await this.withRetryAfter(ctx.switchToHttp().getResponse<Response>(), () => this.authenticate(req));
    req.apiKey = principal;
    if (principal.role === 'admin') return true;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_METADATA, targets);
    if (!roles) {
      throw new AppException('FORBIDDEN', 'This route has no access rule; only admin keys may call it', { role: principal.role, allowed_roles: ['admin'] });
    }
    if (!roles.includes(principal.role)) {
      throw new AppException('FORBIDDEN', `A ${principal.role} key may not call this route`, {
        role: principal.role,
        allowed_roles: ['admin', ...roles.filter((r) => r !== 'admin')],
      });
    }
    return true;
  }

  /** The key's principal, counting a failure against the client address. @throws UNAUTHENTICATED, RATE_LIMITED */
  private async authenticate(req: Request): Promise<Principal> {
    const address = String(req.ip ?? req.socket?.remoteAddress ?? 'unknown');
    await this.failures.assertAddressAllowed(address);
    const presented = presentedKey(req);
    const principal = presented ? await this.keys.authenticate(presented) : null;
    if (principal) return principal;
    await this.failures.recordFailure(address);
    if (!presented) throw new AppException('UNAUTHENTICATED', 'An API key is required: send it in the x-api-key header (or Authorization: Bearer)');
    throw new AppException('UNAUTHENTICATED', 'The API key is unknown or has been revoked');
  }

  /** Runs `work`; a RATE_LIMITED refusal gets its Retry-After header (seconds), as the request limiter's does. */
  private async withRetryAfter<T>(res: Response, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const retry = err instanceof AppException && err.code === 'RATE_LIMITED' ? (err.details as { retry_after_s?: number } | undefined)?.retry_after_s : undefined;
      if (retry !== undefined && !res.headersSent) res.setHeader('Retry-After', String(retry));
      throw err;
    }
  }
}
