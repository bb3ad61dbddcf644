import { parseAmount } from '../opportunities/ingestion/amount';
import { statusOfStage } from '../opportunities/ingestion/stage';

/** The fields of a CRM row the planted-effect check touches (cells as strings). */
export interface CrmRowLike {
  sales_agent: string;
  deal_stage: string;
  engage_date: string;
  close_value: string;
}

/**
 * Plants a multiplicative effect: every WON deal of a treatment territory engaged inside the test
 * window gets its amount × (1 + lift), rounded to cents. Revenue won per treatment territory then
 * scales by exactly (1 + lift) when the amounts are whole cents after scaling (integer amounts and
 * lift 0.15, as in the CRM sample), so the revenue-won relative lift becomes
 * (1 + lift) × (1 + A/A lift) − 1: a check of the whole pipeline (a standard planted-effect test).
 * @returns new rows (inputs are not mutated) and how many amounts were changed
 */
export function plantLift<T extends CrmRowLike>(
  rows: readonly T[],
  treatmentTerritories: ReadonlySet<string>,
  window: { start: string; end: string },
  lift: number,
): { rows: T[]; changed: number } {
  if (!(lift > -1) || !Number.isFinite(lift)) throw new RangeError(`lift must be a finite number > -1, got ${lift}`);
  let changed = 0;
  const out = rows.map((r) => {
    const won = statusOfStage(r.deal_stage) === 'won';
    const inWindow = r.engage_date >= window.start && r.engage_date <= window.end;
    if (!won || !inWindow || !treatmentTerritories.has(r.sales_agent)) return r;
    const amount = parseAmount(r.close_value);
    if (!amount.ok || amount.value === null) return r;
    changed++;
    const cents = Math.round(amount.value.value * 100 * (1 + lift));
    return { ...r, close_value: (cents / 100).toFixed(2) };
  });
  return { rows: out, changed };
}
