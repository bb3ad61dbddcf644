import { AppException } from '../../common/errors/app.exception';
import { CANONICAL_FIELDS, CanonicalField } from './opportunity-row.parser';

/**
 * Header names recognised for each canonical field when no mapping is given: PilotLab's own names
 * and those of common CRM exports (the Maven CRM sample: sales_agent, deal_stage, close_value).
 */
export const DEFAULT_HEADER_ALIASES: Record<CanonicalField, string[]> = {
  opportunity_id: ['opportunity_id', 'opportunity', 'id'],
  territory: ['territory', 'territory_code', 'sales_agent', 'owner'],
  stage: ['stage', 'deal_stage'],
  amount: ['amount', 'close_value', 'value'],
  engage_date: ['engage_date', 'engaged_date'],
  close_date: ['close_date', 'closed_date'],
  created_at: ['created_at', 'created_date', 'created'],
  source_updated_at: ['source_updated_at', 'updated_at', 'last_modified'],
  product: ['product'],
  account: ['account'],
  // 'owner' alone stays an alias of territory (read first); a rep column is named one of these.
  owner: ['owner_id', 'rep', 'sales_rep', 'rep_id'],
  // Salesforce CurrencyIsoCode, HubSpot deal_currency_code
  currency: ['currency', 'currency_code', 'currencyisocode', 'deal_currency_code'],
};

/** canonical field → CSV header, resolved from the header row and an optional explicit mapping. */
export interface ResolvedMapping {
  mapping: Partial<Record<CanonicalField, string>>;
  ignored_columns: string[];
}

/**
 * Resolves which CSV column feeds which field. An explicit mapping wins (its keys must be
 * canonical fields and its values existing headers); other fields fall back to the aliases.
 * @throws VALIDATION_FAILED for unknown fields, headers not in the file, or no id column.
 */
export function resolveColumnMapping(headers: string[], explicit: Record<string, string> | null): ResolvedMapping {
  const details: { path: string; errors: string[] }[] = [];
  const mapping: Partial<Record<CanonicalField, string>> = {};
  const explicitColumns = Object.values(explicit ?? {});
  const reused = explicitColumns.filter((h, i) => explicitColumns.indexOf(h) !== i);
  if (reused.length) details.push({ path: 'mapping', errors: [`a column may feed one field only: ${[...new Set(reused)].join(', ')}`] });
  for (const [field, header] of Object.entries(explicit ?? {})) {
    if (!(CANONICAL_FIELDS as readonly string[]).includes(field)) {
      details.push({ path: `mapping.${field}`, errors: [`unknown field; expected one of ${CANONICAL_FIELDS.join(', ')}`] });
    } else if (typeof header !== 'string' || !headers.includes(header)) {
      details.push({ path: `mapping.${field}`, errors: [`column '${String(header)}' is not in the CSV header`] });
    } else mapping[field as CanonicalField] = header;
  }
  const lower = headers.map((h) => h.toLowerCase());
  for (const field of CANONICAL_FIELDS) {
    if (mapping[field]) continue;
    // A column already feeding a field (explicitly or by an earlier alias) never feeds a second one.
    const taken = new Set(Object.values(mapping));
    const idx = DEFAULT_HEADER_ALIASES[field].map((a) => lower.indexOf(a)).find((i) => i >= 0 && !taken.has(headers[i]));
    if (idx !== undefined) mapping[field] = headers[idx];
  }

  if (!mapping.opportunity_id) details.push({ path: 'mapping.opportunity_id', errors: ['no column for opportunity_id'] });
  if (details.length) throw new AppException('VALIDATION_FAILED', 'The CSV columns cannot be mapped', details);
  const used = new Set(Object.values(mapping));
  return { mapping, ignored_columns: headers.filter((h) => !used.has(h)) };
}

/**
 * Compiles a resolved mapping against a CSV header: the returned function turns one data row
 * (cells in header order) into the canonical fields, as {@link mapRecord} does for a record.
 */
export function rowMapper(header: readonly string[], mapping: ResolvedMapping['mapping']): (row: readonly string[]) => Record<string, string> {
  const columns = Object.entries(mapping).map(([field, name]) => [field, header.indexOf(name as string)] as const);
  for (const [field, i] of columns) if (i < 0) throw new Error(`mapped column for ${field} is not in the header`);
  return (row) => {
    const out: Record<string, string> = {};
    for (const [field, i] of columns) out[field] = row[i];
    return out;
  };
}

/** Applies a resolved mapping to one CSV record. */
export function mapRecord(record: Record<string, string>, mapping: ResolvedMapping['mapping']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, header] of Object.entries(mapping)) out[field] = record[header as string];
  return out;
}
