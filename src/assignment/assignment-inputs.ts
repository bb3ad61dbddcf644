import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/utils/canonical-json';
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
