import type { Role } from './roles';

/**
 * Who is calling: the authenticated API key (never its secret). Set on the request by the API-key
 * guard; read by controllers, the audit trail and the lifecycle rules. Lives on the ground floor
 * (common/) so audit, pilots and governance can name the caller without importing auth/.
 */
export interface Principal {
  id: string;
  name: string;
  role: Role;
  prefix: string;
}

/** Who acts, and the request it came in with (for the audit trail). */
export interface Actor {
  key: Principal;
  requestId?: string;
}
