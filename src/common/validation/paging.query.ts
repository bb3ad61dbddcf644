import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { StrictInt } from './transforms';

/** limit/offset paging for list endpoints. */
export class PagingQuery {
  @ApiPropertyOptional({ default: 50 }) @IsOptional() @StrictInt() @IsInt() @Min(1) @Max(500) limit: number = 50;
  @ApiPropertyOptional({ default: 0 }) @IsOptional() @StrictInt() @IsInt() @Min(0) offset: number = 0;
}
