import { utcDateOf } from '../../common/utils/dates';
import { parseAmount, ParseResult } from '../ingestion/amount';
import { parseDay, parseInstant } from '../ingestion/dates';
import { statusOfStage } from '../ingestion/stage';
import type { OpportunityStatus } from '../opportunity.entity';

/** The opportunity fields whose history PilotLab rebuilds. */
export type HistoryField = 'stage' | 'amount' | 'close_date';

/**
 * One change of one field of one opportunity, normalised from any accepted history shape.
 * `newValue` is the canonical text: a stage name as written, an amount as a 2-decimal string
 * (currency units), a close date as `YYYY-MM-DD`; null = the field was cleared.
 */
export interface HistoryEvent {
  opportunityId: string;
  /** When the change was recorded in the CRM (an instant with a zone). */
  changedAt: Date;
  field: HistoryField;
  oldValue: string | null;
  newValue: string | null;
  /** The 1-based data row number in the uploaded file or JSON array. */
  row: number;
}

/** The state of one opportunity as it was known at an instant (null = not known then). */
export interface AsOfState {
  opportunity_id: string;
  stage: string | null;
  status: OpportunityStatus | null;
  amount: string | null;
  close_date: string | null;
  /** The latest change taken into account. */
  known_since: string;
}

export type AnomalyKind = 'stage_regression' | 'back_dated_close_date' | 'amount_edit_after_close';

/** A history row that a reader of as-of reports should know about (a warning, never a rejection). */
export interface HistoryAnomaly {
  row: number;
  opportunity_id: string;
  kind: AnomalyKind;
  reason: string;
}

type Cells = Record<string, unknown>;

/** Field names of the sources, lower-cased, to ours. */
const FIELD_NAMES: Record<string, HistoryField> = {
  stage: 'stage', stagename: 'stage', dealstage: 'stage',
  amount: 'amount',
  close_date: 'close_date', closedate: 'close_date',
};

/** Trimmed lower-case column names seen so far (a file repeats its header's names on every row). */
const LOWER_KEYS = new Map<string, string>();
const LOWER_KEYS_MAX = 1_000;

function lowerKeys(raw: Cells): Cells {
  const out: Cells = {};
  for (const k of Object.keys(raw)) {
    let lower = LOWER_KEYS.get(k);
    if (lower === undefined) {
      lower = k.trim().toLowerCase();
      if (LOWER_KEYS.size < LOWER_KEYS_MAX) LOWER_KEYS.set(k, lower);
    }
    out[lower] = raw[k];
  }
  return out;
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : null;
  return s === null || s === '' ? null : s;
}

/** Canonical text of one field value, or the reason it is not valid for that field. */
function canonical(field: HistoryField, raw: unknown, label: string): ParseResult<string | null> {
  if (text(raw) === null) return { ok: true, value: null };
  if (field === 'stage') {
    const s = text(raw) as string;
    return statusOfStage(s) ? { ok: true, value: s } : { ok: false, reason: `${label} '${s}' is not a known stage` };
  }
  if (field === 'amount') {
    const a = parseAmount(raw);
    return a.ok ? { ok: true, value: a.value?.text ?? null } : { ok: false, reason: `${label}: ${a.reason}` };
  }
  return parseDay(raw, label);
}

/**
 * Normalises one history record into field changes. Accepted shapes (column names
 * case-insensitive; the first that fits is used):
 * - Salesforce OpportunityFieldHistory: `OpportunityId, CreatedDate, Field, OldValue, NewValue`
 *   (`Field` = StageName, Amount or CloseDate; other fields are skipped: zero events);
 * - Salesforce OpportunityHistory: `OpportunityId, CreatedDate` and any of `StageName, Amount,
 *   CloseDate` (a snapshot at CreatedDate: one event per non-empty field, old value unknown);
 * - HubSpot property history: `dealId` (or `hs_object_id`), `property` (dealstage, amount,
 *   closedate), `value`, `timestamp`; dealstage values must be stage names (not pipeline ids);
 * - PilotLab: `opportunity_id, changed_at, field` (stage, amount, close_date), `old_value, new_value`.
 * Instants must carry a zone (pitfall P11); amounts and days are read like opportunity rows.
 * @param row the record's 1-based row number, copied into the events.
 * @returns the events, or every reason the record is rejected.
 */
export function parseHistoryRecord(raw: Cells, row: number): { ok: true; events: HistoryEvent[] } | { ok: false; reasons: string[] } {
  const r = lowerKeys(raw);
  const id = text(r.opportunity_id ?? r.opportunityid ?? r.dealid ?? r.hs_object_id);
  const at = parseInstant(r.changed_at ?? r.createddate ?? r.timestamp, 'changed_at');
  const reasons: string[] = [];
  if (!id) reasons.push('opportunity_id (OpportunityId, dealId) is required');
  else if (id.length > 128) reasons.push('opportunity_id is longer than 128 characters');
  if (!at.ok) reasons.push(at.reason);
  else if (!at.value) reasons.push('changed_at (CreatedDate, timestamp) is required');
  const changes: { field: HistoryField; old: unknown; new: unknown }[] = [];
  const fieldName = text(r.field ?? r.property);
  if (fieldName !== null) {
    const field = FIELD_NAMES[fieldName.toLowerCase()];
    if (!field && 'changed_at' in r) reasons.push(`field '${fieldName}' is not one of stage, amount, close_date`);
    else if (field) changes.push({ field, old: r.old_value ?? r.oldvalue, new: r.new_value ?? r.newvalue ?? r.value });
  } else {
    for (const [col, field] of [['stagename', 'stage'], ['amount', 'amount'], ['closedate', 'close_date']] as const) {
      if (text(r[col]) !== null) changes.push({ field, old: null, new: r[col] });
    }
    if (changes.length === 0) reasons.push('no field change: need Field/OldValue/NewValue, property/value, or StageName/Amount/CloseDate');
  }
  const events: HistoryEvent[] = [];
  for (const c of changes) {
    const o = canonical(c.field, c.old, `old ${c.field}`);
    const n = canonical(c.field, c.new, `new ${c.field}`);
    if (!o.ok) reasons.push(o.reason);
    if (!n.ok) reasons.push(n.reason);
    if (o.ok && n.ok && at.ok && at.value && id) {
      events.push({ opportunityId: id, changedAt: at.value, field: c.field, oldValue: o.value, newValue: n.value, row });
    }
  }
  // PostgreSQL text cannot hold U+0000: the row is refused here, not failed in the store (issue 15)
  if ((id && id.includes('\0')) || events.some((e) => e.oldValue?.includes('\0') || e.newValue?.includes('\0'))) {
    reasons.push('a value holds a NUL character (U+0000), which cannot be stored');
  }
  return reasons.length ? { ok: false, reasons } : { ok: true, events };
}

/** Event order: by changedAt, then by row (the later row of the same instant wins). */
export function compareEvents(a: HistoryEvent, b: HistoryEvent): number {
  return a.changedAt.getTime() - b.changedAt.getTime() || a.row - b.row;
}

/**
 * Rebuilds one opportunity's state as of an instant from its field history: each field takes the
 * new value of its latest change with `changedAt ≤ asOf` (ties: the later row).
 * @param events the changes of ONE opportunity, any order.
 * @returns null when nothing was known at `asOf` (no change yet).
 */
export function stateAsOf(events: HistoryEvent[], asOf: Date): AsOfState | null {
  const known = events.filter((e) => e.changedAt.getTime() <= asOf.getTime()).sort(compareEvents);
  if (known.length === 0) return null;
  const state: AsOfState = {
    opportunity_id: known[0].opportunityId, stage: null, status: null, amount: null, close_date: null,
    known_since: known[known.length - 1].changedAt.toISOString(),
  };
  for (const e of known) state[e.field] = e.newValue;
  state.status = state.stage === null ? null : statusOfStage(state.stage);
  return state;
}

/**
 * The anomalies of one opportunity's history, in event order:
 * - `stage_regression`: a closed deal (won or lost) moved to an open stage or to the other outcome;
 * - `back_dated_close_date`: a close date set (to a new value) to a day before the UTC day the
 *   change was recorded;
 * - `amount_edit_after_close`: the amount changed (to a new value) while the deal was already won
 *   or lost.
 * Repeated snapshot rows (OpportunityHistory) that restate an unchanged value are not anomalies.
 * @param events the changes of ONE opportunity, any order.
 */
export function historyAnomalies(events: HistoryEvent[]): HistoryAnomaly[] {
  const out: HistoryAnomaly[] = [];
  let status: OpportunityStatus | null = null;
  let amount: string | null = null;
  let closeDate: string | null = null;
  for (const e of [...events].sort(compareEvents)) {
    const base = { row: e.row, opportunity_id: e.opportunityId };
    if (e.field === 'stage') {
      const next = e.newValue === null ? null : statusOfStage(e.newValue);
      if ((status === 'won' || status === 'lost') && next !== status) {
        out.push({ ...base, kind: 'stage_regression', reason: `stage went from a ${status} deal to '${e.newValue ?? ''}' (${next ?? 'cleared'}) at ${e.changedAt.toISOString()}` });
      }
      status = next;
    } else if (e.field === 'close_date') {
      const day = utcDateOf(e.changedAt);
      if (e.newValue !== null && e.newValue !== closeDate && e.newValue < day) {
        out.push({ ...base, kind: 'back_dated_close_date', reason: `close date set to ${e.newValue}, before the day of the change (${day})` });
      }
      closeDate = e.newValue;
    } else {
      if ((status === 'won' || status === 'lost') && e.newValue !== amount) {
        out.push({ ...base, kind: 'amount_edit_after_close', reason: `amount changed from ${amount ?? e.oldValue ?? 'unknown'} to ${e.newValue ?? 'empty'} after the deal was ${status}` });
      }
      amount = e.newValue;
    }
  }
  return out;
}

/** Revenue won and deal counts of a set of as-of states (amounts in currency units). */
export interface AsOfKpis {
  deals: number;
  won: number;
  lost: number;
  open: number;
  /** Σ amount of won deals whose close date is on or before the as-of day. */
  revenue_won: number;
  /** revenue_won / won; null without won deals. */
  average_deal_size: number | null;
  /** won / (won + lost); null without closed deals. */
  win_rate: number | null;
}

/**
 * KPIs of the deals as they were known at `asOf` (docs/kpis.md definitions: revenue won, average
 * deal size = revenue won / won deals, win rate = won / closed): every opportunity is rebuilt with
 * {@link stateAsOf}, then counted by {@link kpisOfStates}.
 * @param events the changes of any number of opportunities, any order.
 */
export function kpisAsOf(events: HistoryEvent[], asOf: Date): AsOfKpis {
  const byOpp = new Map<string, HistoryEvent[]>();
  for (const e of events) byOpp.set(e.opportunityId, [...(byOpp.get(e.opportunityId) ?? []), e]);
  const states = [...byOpp.values()].map((evs) => stateAsOf(evs, asOf)).filter((s): s is AsOfState => s !== null);
  return kpisOfStates(states, asOf);
}

/**
 * KPIs of opportunity states as known at `asOf` (from {@link stateAsOf} or the SQL function
 * `opportunity_history_as_of`, migration 1766820000000): a state without a stage is left out; a
 * deal counts as closed only when its stage was closed and its close date (if known) was on or
 * before the as-of UTC day. Amounts are 2-decimal texts, summed exactly in cents.
 */
export function kpisOfStates(states: Pick<AsOfState, 'status' | 'amount' | 'close_date'>[], asOf: Date): AsOfKpis {
  const day = utcDateOf(asOf);
  const k: AsOfKpis = { deals: 0, won: 0, lost: 0, open: 0, revenue_won: 0, average_deal_size: null, win_rate: null };
  let cents = 0n;
  for (const s of states) {
    if (s.status === null) continue;
    k.deals += 1;
    const closed = s.status !== 'open' && (s.close_date === null || s.close_date <= day);
    if (closed && s.status === 'won') {
      k.won += 1;
      cents += s.amount === null ? 0n : BigInt(s.amount.replace('.', '')); // exact: 2-decimal text
    } else if (closed && s.status === 'lost') k.lost += 1;
    else k.open += 1;
  }
  k.revenue_won = Number(cents) / 100;
  k.average_deal_size = k.won > 0 ? k.revenue_won / k.won : null;
  k.win_rate = k.won + k.lost > 0 ? k.won / (k.won + k.lost) : null;
  return k;
}
