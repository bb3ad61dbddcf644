import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { ParseDtoArrayPipe } from '../common/validation/parse-dto-array.pipe';
import { ExchangeRateDto, ExchangeRatesResultDto } from './dto/exchange-rate.dto';
import { ExchangeRatesService, MAX_RATES_PER_REQUEST } from './exchange-rates.service';

@ApiTags('exchange-rates')
@Controller('exchange-rates')
export class ExchangeRatesController {
  constructor(private readonly service: ExchangeRatesService) {}

  @Post()
  @HttpCode(200)
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Store dated exchange rates (JSON array of {from_currency, to_currency, valid_from, rate}); all or none' })
  @ApiBody({ type: [ExchangeRateDto] })
  load(@Body(new ParseDtoArrayPipe(ExchangeRateDto, MAX_RATES_PER_REQUEST)) items: ExchangeRateDto[]): Promise<ExchangeRatesResultDto> {
    return this.service.load(items);
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Stored exchange rates (?from_currency=&to_currency=&on=YYYY-MM-DD for the rates in force that day)' })
  list(@Query('from_currency') from?: string, @Query('to_currency') to?: string, @Query('on') on?: string) {
    return this.service.list({ from_currency: from, to_currency: to, on });
  }
}
