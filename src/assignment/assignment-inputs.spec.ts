import { canonicalJson } from '../common/utils/canonical-json';
import { hashAssignmentInputs } from './assignment-inputs';

const design = { type: 'stratified', stratify_by: 'region', arms: [{ key: 'control', role: 'control', count: 2 }, { key: 'treatment', role: 'treatment', count: 2 }] };
const units = [
  { territory_id: 'a', code: 'A', stratum: 'North', covariates: { x: 1, y: 2 } },
  { territory_id: 'b', code: 'B', stratum: 'North', covariates: { y: 3, x: 4 } },
];

describe('assignment inputs hash', () => {
  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('is a SHA-256 hex that ignores key order and changes with any input that determines the draw', () => {
    const base = { algorithm_version: 'v1', prng: 'p', seed: 42, design, units };
    const h = hashAssignmentInputs(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    const reordered = units.map((u) => ({ ...u, covariates: Object.fromEntries(Object.entries(u.covariates).reverse()) }));
    expect(hashAssignmentInputs({ ...base, units: reordered })).toBe(h);
    expect(hashAssignmentInputs({ ...base, seed: 43 })).not.toBe(h);
    expect(hashAssignmentInputs({ ...base, algorithm_version: 'v2' })).not.toBe(h);
    expect(hashAssignmentInputs({ ...base, units: [units[0], { ...units[1], covariates: { x: 4, y: 3.5 } }] })).not.toBe(h);
    expect(hashAssignmentInputs({ ...base, units: [units[0], { ...units[1], stratum: 'South' }] })).not.toBe(h);
  });
});
