import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsIsoDate } from '../../common/validation/is-iso-date';

/**
 * One effective-dated mapping of an owner (rep) to a territory: from `valid_from` to `valid_to`,
 * both calendar days inclusive (UTC); `valid_to` absent or null = still in force.
 */
export class OwnerTerritoryDto {
  @ApiProperty({ example: 'rep-0042' }) @IsString() @Length(1, 128) owner: string;
  @ApiProperty({ example: 'T-North-1', description: 'Territory code' }) @IsString() @MaxLength(128) territory: string;
  @ApiProperty({ example: '2024-01-01' }) @IsIsoDate() valid_from: string;
  @ApiPropertyOptional({ example: '2024-06-30', nullable: true }) @IsOptional() @IsIsoDate() valid_to?: string | null;
}

/** The answer to a mapping load. */
export class OwnerTerritoriesResultDto {
  @ApiProperty() inserted: number;
  @ApiProperty() updated: number;
  @ApiProperty({ description: 'Version of the owner mapping after this load (rollups are recomputed when it changes)' })
  mapping_version: number;
}
