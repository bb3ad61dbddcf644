import { Injectable, PipeTransform, Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AppException } from '../errors/app.exception';
import { flattenValidationErrors } from './validation';

/**
 * Validates a JSON array body item by item against `itemClass` with the global pipe's rules
 * (whitelist, forbidNonWhitelisted, no implicit conversion). Every bad field is reported by path
 * (`3.region`); nothing is written when any item fails.
 */
@Injectable()
export class ParseDtoArrayPipe<T extends object> implements PipeTransform<unknown, Promise<T[]>> {
  constructor(
    private readonly itemClass: Type<T>,
    private readonly maxItems: number,
  ) {}

  async transform(value: unknown): Promise<T[]> {
    if (!Array.isArray(value)) {
      throw new AppException('VALIDATION_FAILED', 'Body must be a JSON array', [{ path: '', errors: ['must be an array'] }]);
    }
    if (value.length === 0 || value.length > this.maxItems) {
      throw new AppException('VALIDATION_FAILED', `Body must hold 1 to ${this.maxItems} items, got ${value.length}`, [
        { path: '', errors: [`must hold 1 to ${this.maxItems} items`] },
      ]);
    }
    const items: T[] = [];
    const details = [];
    for (let i = 0; i < value.length; i++) {
      const raw: unknown = value[i];
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        details.push({ path: String(i), errors: ['must be an object'] });
        continue;
      }
      const item = plainToInstance(this.itemClass, raw, { enableImplicitConversion: false });
      const errors = await validate(item, { whitelist: true, forbidNonWhitelisted: true });
      details.push(...flattenValidationErrors(errors, String(i)));
      items.push(item);
    }
    if (details.length) {
      throw new AppException('VALIDATION_FAILED', `${details.length} invalid field(s) in the array`, details);
    }
    return items;
  }
}
