import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, IsPositive, Max } from 'class-validator';
import { IsIsoCurrency } from '../../common/validation/is-iso-currency';
import { IsIsoDate } from '../../common/validation/is-iso-date';

/**
 * One dated exchange rate: from `valid_from` on (calendar day, inclusive), 1 `from_currency` is
 * worth `rate` `to_currency`, until the next `valid_from` of the same pair (either direction).
 */
export class ExchangeRateDto {
  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code' }) @IsIsoCurrency() from_currency: string;
  @ApiProperty({ example: 'USD', description: 'ISO 4217 code, not the from_currency' }) @IsIsoCurrency() to_currency: string;
  @ApiProperty({ example: '2024-01-01' }) @IsIsoDate() valid_from: string;
  @ApiProperty({ example: 1.1, description: 'Units of to_currency per 1 from_currency; > 0, at most 10 decimals' })
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 10 })
  @IsPositive()
  @Max(9_999_999_999)
  rate: number;
}

/** The answer to POST /exchange-rates. */
export class ExchangeRatesResultDto {
  @ApiProperty({ description: 'Rates stored by this request' }) inserted: number;
  @ApiProperty({ description: 'Rates that were already stored with the same value (idempotent replays)' }) unchanged: number;
}
