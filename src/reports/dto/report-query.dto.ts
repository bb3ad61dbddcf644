import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { StrictBoolean } from '../../common/validation/transforms';

/** Options of GET /pilots/:id/reports/:reportId. */
export class ReportQueryDto {
  @ApiPropertyOptional({ default: true, description: "Include each territory's KPI values (true or false)" })
  @IsOptional()
  @StrictBoolean()
  @IsBoolean({ message: 'include_territories must be true or false' })
  include_territories: boolean = true;
}
