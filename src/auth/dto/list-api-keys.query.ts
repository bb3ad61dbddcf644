import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { PagingQuery } from '../../common/validation/paging.query';
import { StrictBoolean } from '../../common/validation/transforms';

/** Paging, and whether revoked keys are listed too. */
export class ListApiKeysQuery extends PagingQuery {
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @StrictBoolean()
  @IsBoolean()
  include_revoked?: boolean;
}
