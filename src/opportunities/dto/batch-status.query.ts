import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_OFFSET } from '../../common/validation/paging.query';
import { StrictInt } from '../../common/validation/transforms';

/** Paging of a batch's rejected rows. */
export class BatchStatusQuery {
  @ApiPropertyOptional({ default: 1000 }) @IsOptional() @StrictInt() @IsInt() @Min(1) @Max(10_000) limit: number = 1000;
  @ApiPropertyOptional({ default: 0, maximum: MAX_OFFSET }) @IsOptional() @StrictInt() @IsInt() @Min(0) @Max(MAX_OFFSET) offset: number = 0;
}
