import { AppException } from '../errors/app.exception';
import { intParam, PG_INT4_MAX } from './int-param.pipe';

describe('intParam', () => {
  const pipe = intParam('version');

  it.each([['1', 1], ['42', 42], [String(PG_INT4_MAX), PG_INT4_MAX], ['+7', 7]])('accepts %s', (raw, n) => expect(pipe.transform(raw)).toBe(n));

  it.each(['0', '-1', String(PG_INT4_MAX + 1), '9007199254740992', '1e3', '1.5', '', ' 1', '0x10', 'NaN', '١٢'])('refuses %j with 400 naming the parameter', (raw) => {
    let caught: unknown;
    try {
      pipe.transform(raw);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AppException);
    expect((caught as AppException).statusCode).toBe(400);
    expect((caught as AppException).details).toEqual([{ path: 'version', errors: [`version must be an integer from 1 to ${PG_INT4_MAX}`] }]);
  });

  it('honours a custom range', () => {
    expect(intParam('n', 0, 10).transform('0')).toBe(0);
    expect(() => intParam('n', 0, 10).transform('11')).toThrow(AppException);
  });
});
