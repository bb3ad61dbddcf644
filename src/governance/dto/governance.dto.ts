import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNotEmpty, IsObject, IsOptional, IsString, IsUUID, MaxLength, ValidateNested } from 'class-validator';
import { CreatePilotDto } from '../../pilots/dto/create-pilot.dto';

/** Optional reason recorded with a lifecycle transition. */
export class TransitionDto {
  @ApiPropertyOptional({ example: 'balance checked; plan agreed with finance' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  reason?: string;
}

/** Declares another pilot compatible (they may share territories while both run, once both declare it). */
export class CompatibilityDto {
  @ApiProperty({ description: 'The other pilot' })
  @IsUUID()
  pilot_id: string;

  @ApiProperty({ example: 'the two treatments touch different parts of the sales process' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  reason: string;
}

/** The plan fields an amendment may change (any subset). */
export class PlanChangesDto extends PartialType(
  PickType(CreatePilotDto, ['primary_kpi', 'secondary_kpis', 'guardrail_kpis', 'guardrail_margins', 'multiple_testing', 'alpha', 'pre_period', 'test_period', 'interim_looks'] as const),
) {}

/** A proposed change of a locked plan, with its reason (shown in every later report). */
export class PlanAmendmentDto {
  @ApiProperty({ type: PlanChangesDto })
  @IsObject()
  @ValidateNested()
  @Type(() => PlanChangesDto)
  changes: PlanChangesDto;

  @ApiProperty({ example: 'the CRM changed its close-date rule on 1 March; end the test period before it' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  reason: string;
}

/** An optional note with an amendment decision. */
export class DecisionDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}
