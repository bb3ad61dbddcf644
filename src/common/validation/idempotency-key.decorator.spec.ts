import { AppException } from '../errors/app.exception';
import { normaliseIdempotencyKey } from './idempotency-key.decorator';

describe('normaliseIdempotencyKey', () => {
  it('is null without a header and trims a present one', () => {
    expect(normaliseIdempotencyKey(undefined)).toBeNull();
    expect(normaliseIdempotencyKey('  batch-2024-07  ')).toBe('batch-2024-07');
  });

  it('refuses an empty or overlong key with a validation error naming the header', () => {
    for (const bad of ['   ', 'k'.repeat(201)]) {
      let caught: unknown;
      try {
        normaliseIdempotencyKey(bad);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(AppException);
      expect((caught as AppException).statusCode).toBe(400);
      expect((caught as AppException).details).toEqual([{ path: 'headers.idempotency-key', errors: ['must be 1 to 200 characters'] }]);
    }
    expect(normaliseIdempotencyKey('k'.repeat(200))).toHaveLength(200);
  });
});
