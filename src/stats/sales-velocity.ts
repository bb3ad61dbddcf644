/**
 * Per-territory sales KPIs over a window, cohort definition (shared/reference/sales_velocity.json,
 * the spec; docs: shared/guide/domain.md "KPIs from opportunity records"):
 *  - window [start, end] inclusive, ISO calendar dates 'YYYY-MM-DD' (no time, no time zone); dates
 *    are compared as strings and day differences are whole UTC days (Date.UTC), never local time;
 *  - cohort: opportunities with start ≤ engage_date ≤ end (won, lost and open); a null engage_date is
 *    never in a cohort and counts as excluded;
 *  - closed: status won/lost AND close_date ≤ end (a deal closing later, or with no close date, is
 *    open at the end of the window);
 *  - win rate = won/closed (null if closed = 0); average won deal size = won amount/won (null if
 *    won = 0); average cycle = mean whole days engage → close over closed deals (null if closed = 0);
 *  - sales velocity = N × win rate × average deal size / average cycle, currency per day; null if
 *    closed = 0 or cycle = 0; 0 if closed > 0 and won = 0.
 */

/** One CRM opportunity of a territory. Amount in currency units; dates 'YYYY-MM-DD'. */
export interface Opportunity {
  id: string;
  engage_date: string | null;
  close_date: string | null;
  status: 'won' | 'lost' | 'open';
  amount: number | null;
}

/** A KPI window: inclusive calendar dates 'YYYY-MM-DD'. */
export interface KpiWindow {
  start: string;
  end: string;
}

/** SQL-style aggregates of a territory's cohort (the app computes these sums in SQL). */
export interface CohortAggregates {
  /** cohort size (engaged inside the window) */
  n_opportunities: number;
  /** won or lost with close_date ≤ window end */
  n_closed: number;
  n_won: number;
  n_lost: number;
  /** sum of amounts of the won closed deals (currency) */
  won_amount_total: number;
  /** sum over closed deals of (close_date − engage_date) in whole days */
  cycle_days_total: number;
}

/** Territory KPIs derived from the cohort aggregates. */
export interface CohortKpis {
  n_opportunities: number;
  n_closed: number;
  n_won: number;
  n_lost: number;
  /** n_opportunities − n_closed (right-censored at the window end) */
  n_open: number;
  /** fraction 0..1; null if n_closed = 0 */
  win_rate: number | null;
  /** currency; null if n_won = 0 */
  avg_won_deal_size: number | null;
  /** days; null if n_closed = 0 */
  avg_cycle_days: number | null;
  /** currency per day; null if n_closed = 0 or avg_cycle_days = 0 */
  velocity: number | null;
  /** currency */
  won_amount_total: number;
}

/** KPIs computed from an opportunity list: the aggregates' KPIs plus the exclusion count. */
export interface TerritoryKpis extends CohortKpis {
  /** opportunities not in the cohort: engaged before/after the window or with no engage date */
  n_excluded_outside_window: number;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whole days since 1970-01-01 of a valid ISO calendar date; throws on an impossible date. */
function epochDay(date: string, what: string): number {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`${what} must be an ISO date 'YYYY-MM-DD', got '${date}'`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new RangeError(`${what} is not a calendar date: '${date}'`);
  }
  return Math.round(ms / 86_400_000);
}

function assertCount(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

/**
 * Derives the territory KPIs from SQL-style cohort aggregates: the ONE definition of win rate,
 * average deal size, cycle length and sales velocity (computeTerritoryKpis calls this too).
 * Velocity = n_opportunities × win_rate × avg_won_deal_size / avg_cycle_days (currency per day).
 *
 * @param agg counts (non-negative integers, n_won + n_lost = n_closed ≤ n_opportunities) and sums
 *   (won_amount_total in currency, cycle_days_total in days, both finite; numbers, not pg strings)
 * @throws RangeError when the aggregates are inconsistent or not finite
 */
export function kpisFromAggregates(agg: CohortAggregates): CohortKpis {
  const { n_opportunities, n_closed, n_won, n_lost, won_amount_total, cycle_days_total } = agg;
  assertCount('n_opportunities', n_opportunities);
  assertCount('n_closed', n_closed);
  assertCount('n_won', n_won);
  assertCount('n_lost', n_lost);
  if (n_won + n_lost !== n_closed) throw new RangeError(`n_won + n_lost (${n_won + n_lost}) must equal n_closed (${n_closed})`);
  if (n_closed > n_opportunities) throw new RangeError(`n_closed (${n_closed}) exceeds n_opportunities (${n_opportunities})`);
  if (typeof won_amount_total !== 'number' || !Number.isFinite(won_amount_total)) {
    throw new RangeError(`won_amount_total must be a finite number, got ${String(won_amount_total)}`);
  }
  if (typeof cycle_days_total !== 'number' || !Number.isFinite(cycle_days_total) || cycle_days_total < 0) {
    throw new RangeError(`cycle_days_total must be a finite non-negative number, got ${String(cycle_days_total)}`);
  }
  const win_rate = n_closed > 0 ? n_won / n_closed : null;
  const avg_won_deal_size = n_won > 0 ? won_amount_total / n_won : null;
  const avg_cycle_days = n_closed > 0 ? cycle_days_total / n_closed : null;
  let velocity: number | null = null;
  if (win_rate !== null && avg_cycle_days !== null && avg_cycle_days > 0) {
    velocity = n_won === 0 ? 0 : (n_opportunities * win_rate * (avg_won_deal_size as number)) / avg_cycle_days;
  }
  return {
    n_opportunities,
    n_closed,
    n_won,
    n_lost,
    n_open: n_opportunities - n_closed,
    win_rate,
    avg_won_deal_size,
    avg_cycle_days,
    velocity,
    won_amount_total,
  };
}

/**
 * Computes a territory's cohort KPIs over a window from its opportunity list (the in-memory twin of
 * the app's SQL aggregation; both end in `kpisFromAggregates`). Reference: the plain-Python
 * implementation of sales_velocity.json, verified by an independent pandas one.
 *
 * @param opportunities the territory's opportunities; dates 'YYYY-MM-DD' or null, amount in currency
 * @param window inclusive [start, end] ISO dates
 * @throws RangeError on a malformed or impossible date, start > end, a closed deal whose close date
 *   precedes its engage date, or a won closed deal with no finite amount
 */
export function computeTerritoryKpis(opportunities: readonly Opportunity[], window: KpiWindow): TerritoryKpis {
  epochDay(window.start, 'window.start');
  epochDay(window.end, 'window.end');
  if (window.start > window.end) throw new RangeError(`window.start ${window.start} is after window.end ${window.end}`);
  let excluded = 0;
  let n_opportunities = 0;
  let n_won = 0;
  let n_lost = 0;
  let won_amount_total = 0;
  let cycle_days_total = 0;
  for (const o of opportunities) {
    if (o.engage_date === null) {
      excluded++;
      continue;
    }
    const engageDay = epochDay(o.engage_date, `engage_date of ${o.id}`);
    if (o.engage_date < window.start || o.engage_date > window.end) {
      excluded++;
      continue;
    }
    n_opportunities++;
    if (o.status === 'open' || o.close_date === null) continue;
    const closeDay = epochDay(o.close_date, `close_date of ${o.id}`);
    if (o.close_date > window.end) continue; // closes after the window: open at the cut-off
    const cycle = closeDay - engageDay;
    if (cycle < 0) throw new RangeError(`opportunity ${o.id} closes (${o.close_date}) before it was engaged (${o.engage_date})`);
    cycle_days_total += cycle;
    if (o.status === 'won') {
      if (typeof o.amount !== 'number' || !Number.isFinite(o.amount)) {
        throw new RangeError(`won opportunity ${o.id} has no amount`);
      }
      n_won++;
      won_amount_total += o.amount;
    } else if (o.status === 'lost') {
      n_lost++;
    } else {
      throw new RangeError(`opportunity ${o.id} has unknown status '${String(o.status)}'`);
    }
  }
  const kpis = kpisFromAggregates({
    n_opportunities,
    n_closed: n_won + n_lost,
    n_won,
    n_lost,
    won_amount_total,
    cycle_days_total,
  });
  return { ...kpis, n_excluded_outside_window: excluded };
}
