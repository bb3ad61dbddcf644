import { Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

/** The largest value of a PostgreSQL `integer` (int4) column: 2^31 − 1. */
export const PG_INT4_MAX = 2_147_483_647;

/**
 * A path parameter that must be a decimal integer in [min, max] (default 1 … 2^31 − 1, the range of
 * the `integer` columns such parameters select on); otherwise 400 VALIDATION_FAILED naming the
 * parameter and the range. Nest's ParseIntPipe accepts any safe integer, so `9007199254740992`
 * reached PostgreSQL ("value out of range for type integer") and answered 500.
 */
@Injectable()
export class IntParamPipe implements PipeTransform<string, number> {
  constructor(
    private readonly name: string,
    private readonly min = 1,
    private readonly max = PG_INT4_MAX,
  ) {}

  transform(value: string): number {
    const n = /^[+-]?\d{1,16}$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < this.min || n > this.max) {
      const why = `${this.name} must be an integer from ${this.min} to ${this.max}`;
      throw new AppException('VALIDATION_FAILED', why, [{ path: this.name, errors: [why] }]);
    }
    return n;
  }
}

/** `@Param(name, intParam(name))`: see IntParamPipe. */
export function intParam(name: string, min?: number, max?: number): IntParamPipe {
  return new IntParamPipe(name, min, max);
}
