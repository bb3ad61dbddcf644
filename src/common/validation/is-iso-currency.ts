import { registerDecorator, ValidationOptions } from 'class-validator';
import { isIsoCurrency } from '../utils/currency';

/** class-validator: the value is an ISO 4217 code in upper case (common/utils/currency.ts). */
export function IsIsoCurrency(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isIsoCurrency',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be an ISO 4217 currency code in upper case (e.g. USD, EUR)`, ...options },
      validator: { validate: (value: unknown) => isIsoCurrency(value) },
    });
}
