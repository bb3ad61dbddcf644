import { resolveColumnMapping as resolveColumnMappingForTest } from './column-mapping';
import { parseCsvBuffer as parseCsvBufferForTest } from '../../common/utils/csv';
import { AppException } from '../../common/errors/app.exception';
import { parseAmount } from './amount';
import { DEFAULT_HEADER_ALIASES, mapRecord, resolveColumnMapping, rowMapper } from './column-mapping';
import { parseDay, parseInstant } from './dates';
import { CANONICAL_FIELDS, parseOpportunityRow, RawOpportunityRow } from './opportunity-row.parser';
import { KNOWN_STAGES, statusOfStage } from './stage';
import { localOffsetMinutes, withTimeZone } from '../../../test/factories/time-zone';

/** The row parsers in isolation: every value here is fixed by pitfalls.md or the domain rules. */

describe('parseAmount (pitfall P19: currency strings are never truncated)', () => {
  it.each([
    ['$1,000,000.00', '1000000.00', 1000000],
    ['1,200', '1200.00', 1200],
    ['(1,500.00)', '-1500.00', -1500],
    ['$1,200.00', '1200.00', 1200],
    ['1200.5', '1200.50', 1200.5],
    ['1200.75', '1200.75', 1200.75],
    ['-$5', '-5.00', -5],
    ['€12.3', '12.30', 12.3],
    ['  7 ', '7.00', 7],
  ])('%j → %s', (raw, text, value) => {
    expect(parseAmount(raw)).toEqual({ ok: true, value: { text, value } });
  });

  it('takes JSON numbers exactly (1200.75 stays 1200.75, 99.25 stays 99.25)', () => {
    expect(parseAmount(1200.75)).toEqual({ ok: true, value: { text: '1200.75', value: 1200.75 } });
    expect(parseAmount(99.25)).toEqual({ ok: true, value: { text: '99.25', value: 99.25 } });
    expect(parseAmount(0)).toEqual({ ok: true, value: { text: '0.00', value: 0 } });
  });

  it.each([[''], ['   '], [null], [undefined]])('%j is missing (null), never 0', (raw) => {
    expect(parseAmount(raw)).toEqual({ ok: true, value: null });
  });

  it.each([
    ['12abc', "amount '12abc' is not a number"],
    ['1.2.3', "amount '1.2.3' is not a number"],
    ['1,20', "amount '1,20' is not a number"],
    ['1,2000', "amount '1,2000' is not a number"],
    ['abc', "amount 'abc' is not a number"],
    ['1e3', "amount '1e3' is not a number"],
    ['€1.234,50', "amount '€1.234,50' is not a number"],
    ['.5', "amount '.5' is not a number"],
    ['(5', "amount '(5' has unbalanced parentheses"],
    ['(-5)', "amount '(-5)' has both parentheses and a sign"],
    ['1.005', "amount '1.005' has more than 2 decimal places"],
    ['123456789012345', "amount '123456789012345' is too large (at most 14 digits before the point)"],
  ])('%j is rejected with a reason (never a truncated number)', (raw, reason) => {
    expect(parseAmount(raw)).toEqual({ ok: false, reason });
  });

  it('rejects non-finite numbers and other JSON types', () => {
    expect(parseAmount(Number.NaN)).toEqual({ ok: false, reason: 'amount NaN is not a finite number' });
    expect(parseAmount(Number.POSITIVE_INFINITY)).toEqual({ ok: false, reason: 'amount Infinity is not a finite number' });
    expect(parseAmount(true)).toEqual({ ok: false, reason: 'amount must be a string or a number' });
  });

  it('never rounds a JSON number: 1e-7 and 0.1 + 0.2 are rejected, not stored as 0.00 / 0.30', () => {
    expect(parseAmount(1e-7)).toEqual({ ok: false, reason: 'amount 1e-7 has more than 2 decimal places' });
    expect(parseAmount(0.1 + 0.2)).toEqual({ ok: false, reason: "amount '0.30000000000000004' has more than 2 decimal places" });
    expect(parseAmount(1e21)).toEqual({ ok: false, reason: "amount '1e+21' is not a number" });
  });
});

describe('parseDay / parseInstant (pitfalls P11, P12: no local-time Date anywhere)', () => {
  it('keeps a real calendar day as the same string', () => {
    expect(parseDay('2024-03-31', 'close_date')).toEqual({ ok: true, value: '2024-03-31' });
    expect(parseDay('2024-02-29', 'close_date')).toEqual({ ok: true, value: '2024-02-29' });
  });

  it.each(['2024-02-30', '2023-02-29', '2024-13-01', '2024-04-31', '10/20/2016', '2024-3-1', '20240331', 'yesterday'])(
    'rejects %j as a day, with a reason naming the field',
    (raw) => {
      expect(parseDay(raw, 'close_date')).toEqual({
        ok: false,
        reason: `close_date '${raw}' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)`,
      });
    },
  );

  it('reduces a zoned instant to its UTC day', () => {
    expect(parseDay('2024-03-31T23:30:00Z', 'close_date')).toEqual({ ok: true, value: '2024-03-31' });
    expect(parseDay('2024-03-31T23:30:00-05:00', 'close_date')).toEqual({ ok: true, value: '2024-04-01' });
    expect(parseDay('2024-04-01T00:30:00+02:00', 'close_date')).toEqual({ ok: true, value: '2024-03-31' });
  });

  it('rejects a timestamp without a zone (its day depends on the server TZ)', () => {
    expect(parseDay('2024-03-31T23:30:00', 'engage_date')).toEqual({
      ok: false,
      reason: "engage_date '2024-03-31T23:30:00' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)",
    });
    expect(parseInstant('2024-03-31T23:30:00', 'created_at')).toEqual({
      ok: false,
      reason: "created_at '2024-03-31T23:30:00' is not an ISO timestamp with a zone (e.g. 2024-03-31T23:30:00Z)",
    });
  });

  it('parses instants with a zone to the exact UTC instant', () => {
    const z = parseInstant('2024-03-31T23:30:00Z', 'created_at');
    const ny = parseInstant('2024-03-31T23:30:00-05:00', 'created_at');
    expect(z.ok && z.value?.toISOString()).toBe('2024-03-31T23:30:00.000Z');
    expect(ny.ok && ny.value?.toISOString()).toBe('2024-04-01T04:30:00.000Z');
  });

  it.each(['2024-02-30T10:00:00Z', '2024-03-31T24:00:00Z', '2024-03-31T23:60:00Z', '2024-03-31', '10/20/2016 10:00'])(
    'rejects %j as an instant',
    (raw) => {
      expect(parseInstant(raw, 'created_at')).toEqual({
        ok: false,
        reason: `created_at '${raw}' is not an ISO timestamp with a zone (e.g. 2024-03-31T23:30:00Z)`,
      });
    },
  );

  it('reads every year from the text itself: no two-digit-year mapping (Date.UTC(25, …) is 1925), no shift', () => {
    expect(parseDay('1900-01-01', 'close_date')).toEqual({ ok: true, value: '1900-01-01' });
    expect(parseDay('1925-03-04', 'close_date')).toEqual({ ok: true, value: '1925-03-04' });
    expect(parseDay('9999-12-31', 'close_date')).toEqual({ ok: true, value: '9999-12-31' });
    const old = parseInstant('1901-03-04T10:00:00+01:00', 'created_at');
    expect(old.ok && old.value?.toISOString()).toBe('1901-03-04T09:00:00.000Z');
    // Written before 1900, but its UTC instant is in 1900: the UTC day is what is stored.
    expect(parseDay('1899-12-31T23:30:00-02:00', 'close_date')).toEqual({ ok: true, value: '1900-01-01' });
  });

  it.each([
    ['0025-03-04', 'a day', '0025'],
    ['1899-12-31', 'a day', '1899'],
    ['0099-12-31', 'a day', '0099'],
    ['0000-01-01', 'a day', '0000'], // PostgreSQL has no year 0: this failed the whole batch
    ['0025-03-04T10:00:00Z', 'an instant', '0025'],
    ['0001-01-01T00:30:00+01:00', 'an instant', '0000'], // UTC 0000-12-31: its ISO text was sliced to "0000-12-31"
    ['0000-01-01T00:30:00+01:00', 'an instant', '-1'], // UTC -000001-12-31: sliced to "-000001-12", silently
  ])('rejects the implausible CRM day %j (%s before 1900) with the reason, never a shifted or mis-read day', (raw, what, year) => {
    expect(parseDay(raw, 'engage_date')).toEqual({
      ok: false,
      reason: `engage_date '${raw}' is ${what} before 1900 (year ${year}): not a plausible CRM date; check the year`,
    });
  });

  it('rejects instants before 1900 or past 9999 (UTC) with the reason; never a five-digit or negative year', () => {
    expect(parseInstant('0025-03-04T10:00:00Z', 'created_at')).toEqual({
      ok: false,
      reason: "created_at '0025-03-04T10:00:00Z' is an instant before 1900 (year 0025): not a plausible CRM date; check the year",
    });
    expect(parseInstant('9999-12-31T23:30:00-02:00', 'source_updated_at')).toEqual({
      ok: false,
      reason: "source_updated_at '9999-12-31T23:30:00-02:00' is an instant after 9999 (year 10000): not a plausible CRM date; check the year",
    });
    expect(parseDay('9999-12-31T23:30:00-02:00', 'close_date')).toMatchObject({ ok: false, reason: expect.stringContaining('after 9999 (year 10000)') });
    const last = parseInstant('9999-12-31T23:30:00Z', 'created_at');
    expect(last.ok && last.value?.toISOString()).toBe('9999-12-31T23:30:00.000Z');
  });

  it('a row with a day before 1900 is rejected with every reason; the same row dated 2025 is accepted', () => {
    const ids = new Map([['T1', 'id-1']]);
    const row = { opportunity_id: 'O-1', territory: 'T1', stage: 'Won', amount: '100', engage_date: '0025-03-04', close_date: '0025-03-20' };
    expect(parseOpportunityRow(row, ids)).toEqual({
      ok: false,
      opportunity_id: 'O-1',
      reasons: [
        "engage_date '0025-03-04' is a day before 1900 (year 0025): not a plausible CRM date; check the year",
        "close_date '0025-03-20' is a day before 1900 (year 0025): not a plausible CRM date; check the year",
      ],
    });
    expect(parseOpportunityRow({ ...row, engage_date: '2025-03-04', close_date: '2025-03-20' }, ids)).toMatchObject({ ok: true, row: { engage_date: '2025-03-04' } });
  });

  it('treats empty and null as missing', () => {
    expect(parseDay('', 'close_date')).toEqual({ ok: true, value: null });
    expect(parseDay(null, 'close_date')).toEqual({ ok: true, value: null });
    expect(parseInstant(' ', 'created_at')).toEqual({ ok: true, value: null });
    expect(parseDay(20240331, 'close_date')).toEqual({ ok: false, reason: 'close_date must be a string YYYY-MM-DD' });
  });

  it('gives the same answers whatever the process time zone', async () => {
    for (const [tz, offset] of [['Asia/Tokyo', 540], ['America/New_York', -240], ['UTC', 0]] as const) {
      await withTimeZone(tz, () => {
        expect(localOffsetMinutes(new Date('2024-04-01T00:00:00Z'))).toBe(offset); // the zone really changed
        expect(parseDay('2024-03-31', 'close_date')).toEqual({ ok: true, value: '2024-03-31' });
        expect(parseDay('2024-03-31T23:30:00Z', 'close_date')).toEqual({ ok: true, value: '2024-03-31' });
        expect(parseDay('2024-04-01T00:30:00+09:00', 'close_date')).toEqual({ ok: true, value: '2024-03-31' });
      });
    }
  });
});

describe('statusOfStage', () => {
  it.each([
    ['Won', 'won'],
    ['closed won', 'won'],
    ['Closed  Won', 'won'],
    ['Closed-Won', 'won'],
    ['Lost', 'lost'],
    ['CLOSED_LOST', 'lost'],
    ['Engaging', 'open'],
    ['Prospecting', 'open'],
    [' negotiation ', 'open'],
    // Salesforce's default open stages (an OpportunityFieldHistory export's OldValue/NewValue)
    ['Negotiation/Review', 'open'],
    ['Id. Decision Makers', 'open'],
    ['Proposal/Price Quote', 'open'],
    ['Needs Analysis', 'open'],
  ])('%j → %s', (stage, status) => {
    expect(statusOfStage(stage)).toBe(status);
  });

  it.each(['Closed', 'Done', 'W0n', ''])('%j is unknown (null), not guessed', (stage) => {
    expect(statusOfStage(stage)).toBeNull();
  });

  it('knows every listed stage', () => {
    for (const s of KNOWN_STAGES) expect(statusOfStage(s)).not.toBeNull();
  });
});

describe('parseOpportunityRow', () => {
  const territories = new Map([
    ['West', 'id-west'],
    ['East', 'id-east'],
  ]);
  const good: RawOpportunityRow = {
    opportunity_id: 'O-1',
    territory: 'West',
    stage: 'Won',
    amount: '$1,200.00',
    engage_date: '2024-02-20',
    close_date: '2024-03-04',
    created_at: '2024-02-19T10:00:00Z',
    source_updated_at: '2024-03-04T17:00:00+01:00',
    product: 'GTX Basic',
    account: 'Acme',
  };
  const reasonsOf = (raw: RawOpportunityRow) => {
    const out = parseOpportunityRow(raw, territories);
    if (out.ok) throw new Error(`expected a rejection, got ${JSON.stringify(out.row)}`);
    return out;
  };

  it('parses a good won row into typed, exact values', () => {
    const out = parseOpportunityRow(good, territories);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.row).toEqual({
      opportunity_id: 'O-1',
      territory_code: 'West',
      territory_id: 'id-west',
      stage: 'won',
      status: 'won',
      amount: '1200.00',
      engage_date: '2024-02-20',
      close_date: '2024-03-04',
      created_at: new Date('2024-02-19T10:00:00Z'),
      source_updated_at: new Date('2024-03-04T16:00:00Z'),
      product: 'GTX Basic',
      account: 'Acme',
      owner: null,
      currency: null,
    });
  });

  it('reads the currency as an ISO 4217 code (any case, trimmed); empty = null (the default currency applies at ingestion); anything else rejects the row', () => {
    expect(parseOpportunityRow({ ...good, currency: ' eur ' }, territories)).toMatchObject({ ok: true, row: { currency: 'EUR' } });
    expect(parseOpportunityRow({ ...good, currency: '' }, territories)).toMatchObject({ ok: true, row: { currency: null } });
    expect(reasonsOf({ ...good, currency: 'EURO' }).reasons).toEqual(["currency 'EURO' is not an ISO 4217 code (e.g. USD, EUR)"]);
    expect(reasonsOf({ ...good, currency: 'XYZ' }).reasons).toEqual(["currency 'XYZ' is not an ISO 4217 code (e.g. USD, EUR)"]);
  });

  it('keeps the owner (rep) when given, and rejects one longer than 128 characters', () => {
    const out = parseOpportunityRow({ ...good, owner: '  rep-0042 ' }, territories);
    expect(out.ok && out.row.owner).toBe('rep-0042');
    const long = parseOpportunityRow({ ...good, owner: 'r'.repeat(129) }, territories);
    expect(long).toEqual({ ok: false, opportunity_id: 'O-1', reasons: ['owner is longer than 128 characters'] });
  });

  it('parses an open row with empty amount and close date as nulls', () => {
    const out = parseOpportunityRow({ opportunity_id: 'O-2', territory: 'East', stage: 'Engaging', amount: '', close_date: '' }, territories);
    expect(out.ok && out.row).toMatchObject({ status: 'open', amount: null, close_date: null, engage_date: null });
  });

  it('uses the UTC day of created_at as the engage date when engage_date is missing', () => {
    const out = parseOpportunityRow({ ...good, engage_date: '', created_at: '2024-03-01T23:30:00-05:00' }, territories);
    expect(out.ok && out.row.engage_date).toBe('2024-03-02');
  });

  it.each<[string, RawOpportunityRow, string[]]>([
    ['missing id', { ...good, opportunity_id: ' ' }, ['opportunity_id is missing']],
    ['too long id', { ...good, opportunity_id: 'x'.repeat(129) }, ['opportunity_id is longer than 128 characters']],
    ['missing territory', { ...good, territory: '' }, ['territory is missing']],
    ['unknown territory', { ...good, territory: 'North' }, ["unknown territory 'North'"]],
    ['missing stage', { ...good, stage: null }, ['stage is missing']],
    ['bad amount', { ...good, amount: '12abc' }, ["amount '12abc' is not a number"]],
    ['bad engage date', { ...good, engage_date: '2024-02-30' }, ["engage_date '2024-02-30' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)"]],
    ['bad close date', { ...good, close_date: '10/20/2016' }, ["close_date '10/20/2016' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)"]],
    ['bad created_at', { ...good, created_at: '2024-02-19 10:00' }, ["created_at '2024-02-19 10:00' is not an ISO timestamp with a zone (e.g. 2024-03-31T23:30:00Z)"]],
    [
      'bad source_updated_at',
      { ...good, source_updated_at: 'now' },
      ["source_updated_at 'now' is not an ISO timestamp with a zone (e.g. 2024-03-31T23:30:00Z)"],
    ],
    ['long product', { ...good, product: 'p'.repeat(129) }, ['product is longer than 128 characters']],
    ['long account', { ...good, account: 'a'.repeat(257) }, ['account is longer than 256 characters']],
    ['open deal with a close date', { ...good, stage: 'Engaging' }, ["an open deal (stage 'Engaging') must not have a close_date"]],
    ['won deal without close date', { ...good, close_date: '' }, ['a won deal needs a close_date']],
    ['lost deal without close date', { ...good, stage: 'Lost', close_date: null }, ['a lost deal needs a close_date']],
    [
      'won deal without engage date or created_at',
      { ...good, engage_date: '', created_at: '' },
      ['a won deal needs an engage_date (or created_at)'],
    ],
    ['close before engage', { ...good, close_date: '2024-02-01' }, ['close_date 2024-02-01 is before engage_date 2024-02-20']],
    ['won deal without amount', { ...good, amount: '' }, ['a won deal needs an amount']],
  ])('rejects a row with %s, naming the reason', (_name, raw, reasons) => {
    expect(reasonsOf(raw).reasons).toEqual(reasons);
  });

  it('rejects an unknown stage and lists the known ones', () => {
    const out = reasonsOf({ ...good, stage: 'Closed' });
    expect(out.reasons).toEqual([`unknown stage 'Closed' (known: ${KNOWN_STAGES.join(', ')})`]);
  });

  it('lists EVERY reason of a row, and keeps its id for the report', () => {
    const out = reasonsOf({ opportunity_id: 'O-9', territory: 'North', stage: 'Won', amount: '1.2.3', engage_date: '2024-02-30', close_date: '' });
    expect(out.opportunity_id).toBe('O-9');
    expect(out.reasons).toEqual([
      "unknown territory 'North'",
      "amount '1.2.3' is not a number",
      "engage_date '2024-02-30' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)",
    ]);
    expect(reasonsOf({}).reasons).toEqual(['opportunity_id is missing', 'territory is missing', 'stage is missing']);
    expect(reasonsOf({}).opportunity_id).toBeNull();
  });
});

describe('resolveColumnMapping', () => {
  const CRM_HEADERS = ['opportunity_id', 'sales_agent', 'product', 'account', 'deal_stage', 'engage_date', 'close_date', 'close_value'];

  it('maps the CRM export headers (sales_agent, deal_stage, close_value) without an explicit mapping', () => {
    expect(resolveColumnMapping(CRM_HEADERS, null)).toEqual({
      mapping: {
        opportunity_id: 'opportunity_id',
        territory: 'sales_agent',
        stage: 'deal_stage',
        amount: 'close_value',
        engage_date: 'engage_date',
        close_date: 'close_date',
        product: 'product',
        account: 'account',
      },
      ignored_columns: [],
    });
  });

  it('matches aliases case-insensitively and lists unused columns as ignored', () => {
    const r = resolveColumnMapping(['ID', 'Owner', 'Deal_Stage', 'notes'], null);
    expect(r.mapping).toEqual({ opportunity_id: 'ID', territory: 'Owner', stage: 'Deal_Stage' });
    expect(r.ignored_columns).toEqual(['notes']);
  });

  it('lets an explicit mapping win over the aliases', () => {
    const r = resolveColumnMapping(['deal', 'region_owner', 'sales_agent', 'deal_stage'], { opportunity_id: 'deal', territory: 'region_owner' });
    expect(r.mapping).toMatchObject({ opportunity_id: 'deal', territory: 'region_owner', stage: 'deal_stage' });
    expect(r.ignored_columns).toEqual(['sales_agent']);
  });

  it('rejects unknown fields, missing columns and a file without an id column, each by path', () => {
    let caught: unknown;
    try {
      resolveColumnMapping(['a', 'b'], { colour: 'a', stage: 'zz' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppException);
    const e = caught as AppException;
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.details).toEqual([
      { path: 'mapping.colour', errors: [`unknown field; expected one of ${CANONICAL_FIELDS.join(', ')}`] },
      { path: 'mapping.stage', errors: ["column 'zz' is not in the CSV header"] },
      { path: 'mapping.opportunity_id', errors: ['no column for opportunity_id'] },
    ]);
  });

  it('has aliases for every canonical field', () => {
    expect(Object.keys(DEFAULT_HEADER_ALIASES).sort()).toEqual([...CANONICAL_FIELDS].sort());
  });

  it('rowMapper gives, from a row in header order, what mapRecord gives from the record', () => {
    const header = [...CRM_HEADERS].reverse();
    const { mapping } = resolveColumnMapping(header, null);
    const row = header.map((h) => `v-${h}`);
    const rec = Object.fromEntries(header.map((h, i) => [h, row[i]]));
    expect(rowMapper(header, mapping)(row)).toEqual(mapRecord(rec, mapping));
    expect(rowMapper(header, mapping)(row).territory).toBe('v-sales_agent');
    expect(() => rowMapper(['x'], mapping)).toThrow(/not in the header/);
  });

  it('mapRecord renames a CSV record to canonical fields', () => {
    const { mapping } = resolveColumnMapping(CRM_HEADERS, null);
    const rec = Object.fromEntries(CRM_HEADERS.map((h) => [h, `v-${h}`]));
    expect(mapRecord(rec, mapping)).toEqual({
      opportunity_id: 'v-opportunity_id',
      territory: 'v-sales_agent',
      stage: 'v-deal_stage',
      amount: 'v-close_value',
      engage_date: 'v-engage_date',
      close_date: 'v-close_date',
      product: 'v-product',
      account: 'v-account',
    });
  });
});

describe('column mapping: one column feeds one field', () => {
  it('an explicitly mapped column is not picked up again by another field\'s alias', () => {
    // 'id' is an alias of opportunity_id; mapped explicitly to territory it must not feed both.
    const { mapping } = resolveColumnMappingForTest(['id', 'deal_id', 'deal_stage'], { territory: 'id', opportunity_id: 'deal_id' });
    expect(mapping).toMatchObject({ territory: 'id', opportunity_id: 'deal_id', stage: 'deal_stage' });
    const fields = Object.entries(mapping).filter(([, h]) => h === 'id').map(([f]) => f);
    expect(fields).toEqual(['territory']);
  });
});

describe('CSV header with a repeated column name', () => {
  it('is refused instead of silently keeping the last column', () => {
    expect(() => parseCsvBufferForTest('opportunity_id,amount,amount\r\nA,1,2\r\n')).toThrow(/repeated column name\(s\) in the header: amount/);
  });
});

describe('column mapping and headers: more refusals', () => {
  it('an explicit mapping may not send one column to two fields', () => {
    expect(() => resolveColumnMappingForTest(['id', 'x'], { opportunity_id: 'id', territory: 'id' })).toThrow(/cannot be mapped/);
  });
  it('a header repeated in another case is refused', () => {
    expect(() => parseCsvBufferForTest('opportunity_id,Amount,amount\r\nA,1,2\r\n')).toThrow(/repeated column name\(s\) in the header: amount/);
  });
});
