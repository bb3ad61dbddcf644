import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsIsoDateOrInstant } from '../common/validation/is-iso-instant';
import { PagingQuery } from '../common/validation/paging.query';

/** Filters of GET /audit; all optional, combined with AND. */
export class AuditQuery extends PagingQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() pilot_id?: string;
  @ApiPropertyOptional({ example: 'pilot' }) @IsOptional() @IsString() @MaxLength(50) entity_type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) entity_id?: string;
  @ApiPropertyOptional({ example: 'pilot.approved' }) @IsOptional() @IsString() @MaxLength(100) action?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() actor_key_id?: string;
  @ApiPropertyOptional({ description: 'YYYY-MM-DD (00:00 UTC) or ISO 8601 instant with a zone, inclusive' }) @IsOptional() @IsIsoDateOrInstant() from?: string;
  @ApiPropertyOptional({ description: 'YYYY-MM-DD (00:00 UTC) or ISO 8601 instant with a zone, exclusive' }) @IsOptional() @IsIsoDateOrInstant() to?: string;
}

