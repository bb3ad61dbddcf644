import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

/** The four roles of an API key (one role per key). */
export const ROLES = ['admin', 'sales_ops', 'experimenter', 'analyst'] as const;
export type Role = (typeof ROLES)[number];
/** Each role in words, for text a reader sees (the codes stay in JSON bodies and audit records). */
export const ROLE_LABELS: Readonly<Record<Role, string>> = { admin: 'admin', sales_ops: 'sales ops', experimenter: 'experimenter', analyst: 'analyst' };

/** Every role: for reads open to any key holder. */
export const ALL_ROLES: readonly Role[] = ROLES;

export const ROLES_METADATA = 'pilotlab:roles';
export const PUBLIC_METADATA = 'pilotlab:public';

/**
 * The access rule of a route handler: the roles whose keys may call it. `admin` is always allowed
 * (whether listed or not). A handler without `@Roles` or `@Public` is admin-only at run time and
 * fails the permission-matrix test. Put it on the handler (method); a class-level rule is a
 * fallback for handlers without their own.
 */
export const Roles = (...roles: Role[]) =>
  applyDecorators(SetMetadata(ROLES_METADATA, roles), ApiSecurity('api-key'));

/** Marks a handler as callable without a key (health and docs only). */
export const Public = () => SetMetadata(PUBLIC_METADATA, true);
