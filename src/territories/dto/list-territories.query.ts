import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { MAX_OFFSET } from '../../common/validation/paging.query';
import { StrictInt } from '../../common/validation/transforms';

/** Query of GET /territories: optional region filter and paging. */
export class ListTerritoriesQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() region?: string;
  @ApiPropertyOptional({ default: 100 }) @IsOptional() @StrictInt() @IsInt() @Min(1) @Max(1000) limit: number = 100;
  @ApiPropertyOptional({ default: 0, maximum: MAX_OFFSET }) @IsOptional() @StrictInt() @IsInt() @Min(0) @Max(MAX_OFFSET) offset: number = 0;
}
