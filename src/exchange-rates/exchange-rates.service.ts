import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { isIsoCurrency } from '../common/utils/currency';
import { isIsoDate } from '../common/utils/dates';
import { ExchangeRateDto, ExchangeRatesResultDto } from './dto/exchange-rate.dto';

/** Most rates one POST /exchange-rates takes. */
export const MAX_RATES_PER_REQUEST = 10_000;

/** A stored rate as the API returns it. */
export interface ExchangeRateView {
  from_currency: string;
  to_currency: string;
  valid_from: string;
  rate: number;
  created_at: Date;
}

/**
 * Dated exchange rates (table `exchange_rates`, migration 1766700000000). Rates are append-only:
 * re-sending a stored (pair, valid_from) with the same rate is a no-op, with another rate a 409
 * (a report recomputed later must read the rates it read first; a correction is a new valid_from).
 * The conversion itself is the SQL function `fx_rate` (docs/kpis.md, "Currencies").
 */
@Injectable()
export class ExchangeRatesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores rates, all or none, in one transaction.
   * @throws VALIDATION_FAILED (a pair with itself, or one pair and day twice in the request),
   *   RATE_CONFLICT when a (pair, valid_from) is already stored with another rate
   */
  async load(items: ExchangeRateDto[]): Promise<ExchangeRatesResultDto> {
    const details: { path: string; errors: string[] }[] = [];
    const seen = new Map<string, number>();
    items.forEach((r, i) => {
      if (r.from_currency === r.to_currency) details.push({ path: `${i}.to_currency`, errors: ['to_currency must differ from from_currency'] });
      const key = `${r.from_currency}/${r.to_currency}/${r.valid_from}`;
      if (seen.has(key)) details.push({ path: `${i}`, errors: [`${key} is also item ${seen.get(key)}`] });
      else seen.set(key, i);
    });
    if (details.length) throw new AppException('VALIDATION_FAILED', 'Some exchange rates are invalid', details);
    return this.dataSource.transaction(async (em) => {
      const rows: { i: number; inserted: boolean; stored_rate: string }[] = await em.query(
        `WITH input AS (
           SELECT * FROM unnest($1::char(3)[], $2::char(3)[], $3::date[], $4::numeric[]) WITH ORDINALITY AS x(f, t, d, rate, i)
         ),
         ins AS (
           INSERT INTO exchange_rates (from_currency, to_currency, valid_from, rate)
           SELECT f, t, d, rate FROM input ORDER BY i
           ON CONFLICT (from_currency, to_currency, valid_from) DO NOTHING
           RETURNING from_currency, to_currency, valid_from
         )
         SELECT (x.i - 1)::int AS i, (ins.from_currency IS NOT NULL) AS inserted, coalesce(e.rate, x.rate)::text AS stored_rate
           FROM input x
           LEFT JOIN ins ON ins.from_currency = x.f AND ins.to_currency = x.t AND ins.valid_from = x.d
           LEFT JOIN exchange_rates e ON e.from_currency = x.f AND e.to_currency = x.t AND e.valid_from = x.d
          ORDER BY x.i`,
        [items.map((r) => r.from_currency), items.map((r) => r.to_currency), items.map((r) => r.valid_from), items.map((r) => String(r.rate))],
      );
      const conflicts = rows
        .filter((r) => !r.inserted && Number(r.stored_rate) !== items[r.i].rate)
        .map((r) => ({ path: `${r.i}`, errors: [`${items[r.i].from_currency}→${items[r.i].to_currency} from ${items[r.i].valid_from} is stored with rate ${Number(r.stored_rate)}`] }));
      if (conflicts.length) {
        throw new AppException('RATE_CONFLICT', 'Stored exchange rates are never changed; send a correction with a new valid_from', conflicts);
      }
      const inserted = rows.filter((r) => r.inserted).length;
      return { inserted, unchanged: rows.length - inserted };
    });
  }

  /**
   * Stored rates, optionally of one pair (either direction when both codes are given) and in force
   * on a day (`on`: the latest valid_from ≤ on per pair), ordered by pair and valid_from.
   * @throws VALIDATION_FAILED for a bad currency code or day
   */
  async list(q: { from_currency?: string; to_currency?: string; on?: string }): Promise<{ items: ExchangeRateView[] }> {
    const details: { path: string; errors: string[] }[] = [];
    for (const k of ['from_currency', 'to_currency'] as const) {
      if (q[k] !== undefined && !isIsoCurrency(q[k])) details.push({ path: k, errors: [`${k} must be an ISO 4217 currency code in upper case`] });
    }
    if (q.on !== undefined && !isIsoDate(q.on)) details.push({ path: 'on', errors: ['on must be a calendar date YYYY-MM-DD'] });
    if (details.length) throw new AppException('VALIDATION_FAILED', 'Invalid query', details);
    const rows: { from_currency: string; to_currency: string; valid_from: string; rate: string; created_at: Date }[] = await this.dataSource.query(
      `SELECT from_currency, to_currency, valid_from::text AS valid_from, rate::text AS rate, created_at
         FROM (SELECT e.*, row_number() OVER (PARTITION BY from_currency, to_currency ORDER BY valid_from DESC) AS rn
                 FROM exchange_rates e
                WHERE ($1::char(3) IS NULL OR from_currency = $1) AND ($2::char(3) IS NULL OR to_currency = $2)
                  AND ($3::date IS NULL OR valid_from <= $3::date)) x
        WHERE $3::date IS NULL OR rn = 1
        ORDER BY from_currency, to_currency, valid_from`,
      [q.from_currency ?? null, q.to_currency ?? null, q.on ?? null],
    );
    return { items: rows.map((r) => ({ ...r, rate: Number(r.rate) })) };
  }
}
