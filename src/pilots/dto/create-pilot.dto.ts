import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsIsoDate } from '../../common/validation/is-iso-date';
import { IsIsoCurrency } from '../../common/validation/is-iso-currency';
import { KPI_KEYS, KpiKey } from '../../kpis/kpi-catalogue';

/** Which territories may take part: exactly one of regions or territory_codes. */
export class EligibilityDto {
  @ApiPropertyOptional({ example: ['Central', 'East'], description: 'Every territory of these regions' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  regions?: string[];

  @ApiPropertyOptional({ example: ['Ada Park', 'Ben Ortiz'], description: 'Exactly these territories' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10000)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  territory_codes?: string[];
}

/** One arm of the pilot and its allocation (exact count or ratio). */
export class ArmDto {
  @ApiProperty({ example: 'treatment' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,31}$/, { message: 'key must be lower case letters, digits or _ (at most 32)' })
  key: string;

  @ApiProperty({ enum: ['control', 'treatment'] })
  @IsIn(['control', 'treatment'])
  role: 'control' | 'treatment';

  @ApiPropertyOptional({ example: 15, description: 'Exact number of territories (give count on every arm, or ratio on every arm)' })
  @IsOptional()
  @IsInt()
  @Min(2)
  count?: number;

  @ApiPropertyOptional({ example: 1, description: 'Relative allocation weight' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  ratio?: number;
}

/** A window of UTC calendar days, both ends inclusive. */
export class WindowDto {
  @ApiProperty({ example: '2017-03-01', description: 'First day, inclusive (UTC calendar day)' })
  @IsIsoDate()
  start: string;

  @ApiProperty({ example: '2017-06-30', description: 'Last day, inclusive (UTC calendar day)' })
  @IsIsoDate()
  end: string;
}

/** A covariate a design may use: a territory attribute, or `pre_period_<kpi>` (the KPI over the pre-period). */
const COVARIATE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A territory forced into an arm. */
export class ForcedTerritoryDto {
  @ApiProperty({ example: 'Ada Park' })
  @IsString()
  @IsNotEmpty()
  territory_code: string;

  @ApiProperty({ example: 'treatment', description: 'Key of one of the pilot\'s arms' })
  @IsString()
  @IsNotEmpty()
  arm: string;
}

/** Cap on the treatment arms' (together) share of a covariate's total, e.g. pre-period revenue. */
export class TreatedShareCapDto {
  @ApiProperty({ example: 0.4, description: 'Largest allowed share, 0 < share ≤ 1' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(1)
  max_share: number;

  @ApiPropertyOptional({ default: 'pre_period_revenue_won', description: 'Covariate whose total is capped' })
  @IsOptional()
  @Matches(COVARIATE_NAME)
  covariate?: string;
}

/** Restrictions on the assignment. */
export class DesignConstraintsDto {
  @ApiPropertyOptional({ type: [ForcedTerritoryDto], description: 'Territories that must be in a given arm' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => ForcedTerritoryDto)
  force?: ForcedTerritoryDto[];

  @ApiPropertyOptional({ example: ['Ben Ortiz'], description: 'Eligible territories left out of the pilot' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10000)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  exclude?: string[];

  @ApiPropertyOptional({ type: TreatedShareCapDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TreatedShareCapDto)
  max_treated_share?: TreatedShareCapDto;
}

/** Rerandomization (Morgan & Rubin 2012): accept a draw when its Mahalanobis distance is below the threshold. */
export class RerandomizationDto {
  @ApiProperty({ example: ['pre_period_revenue_won', 'pre_period_opportunities'], description: 'Covariates of the Mahalanobis distance' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ArrayUnique()
  @Matches(COVARIATE_NAME, { each: true })
  covariates: string[];

  @ApiPropertyOptional({ default: 0.05, description: 'Acceptance probability p_a: an assignment is accepted when M ≤ a, with P(M ≤ a) = p_a' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.001)
  @Max(1)
  acceptance_probability?: number;

  @ApiPropertyOptional({
    enum: ['empirical', 'chi_square'],
    default: 'empirical',
    description:
      'How the threshold a is set: empirical = the p_a quantile of M over 10,000 complete randomizations of this design (holds for skewed covariates); chi_square = the chi-square(k) quantile at p_a (Morgan & Rubin 2012, assumes roughly normal covariate means)',
  })
  @IsOptional()
  @IsIn(['empirical', 'chi_square'])
  threshold_rule?: 'empirical' | 'chi_square';
}

/** Treated-set selection settings of a `selected` design (docs/statistics.md, "Treated-set selection"). */
export class SelectionDto {
  @ApiPropertyOptional({ default: 1000, description: 'Candidate treated sets the seeded search scores when there are more than exhaustive_limit' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5000)
  candidates?: number;

  @ApiPropertyOptional({ default: 1000, description: 'Score every treated set of size k when there are at most this many' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5000)
  exhaustive_limit?: number;

  @ApiPropertyOptional({ default: 4, description: 'Pseudo-test windows at the end of the pre-period (backtests per candidate)' })
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(12)
  windows?: number;

  @ApiPropertyOptional({ default: 10, description: 'Ranked candidates returned and stored' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  top?: number;
}

/** The randomization design and its seed. */
export class DesignDto {
  @ApiProperty({
    enum: ['complete', 'stratified', 'matched_pairs', 'rerandomization', 'chosen', 'selected'],
    description:
      'chosen: no randomization; the user names the treated territories (`treated`), every other eligible territory with complete pre-period data is a donor (few-treated analysis: synthetic control, SDID). ' +
      'selected: PilotLab picks `k` treated territories among those by placebo backtests on the pre-period (ranked candidates returned with the draw)',
  })
  @IsIn(['complete', 'stratified', 'matched_pairs', 'rerandomization', 'chosen', 'selected'])
  type: 'complete' | 'stratified' | 'matched_pairs' | 'rerandomization' | 'chosen' | 'selected';

  @ApiPropertyOptional({ enum: ['region', 'team'], description: 'Stratum variable for stratified designs (default region)' })
  @IsOptional()
  @IsIn(['region', 'team'])
  stratify_by?: 'region' | 'team';

  @ApiPropertyOptional({
    example: 42,
    description:
      'PRNG seed the plan states (0 to 2^53 - 1); omit it and the server draws a crypto-random seed at each draw. Cannot change once an assignment was drawn.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  seed?: number;

  @ApiPropertyOptional({ example: 'pre_period_revenue_won', description: 'matched_pairs: the pre-period KPI (pre_period_<kpi>) or attribute to pair on' })
  @IsOptional()
  @Matches(COVARIATE_NAME)
  pair_on?: string;

  @ApiPropertyOptional({ type: RerandomizationDto, description: 'rerandomization: covariates and acceptance probability' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RerandomizationDto)
  rerandomization?: RerandomizationDto;

  @ApiPropertyOptional({ type: DesignConstraintsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DesignConstraintsDto)
  constraints?: DesignConstraintsDto;

  @ApiPropertyOptional({ default: 100000, description: 'Most draws the acceptance rule (rerandomization, revenue cap) may try' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_draws?: number;

  @ApiPropertyOptional({
    example: '2024-02-29',
    description:
      'Read the pre-period covariates (pre_period_<kpi>) as known at this instant (ISO with a zone, or a day = its end in UTC): field history, else the row versions known then. Stored in the design and its inputs hash; default: the data at the draw',
  })
  @IsOptional()
  @IsString()
  pre_period_as_of?: string;

  @ApiPropertyOptional({ example: ['Ada Park', 'Ben Ortiz'], description: 'chosen: the treated territory codes (1 to 5, eligible, not excluded)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  treated?: string[];

  @ApiPropertyOptional({ example: 2, description: 'selected: how many treated territories PilotLab picks (1 to 5)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  k?: number;

  @ApiPropertyOptional({ type: () => SelectionDto, description: 'selected: search and backtest settings' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SelectionDto)
  selection?: SelectionDto;
}

/** A guardrail KPI's non-inferiority margin (issue 3). */
export class GuardrailMarginDto {
  @ApiProperty({ enum: KPI_KEYS, example: 'win_rate', description: 'A KPI listed in guardrail_kpis' })
  @IsIn(KPI_KEYS)
  kpi: KpiKey;

  @ApiProperty({ example: 0.05, description: 'Largest tolerated worsening: a fraction of the control mean (relative, < 1) or KPI units (absolute)' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  margin: number;

  @ApiProperty({ enum: ['relative', 'absolute'] })
  @IsIn(['relative', 'absolute'])
  type: 'relative' | 'absolute';
}

/** A pilot as a sales-ops leader defines it. */
export class CreatePilotDto {
  @ApiProperty({ example: 'Technical specialist in chosen regions' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'A technical sales specialist joining the team raises sales velocity' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(5000)
  hypothesis: string;

  @ApiProperty({ example: 'technical sales specialist joins the team' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(5000)
  treatment_description: string;

  @ApiProperty({ type: EligibilityDto })
  @IsObject()
  @ValidateNested()
  @Type(() => EligibilityDto)
  eligibility: EligibilityDto;

  @ApiProperty({ type: [ArmDto], description: 'One control and 1 to 4 treatments' })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(5)
  @ValidateNested({ each: true })
  @Type(() => ArmDto)
  arms: ArmDto[];

  @ApiProperty({ enum: KPI_KEYS })
  @IsIn(KPI_KEYS)
  primary_kpi: KpiKey;

  @ApiPropertyOptional({ enum: KPI_KEYS, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(KPI_KEYS, { each: true })
  secondary_kpis?: KpiKey[];

  @ApiPropertyOptional({ enum: KPI_KEYS, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(KPI_KEYS, { each: true })
  guardrail_kpis?: KpiKey[];

  @ApiPropertyOptional({ type: [GuardrailMarginDto], description: 'Non-inferiority margins of guardrail KPIs; a guardrail without one is tested two-sided' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(7)
  @ValidateNested({ each: true })
  @Type(() => GuardrailMarginDto)
  guardrail_margins?: GuardrailMarginDto[];

  @ApiPropertyOptional({ enum: ['holm', 'bh'], default: 'holm', description: 'Adjustment of the secondary and guardrail KPIs (and of several treatment arms): Holm or Benjamini–Hochberg' })
  @IsOptional()
  @IsIn(['holm', 'bh'])
  multiple_testing?: 'holm' | 'bh';

  @ApiProperty({ type: WindowDto })
  @IsObject()
  @ValidateNested()
  @Type(() => WindowDto)
  pre_period: WindowDto;

  @ApiProperty({ type: WindowDto })
  @IsObject()
  @ValidateNested()
  @Type(() => WindowDto)
  test_period: WindowDto;

  @ApiPropertyOptional({ default: 0.05 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.0001)
  @Max(0.2)
  alpha?: number;

  @ApiProperty({ type: DesignDto })
  @IsObject()
  @ValidateNested()
  @Type(() => DesignDto)
  design: DesignDto;

  @ApiPropertyOptional({
    example: ['2024-02-01', '2024-03-01'],
    description: 'Planned interim look dates (UTC days strictly inside the test period, ascending); each gets a scheduled interim report with Lan–DeMets O\'Brien–Fleming boundaries. Part of the locked analysis plan.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @ArrayUnique()
  @IsIsoDate({ each: true })
  interim_looks?: string[];

  @ApiPropertyOptional({
    example: 12000,
    description:
      'Cost per month of running the treatment in all treatment territories (e.g. the specialist headcount), in the currency of the opportunity amounts; the HTML report sets it against the incremental revenue won',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0)
  @Max(99_999_999_999_999)
  monthly_cost?: number;

  @ApiPropertyOptional({
    example: 'EUR',
    description:
      'ISO 4217 currency of the amount KPIs (revenue won, average deal size, sales velocity) and of monthly_cost; default DEFAULT_CURRENCY (USD). Deals in other currencies are converted at the rate in force on their close date (docs/kpis.md)',
  })
  @IsOptional()
  @IsIsoCurrency()
  reporting_currency?: string;
}
