import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
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
}
