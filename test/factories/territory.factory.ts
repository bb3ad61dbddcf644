import request from 'supertest';
import type { TestStack } from '../utils/test-stack';

/** The JSON body of one territory for POST /territories (UpsertTerritoryDto). */
export interface TerritoryInput {
  code: string;
  name: string;
  region: string;
  team?: string | null;
  manager?: string | null;
  attributes?: Record<string, number>;
}

let seq = 0;

/** A territory with full defaults (a unique code per call); `overrides` replace any field. */
export function territory(overrides: Partial<TerritoryInput> = {}): TerritoryInput {
  seq++;
  const code = overrides.code ?? `T-${String(seq).padStart(4, '0')}`;
  return {
    code,
    name: `Territory ${code}`,
    region: 'Central',
    team: 'Team A',
    manager: 'Dana Manager',
    attributes: { headcount: 3, quota: 250_000 },
    ...overrides,
  };
}

/**
 * Loads territories through the real API (POST /territories) and returns their ids by code.
 * Fails the test with the response body when the API does not answer 200.
 */
export async function loadTerritories(http: TestStack['http'], items: TerritoryInput[]): Promise<Map<string, string>> {
  const res = await request(http).post('/territories').send(items);
  if (res.status !== 200) throw new Error(`POST /territories answered ${res.status}: ${JSON.stringify(res.body)}`);
  const ids = new Map<string, string>();
  for (const t of items) {
    const got = await request(http).get(`/territories/${encodeURIComponent(t.code)}`);
    if (got.status !== 200) throw new Error(`GET /territories/${t.code} answered ${got.status}`);
    ids.set(t.code, got.body.id);
  }
  return ids;
}
