import { SetMetadata } from '@nestjs/common';

export const AUDITED_IN_SERVICE = 'pilotlab:audited-in-service';

/**
 * Marks a mutating handler whose service writes its own, detailed audit events (with before/after),
 * so the generic AuditInterceptor does not add a second one.
 */
export const AuditedInService = () => SetMetadata(AUDITED_IN_SERVICE, true);
