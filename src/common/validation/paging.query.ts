import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { StrictInt } from './transforms';

/** The largest offset a list accepts (PostgreSQL's int4 range; far beyond any real list, and exact in a JS number). */
export const MAX_OFFSET = 2_147_483_647;

/** limit/offset paging for list endpoints. */
export class PagingQuery {
  @ApiPropertyOptional({ default: 50 }) @IsOptional() @StrictInt() @IsInt() @Min(1) @Max(500) limit: number = 50;
  @ApiPropertyOptional({ default: 0, maximum: MAX_OFFSET }) @IsOptional() @StrictInt() @IsInt() @Min(0) @Max(MAX_OFFSET) offset: number = 0;
}
