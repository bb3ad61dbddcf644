import { Module } from '@nestjs/common';
import { ExchangeRatesController } from './exchange-rates.controller';
import { ExchangeRatesService } from './exchange-rates.service';

/** Dated exchange rates supplied through the API (docs/kpis.md, "Currencies"). */
@Module({ controllers: [ExchangeRatesController], providers: [ExchangeRatesService] })
export class ExchangeRatesModule {}
