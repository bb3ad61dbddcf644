import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { DESIGN_TYPES, DesignType } from '../../stats/design/designs';
import { KPI_KEYS, KpiKey } from '../../kpis/kpi-catalogue';

/** Body of POST /pilots/:id/power; every field optional. */
export class PowerRequestDto {
  @ApiPropertyOptional({ enum: KPI_KEYS, description: 'KPI to plan for (default: the pilot\'s primary KPI)' })
  @IsOptional()
  @IsIn(KPI_KEYS)
  kpi?: KpiKey;

  @ApiPropertyOptional({ example: [0.05, 0.1, 0.2], description: 'Relative lifts (0.1 = +10%) at which to give the power' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(-0.9, { each: true })
  @Max(5, { each: true })
  lifts?: number[];

  @ApiPropertyOptional({ default: 0.8, description: 'Target power for the MDE and for territories/weeks needed' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.5)
  @Max(0.99)
  power?: number;

  @ApiPropertyOptional({ example: 0.1, description: 'Target MDE (relative lift): how many territories or weeks are needed' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.001)
  @Max(5)
  target_mde?: number;

  @ApiPropertyOptional({ default: 200, description: 'Placebo pilots in the simulation (0 = analytic only)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5000)
  simulations?: number;

  @ApiPropertyOptional({ default: true, description: 'Plan with covariate adjustment on the pre-period KPI (R²)' })
  @IsOptional()
  @IsBoolean()
  covariate_adjustment?: boolean;

  @ApiPropertyOptional({ enum: ['plan', 'planner'], default: 'plan', description: "'plan': MDE of the pilot as defined; 'planner': power curves over territories × weeks × design and the cheapest plan reaching `power` for `target_mde` (required)" })
  @IsOptional()
  @IsIn(['plan', 'planner'])
  mode?: 'plan' | 'planner';

  @ApiPropertyOptional({ example: [10, 20, 30], description: "planner: candidate numbers of territories (both arms; default ¼, ½, ¾ and all of the eligible pool)" })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @IsInt({ each: true })
  @Min(4, { each: true })
  @Max(10_000, { each: true })
  territory_counts?: number[];

  @ApiPropertyOptional({ example: [4, 8, 13, 26], description: 'planner: candidate test lengths in weeks (default 4, 8, 13, 26)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(104, { each: true })
  weeks?: number[];

  @ApiPropertyOptional({ enum: DESIGN_TYPES, isArray: true, description: "planner: designs to compare (default all four; stratified only when the pilot has strata)" })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(DESIGN_TYPES, { each: true })
  designs?: DesignType[];
}
