import type { OpportunityStatus } from '../opportunity.entity';

const WON = ['won', 'closed won', 'closed-won', 'closed_won', 'closedwon'];
const LOST = ['lost', 'closed lost', 'closed-lost', 'closed_lost', 'closedlost'];
const OPEN = [
  'open', 'lead', 'prospecting', 'qualification', 'qualified', 'discovery', 'engaging', 'demo', 'proposal', 'negotiation', 'commit',
  // Salesforce's default sales process (the StageName picklist of a new org), as its Opportunity
  // and OpportunityFieldHistory exports spell them: Prospecting, Qualification, then these, then
  // Closed Won / Closed Lost
  'needs analysis', 'value proposition', 'id. decision makers', 'perception analysis', 'proposal/price quote', 'negotiation/review',
];

/** Every stage name PilotLab understands (case-insensitive). */
export const KNOWN_STAGES = [...OPEN, ...WON, ...LOST];

/**
 * Maps a CRM stage name to the deal status used by the KPIs. Unknown stages are rejected rather
 * than guessed. @returns null when the stage is not known.
 */
export function statusOfStage(stage: string): OpportunityStatus | null {
  const s = stage.trim().toLowerCase().replace(/\s+/g, ' ');
  if (WON.includes(s)) return 'won';
  if (LOST.includes(s)) return 'lost';
  if (OPEN.includes(s)) return 'open';
  return null;
}
