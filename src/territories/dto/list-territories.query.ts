import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { StrictInt } from '../../common/validation/transforms';

/** Query of GET /territories: optional region filter and paging. */
export class ListTerritoriesQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() region?: string;
  @ApiPropertyOptional({ default: 100 }) @IsOptional() @StrictInt() @IsInt() @Min(1) @Max(1000) limit: number = 100;
  @ApiPropertyOptional({ default: 0 }) @IsOptional() @StrictInt() @IsInt() @Min(0) offset: number = 0;
}
