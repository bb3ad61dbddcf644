import { createHash } from 'node:crypto';
import { TerritoryEntity } from '../territories/territory.entity';
import { PilotEntity } from '../pilots/pilot.entity';

/** One eligible territory as the design sees it. */
export interface DesignUnit {
  territory_id: string;
  code: string;
  stratum: string;
  covariates: Record<string, number | null>;
}

/** The stratum of a territory under the pilot's design ('all' for a complete design). */
export function stratumOf(pilot: PilotEntity, t: TerritoryEntity): string {
  if (pilot.designType !== 'stratified') return 'all';
  const by = pilot.stratifyBy ?? 'region';
  const value = by === 'team' ? t.team : t.region;
  return value ?? '(none)';
}

/** The design units of the eligible territories, sorted by code (input order never matters). */
export function toDesignUnits(pilot: PilotEntity, eligible: TerritoryEntity[]): DesignUnit[] {
  return eligible
    .map((t) => ({ territory_id: t.id, code: t.code, stratum: stratumOf(pilot, t), covariates: { ...t.attributes } }))
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

/** JSON with object keys sorted at every depth, so equal inputs always hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * SHA-256 (hex) of everything that determines an assignment: algorithm version, PRNG, seed, design
 * (type, stratum variable, arm counts) and the units (code, stratum, covariates) sorted by code.
 */
export function hashAssignmentInputs(input: {
  algorithm_version: string;
  prng: string;
  seed: number;
  design: { type: string; stratify_by: string | null; arms: { key: string; role: string; count: number }[] };
  units: DesignUnit[];
}): string {
  const units = input.units.map((u) => ({ code: u.code, stratum: u.stratum, covariates: u.covariates }));
  return createHash('sha256').update(canonicalJson({ ...input, units })).digest('hex');
}
