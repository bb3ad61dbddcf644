import { Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { allocateCounts } from '../stats/design/allocation';
import { TerritoryEntity } from '../territories/territory.entity';
import { TerritoryRepository } from '../territories/territory.repository';
import { PilotEntity } from './pilot.entity';

/** Resolves a pilot's eligible territories and checks that its arms can be filled. */
@Injectable()
export class EligibilityService {
  constructor(private readonly territories: TerritoryRepository) {}

  /**
   * The eligible territories, ordered by code. @throws UNKNOWN_TERRITORY naming codes that do not
   * exist; DESIGN_INFEASIBLE when no territory matches.
   */
  async resolve(pilot: PilotEntity): Promise<TerritoryEntity[]> {
    const e = pilot.eligibility;
    let found: TerritoryEntity[];
    if (e.territory_codes?.length) {
      found = await this.territories.findByCodes(e.territory_codes);
      const known = new Set(found.map((t) => t.code));
      const missing = e.territory_codes.filter((c) => !known.has(c));
      if (missing.length) {
        throw new AppException('UNKNOWN_TERRITORY', `${missing.length} eligible territory code(s) do not exist`, { missing });
      }
    } else {
      found = await this.territories.findByRegions(e.regions ?? []);
      const seen = new Set(found.map((t) => t.region));
      const empty = (e.regions ?? []).filter((r) => !seen.has(r));
      if (empty.length) {
        throw new AppException('DESIGN_INFEASIBLE', `No territories in region(s): ${empty.join(', ')}`, { empty_regions: empty });
      }
    }
    return found;
  }

  /**
   * Exact territory counts per arm for `n` eligible territories. @throws DESIGN_INFEASIBLE when the
   * counts do not add up to n or an arm would get fewer than 2 territories.
   */
  armCounts(pilot: PilotEntity, n: number): Record<string, number> {
    let counts: Record<string, number>;
    try {
      counts = allocateCounts(n, pilot.arms);
    } catch (err) {
      throw new AppException('DESIGN_INFEASIBLE', (err as Error).message, { eligible_territories: n });
    }
    const small = Object.entries(counts).filter(([, c]) => c < 2);
    if (small.length) {
      throw new AppException(
        'DESIGN_INFEASIBLE',
        `Every arm needs at least 2 territories; ${n} eligible territories give ${JSON.stringify(counts)}`,
        { eligible_territories: n, counts },
      );
    }
    return counts;
  }
}
