import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PagingQuery } from '../common/validation/paging.query';

/** Filters of GET /audit; all optional, combined with AND. */
export class AuditQuery extends PagingQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() pilot_id?: string;
  @ApiPropertyOptional({ example: 'pilot' }) @IsOptional() @IsString() @MaxLength(50) entity_type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) entity_id?: string;
  @ApiPropertyOptional({ example: 'pilot.approved' }) @IsOptional() @IsString() @MaxLength(100) action?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() actor_key_id?: string;
  @ApiPropertyOptional({ description: 'ISO 8601 instant, inclusive' }) @IsOptional() @IsDateString() from?: string;
  @ApiPropertyOptional({ description: 'ISO 8601 instant, exclusive' }) @IsOptional() @IsDateString() to?: string;
}

