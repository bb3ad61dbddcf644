import { readFileSync } from 'fs';
import { join } from 'path';
import Papa from 'papaparse';
import { HistoryEvent, historyAnomalies, kpisAsOf, parseHistoryRecord, stateAsOf } from './field-history';

const DIR = join(__dirname, '../../../test/fixtures/imports');
// Expected values: the second route in Python (salesforce-field-history-expected.py beside the fixture).
const expected = JSON.parse(readFileSync(join(DIR, 'salesforce-field-history-expected.json'), 'utf8'));

function load(): { events: HistoryEvent[]; rejected: number[] } {
  const csv = readFileSync(join(DIR, 'salesforce-opportunity-field-history.csv'), 'utf8');
  const rows = Papa.parse<Record<string, string>>(csv, { header: true, skipEmptyLines: true }).data;
  const events: HistoryEvent[] = [];
  const rejected: number[] = [];
  rows.forEach((r, i) => {
    const res = parseHistoryRecord(r, i + 1);
    if (res.ok) events.push(...res.events);
    else rejected.push(i + 1);
  });
  return { events, rejected };
}

describe('field history (Salesforce OpportunityFieldHistory fixture, Python second route)', () => {
  const { events, rejected } = load();
  const ids = [...new Set(events.map((e) => e.opportunityId))].sort();

  it('rejects the rows without a zone, with an unknown stage or a 3-decimal amount, skips other fields', () => {
    expect(rejected).toEqual(expected.rejected_rows);
    expect(events.some((e) => e.row === 26)).toBe(false); // Description: skipped, not rejected
  });

  it("reads the stage changes of Salesforce's default sales process (Negotiation/Review, Proposal/Price Quote, …)", () => {
    const res = parseHistoryRecord({ OpportunityId: '006X', CreatedDate: '2024-03-01T17:30:00Z', Field: 'StageName', OldValue: 'Negotiation/Review', NewValue: 'Closed Won' }, 1);
    expect(res).toEqual({ ok: true, events: [expect.objectContaining({ field: 'stage', oldValue: 'Negotiation/Review', newValue: 'Closed Won' })] });
    const open = parseHistoryRecord({ OpportunityId: '006X', CreatedDate: '2024-02-01T17:30:00Z', Field: 'StageName', OldValue: 'Id. Decision Makers', NewValue: 'Proposal/Price Quote' }, 2);
    expect(open.ok).toBe(true);
  });

  it.each(Object.keys(expected.states))('rebuilds every opportunity as of %s', (asOf) => {
    for (const id of ids) {
      const got = stateAsOf(events.filter((e) => e.opportunityId === id), new Date(asOf));
      expect({ id, got }).toEqual({ id, got: expected.states[asOf][id] === null ? null : expect.objectContaining(expected.states[asOf][id]) });
    }
  });

  it.each(Object.keys(expected.kpis))('computes revenue won, deal size and win rate as of %s', (asOf) => {
    const got = kpisAsOf(events, new Date(asOf));
    const want = expected.kpis[asOf];
    expect({ ...got, average_deal_size: null, win_rate: null }).toEqual({ ...want, average_deal_size: null, win_rate: null });
    for (const k of ['average_deal_size', 'win_rate'] as const) {
      if (want[k] === null) expect(got[k]).toBeNull();
      else expect(got[k]).toBeCloseTo(want[k], 9);
    }
  });

  it('reports a regression, a back-dated close date and an amount edit after close with their rows', () => {
    const got = ids.flatMap((id) => historyAnomalies(events.filter((e) => e.opportunityId === id)));
    expect(got.map(({ row, opportunity_id, kind }) => ({ row, opportunity_id, kind }))).toEqual(expected.anomalies);
    expect(got.every((a) => a.reason.length > 0)).toBe(true);
  });
});

describe('parseHistoryRecord shapes', () => {
  it('reads a Salesforce OpportunityHistory snapshot, a HubSpot property change and our own format alike', () => {
    const sf = parseHistoryRecord({ OpportunityId: 'X', CreatedDate: '2024-01-01T00:00:00Z', StageName: 'Closed Won', Amount: '100', CloseDate: '2024-01-01' }, 1);
    const hs = parseHistoryRecord({ dealId: 'X', property: 'amount', value: '100', timestamp: '2024-01-01T00:00:00Z' }, 2);
    const own = parseHistoryRecord({ opportunity_id: 'X', changed_at: '2024-01-01T00:00:00Z', field: 'stage', old_value: '', new_value: 'won' }, 3);
    expect(sf.ok && sf.events.map((e) => [e.field, e.newValue])).toEqual([['stage', 'Closed Won'], ['amount', '100.00'], ['close_date', '2024-01-01']]);
    expect(hs.ok && hs.events.map((e) => [e.field, e.newValue, e.row])).toEqual([['amount', '100.00', 2]]);
    expect(own.ok && own.events.map((e) => [e.field, e.newValue])).toEqual([['stage', 'won']]);
  });

  it('rejects an unknown field in our own format and a record without an id, with reasons', () => {
    const bad = parseHistoryRecord({ opportunity_id: 'X', changed_at: '2024-01-01T00:00:00Z', field: 'owner', new_value: 'a' }, 1);
    const noId = parseHistoryRecord({ CreatedDate: '2024-01-01T00:00:00Z', StageName: 'Prospecting' }, 2);
    expect(bad.ok ? [] : bad.reasons).toEqual([expect.stringContaining("field 'owner'")]);
    expect(noId.ok ? [] : noId.reasons).toEqual([expect.stringContaining('opportunity_id')]);
  });

  it('does not flag OpportunityHistory snapshots that restate an unchanged amount and close date after close', () => {
    const snap = (at: string, stage: string, amount: string, row: number) =>
      parseHistoryRecord({ OpportunityId: 'X', CreatedDate: at, StageName: stage, Amount: amount, CloseDate: '2024-01-10' }, row);
    const rows = [snap('2024-01-01T00:00:00Z', 'Prospecting', '100', 1), snap('2024-01-10T12:00:00Z', 'Closed Won', '100', 2),
      snap('2024-02-01T00:00:00Z', 'Closed Won', '100', 3), snap('2024-02-02T00:00:00Z', 'Closed Won', '150', 4)];
    const events = rows.flatMap((r) => (r.ok ? r.events : []));
    expect(historyAnomalies(events).map((a) => [a.row, a.kind])).toEqual([[4, 'amount_edit_after_close']]);
  });

  it('is not known before its first change', () => {
    const r = parseHistoryRecord({ OpportunityId: 'X', CreatedDate: '2024-05-01T00:00:00Z', StageName: 'Prospecting' }, 1);
    expect(r.ok && stateAsOf(r.events, new Date('2024-04-30T23:59:59Z'))).toBeNull();
  });
});
