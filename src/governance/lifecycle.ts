import { AppException } from '../common/errors/app.exception';
import type { PilotStatus } from '../pilots/pilot.entity';

/**
 * The pilot lifecycle: draft → in_review → approved → running → stopped → concluded → archived.
 * Besides the main line, a reviewer can send a pilot back for changes before launch (in_review or
 * approved → draft; a later approval locks the plan again as a new version) and an abandoned draft
 * can be archived. Every other move is a 409 INVALID_STATE.
 */
export const TRANSITIONS = {
  submit: { from: ['draft'], to: 'in_review' },
  return: { from: ['in_review', 'approved'], to: 'draft' },
  approve: { from: ['in_review'], to: 'approved' },
  launch: { from: ['approved'], to: 'running' },
  stop: { from: ['running'], to: 'stopped' },
  conclude: { from: ['stopped'], to: 'concluded' },
  archive: { from: ['draft', 'concluded'], to: 'archived' },
} as const satisfies Record<string, { from: readonly PilotStatus[]; to: PilotStatus }>;

export type LifecycleAction = keyof typeof TRANSITIONS;
export const LIFECYCLE_ACTIONS = Object.keys(TRANSITIONS) as LifecycleAction[];

/**
 * The status `action` leads to from `from`.
 * @throws INVALID_STATE (409) naming the statuses the action is allowed from.
 */
export function nextStatus(action: LifecycleAction, from: PilotStatus): PilotStatus {
  const t = TRANSITIONS[action];
  if (!(t.from as readonly PilotStatus[]).includes(from)) {
    throw new AppException('INVALID_STATE', `Cannot ${action} a pilot that is ${from}; allowed from: ${t.from.join(', ')}`, {
      status: from,
      action,
      allowed_from: t.from,
    });
  }
  return t.to;
}

/** Statuses after approval in which the locked plan may be amended (with a new approval). */
export const AMENDABLE_STATUSES: readonly PilotStatus[] = ['approved', 'running', 'stopped'];
