import request from 'supertest';
import { TestStack, waitForBatch } from '../utils/test-stack';

/**
 * One opportunity row as the batch API takes it (canonical JSON fields). `null` means "absent";
 * strings are sent exactly as a CRM export would (amounts like "$1,200.00").
 */
export interface OpportunityRowInput {
  opportunity_id?: string | null;
  territory?: string | null;
  stage?: string | null;
  amount?: string | number | null;
  engage_date?: string | null;
  close_date?: string | null;
  created_at?: string | null;
  source_updated_at?: string | null;
  product?: string | null;
  account?: string | null;
  /** the rep who owns the deal (mapped to territories over time by POST /owners/territories) */
  owner?: string | null;
  /** ISO 4217 code of the amount (absent: the default currency) */
  currency?: string | null;
}

/** The territory code `opportunityRow()` uses unless told otherwise; load it first. */
export const DEFAULT_TERRITORY_CODE = 'T-DEFAULT';

let seq = 0;

/**
 * A won deal with every field filled (a unique id per call); `overrides` replace any field, and
 * an override of `undefined` removes the field from the row.
 */
export function opportunityRow(overrides: OpportunityRowInput = {}): OpportunityRowInput {
  seq++;
  const row: OpportunityRowInput = {
    opportunity_id: `OPP-${String(seq).padStart(5, '0')}`,
    territory: DEFAULT_TERRITORY_CODE,
    stage: 'Won',
    amount: '1200.00',
    engage_date: '2024-03-01',
    close_date: '2024-03-15',
    created_at: '2024-03-01T09:00:00Z',
    source_updated_at: '2024-03-15T17:00:00Z',
    product: 'GTX Plus Basic',
    account: 'Acme',
    ...overrides,
  };
  for (const k of Object.keys(row) as (keyof OpportunityRowInput)[]) if (row[k] === undefined) delete row[k];
  return row;
}

/** An open deal (stage Engaging, no amount, no close date) with the other defaults. */
export function openOpportunityRow(overrides: OpportunityRowInput = {}): OpportunityRowInput {
  return opportunityRow({ stage: 'Engaging', amount: null, close_date: null, source_updated_at: '2024-03-02T10:00:00Z', ...overrides });
}

/** POSTs a JSON batch and returns the 202 body; throws with the body on any other status. */
export async function postBatch(http: TestStack['http'], rows: OpportunityRowInput[], idempotencyKey?: string) {
  const req = request(http).post('/opportunities/batches');
  if (idempotencyKey !== undefined) req.set('Idempotency-Key', idempotencyKey);
  const res = await req.send({ rows });
  if (res.status !== 202) throw new Error(`POST /opportunities/batches answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as { batch_id: string; status: string; rows_received: number; enqueued: boolean; idempotent_replay: boolean };
}

/** POSTs a JSON batch and waits (polling) until the worker has completed it; returns its status. */
export async function ingest(http: TestStack['http'], rows: OpportunityRowInput[]) {
  const accepted = await postBatch(http, rows);
  const status = await waitForBatch(http, accepted.batch_id);
  if (status.status !== 'completed') throw new Error(`batch ${accepted.batch_id} ended ${status.status}: ${status.error}`);
  return status;
}
