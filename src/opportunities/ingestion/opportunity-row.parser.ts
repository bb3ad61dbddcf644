import type { OpportunityStatus } from '../opportunity.entity';
import { parseAmount } from './amount';
import { parseDay, parseInstant } from './dates';
import { KNOWN_STAGES, statusOfStage } from './stage';
import { parseCurrencyCell } from '../../common/utils/currency';

/** The canonical fields of an opportunity row, as stored in a batch (CSV cells or JSON values). */
export const CANONICAL_FIELDS = [
  'opportunity_id',
  'territory',
  'stage',
  'amount',
  'engage_date',
  'close_date',
  'created_at',
  'source_updated_at',
  'product',
  'account',
  'owner',
  'currency',
] as const;
export type CanonicalField = (typeof CANONICAL_FIELDS)[number];
export type RawOpportunityRow = Partial<Record<CanonicalField, string | number | null>>;

/** A validated row, ready for the upsert. Dates `YYYY-MM-DD`; amount a decimal string. */
export interface ParsedOpportunity {
  opportunity_id: string;
  territory_code: string;
  territory_id: string;
  stage: string;
  status: OpportunityStatus;
  amount: string | null;
  engage_date: string | null;
  close_date: string | null;
  created_at: Date | null;
  source_updated_at: Date | null;
  product: string | null;
  account: string | null;
  /** The rep (owner) in the CRM, when given; attributed to a territory over time (owner_territories). */
  owner: string | null;
  /** ISO 4217 code of the amount; null when the row has none (the ingestion job applies DEFAULT_CURRENCY). */
  currency: string | null;
}

export type RowOutcome = { ok: true; row: ParsedOpportunity } | { ok: false; opportunity_id: string | null; reasons: string[] };

function text(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  const s = String(raw).trim();
  return s === '' ? null : s;
}

/**
 * Validates one row and turns it into a {@link ParsedOpportunity}, or lists EVERY reason it is
 * rejected (missing id, unknown territory, unknown stage, bad amount or date, a closed deal
 * without close date, an open deal with one, close before engage). Nothing is coerced silently:
 * an empty amount is null, not 0. When the engage date is missing but `created_at` is given, the
 * UTC day of `created_at` is the engage date (the CRM's "engage/created date", docs/kpis.md).
 * @param territoryIds map of territory code → id
 */
export function parseOpportunityRow(raw: RawOpportunityRow, territoryIds: ReadonlyMap<string, string>): RowOutcome {
  const reasons: string[] = [];
  const id = text(raw.opportunity_id);
  if (!id) reasons.push('opportunity_id is missing');
  else if (id.length > 128) reasons.push('opportunity_id is longer than 128 characters');

  const territory = text(raw.territory);
  let territoryId: string | undefined;
  if (!territory) reasons.push('territory is missing');
  else {
    territoryId = territoryIds.get(territory);
    if (!territoryId) reasons.push(`unknown territory '${territory}'`);
  }

  const stage = text(raw.stage);
  let status: OpportunityStatus | null = null;
  if (!stage) reasons.push('stage is missing');
  else {
    status = statusOfStage(stage);
    if (!status) reasons.push(`unknown stage '${stage}' (known: ${KNOWN_STAGES.join(', ')})`);
  }

  const amount = parseAmount(raw.amount);
  if (!amount.ok) reasons.push(amount.reason);
  const engage = parseDay(raw.engage_date, 'engage_date');
  if (!engage.ok) reasons.push(engage.reason);
  const close = parseDay(raw.close_date, 'close_date');
  if (!close.ok) reasons.push(close.reason);
  const created = parseInstant(raw.created_at, 'created_at');
  if (!created.ok) reasons.push(created.reason);
  const updated = parseInstant(raw.source_updated_at, 'source_updated_at');
  if (!updated.ok) reasons.push(updated.reason);

  const currency = parseCurrencyCell(raw.currency);
  if (!currency.ok) reasons.push(currency.reason);
  const product = text(raw.product);
  const account = text(raw.account);
  const owner = text(raw.owner);
  if (owner && owner.length > 128) reasons.push('owner is longer than 128 characters');
  if (product && product.length > 128) reasons.push('product is longer than 128 characters');
  if (account && account.length > 256) reasons.push('account is longer than 256 characters');

  let engageDate = engage.ok ? engage.value : null;
  if (engage.ok && engageDate === null && created.ok && created.value) engageDate = created.value.toISOString().slice(0, 10);
  const closeDate = close.ok ? close.value : null;
  const amountValue = amount.ok ? amount.value : null;

  if (status && engage.ok && close.ok) {
    if (status === 'open' && closeDate) reasons.push(`an open deal (stage '${stage}') must not have a close_date`);
    if (status !== 'open' && !closeDate) reasons.push(`a ${status} deal needs a close_date`);
    if (status !== 'open' && !engageDate) reasons.push(`a ${status} deal needs an engage_date (or created_at)`);
    if (closeDate && engageDate && closeDate < engageDate) reasons.push(`close_date ${closeDate} is before engage_date ${engageDate}`);
  }
  if (status === 'won' && amount.ok && amountValue === null) reasons.push('a won deal needs an amount');

  if (reasons.length) return { ok: false, opportunity_id: id && id.length <= 128 ? id : null, reasons };
  return {
    ok: true,
    row: {
      opportunity_id: id!,
      territory_code: territory!,
      territory_id: territoryId!,
      stage: stage!.toLowerCase(),
      status: status!,
      amount: amountValue ? amountValue.text : null,
      engage_date: engageDate,
      close_date: closeDate,
      created_at: created.ok ? created.value : null,
      source_updated_at: updated.ok ? updated.value : null,
      product,
      account,
      owner,
      currency: currency.ok ? currency.value : null,
    },
  };
}
