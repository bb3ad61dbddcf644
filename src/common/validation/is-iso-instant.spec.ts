import { isIsoDateOrInstant, toUtcInstant } from './is-iso-instant';

describe('isIsoDateOrInstant', () => {
  it.each(['2024-02-29', '2024-03-01T10:00:00Z', '2024-03-01T10:00Z', '2024-03-01T10:00:00.123+05:30', '2024-03-01T23:59:59-0800', '0001-01-01', '9999-12-31T23:59:59Z'])('accepts %s', (v) =>
    expect(isIsoDateOrInstant(v)).toBe(true),
  );
  it.each(['2017-02-30', '2023-02-29', '2024-03-01T10:00:00', '2024-03-01 10:00:00Z', '2024-03-01T24:00:00Z', '2024-03-01T10:60Z', '2024-03-01T10:00Z+99:00', '', 'now', '0000-01-01', '0000-06-01T10:00:00Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:30:00-02:00'])(
    'rejects %s',
    (v) => expect(isIsoDateOrInstant(v)).toBe(false),
  );
  it('a bare day is 00:00 UTC; an offset is converted to UTC', () => {
    expect(toUtcInstant('2024-03-01')).toBe('2024-03-01T00:00:00.000Z');
    expect(toUtcInstant('2024-03-01T01:30:00+02:00')).toBe('2024-02-29T23:30:00.000Z');
    expect(() => toUtcInstant('2024-02-30')).toThrow();
  });
});
