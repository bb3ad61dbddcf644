import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { IsNumericRecord } from '../../common/validation/is-numeric-record';

/** One territory to create or update (matched on `code`). */
export class UpsertTerritoryDto {
  @ApiProperty({ example: 'Ada Park', description: 'Unique code; re-posting a code updates that territory' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  @Matches(/^\S(.*\S)?$/, { message: 'code must not start or end with white space' })
  code: string;

  @ApiProperty({ example: 'Ada Park' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  name: string;

  @ApiProperty({ example: 'Central', description: 'Region (a stratum candidate)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  region: string;

  @ApiPropertyOptional({ example: 'Mona Reyes', nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(128)
  team?: string | null;

  @ApiPropertyOptional({ example: 'Mona Reyes', nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(256)
  manager?: string | null;

  @ApiPropertyOptional({
    example: { pre_won_revenue: 120500, pre_opportunities: 61 },
    description: 'Numeric covariates by name',
    type: 'object',
    additionalProperties: { type: 'number' },
  })
  @IsOptional()
  @IsNumericRecord()
  attributes?: Record<string, number>;
}

/** What a territory load did: rows received, created and updated. */
export class UpsertTerritoriesResultDto {
  @ApiProperty() received: number;
  @ApiProperty() created: number;
  @ApiProperty() updated: number;
}
