import { isIsoDateOrInstant, toUtcInstant } from './is-iso-instant';
import { pathsWithNul } from './nul-bytes';

describe('isIsoDateOrInstant', () => {
  it.each(['2024-02-29', '2024-03-01T10:00:00Z', '2024-03-01T10:00Z', '2024-03-01T10:00:00.123+05:30', '2024-03-01T23:59:59-0800'])('accepts %s', (v) =>
    expect(isIsoDateOrInstant(v)).toBe(true),
  );
  it.each(['2017-02-30', '2023-02-29', '2024-03-01T10:00:00', '2024-03-01 10:00:00Z', '2024-03-01T24:00:00Z', '2024-03-01T10:60Z', '2024-03-01T10:00Z+99:00', '', 'now'])(
    'rejects %s',
    (v) => expect(isIsoDateOrInstant(v)).toBe(false),
  );
  it('a bare day is 00:00 UTC; an offset is converted to UTC', () => {
    expect(toUtcInstant('2024-03-01')).toBe('2024-03-01T00:00:00.000Z');
    expect(toUtcInstant('2024-03-01T01:30:00+02:00')).toBe('2024-02-29T23:30:00.000Z');
    expect(() => toUtcInstant('2024-02-30')).toThrow();
  });
});

describe('pathsWithNul', () => {
  it('names values and keys with NUL by dotted path, arrays by index', () => {
    expect(pathsWithNul({ a: 'ok', rows: [{ x: 'ok' }, { x: 'b\u0000' }], ['k\u0000']: 1 }, '')).toEqual(['rows.1.x', 'k\\u0000']);
    expect(pathsWithNul('x\u0000', 'id')).toEqual(['id']);
    expect(pathsWithNul({ n: 5, s: 'fine' }, '')).toEqual([]);
  });
  it('stops after max paths', () => {
    expect(pathsWithNul(Array.from({ length: 100 }, () => '\u0000'), '', 3)).toHaveLength(3);
  });
});
