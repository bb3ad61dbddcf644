import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';

/**
 * Optional body of POST /pilots/:id/reports: compute the report on earlier data, to reproduce a
 * past report exactly (its `data.data_version` and `data.as_of`).
 */
export class RequestReportDto {
  @ApiPropertyOptional({ description: 'Data version to read (batches committed up to it); default: the latest', example: 12 })
  @IsOptional()
  @IsInt()
  @Min(0)
  data_version?: number;

  @ApiPropertyOptional({
    description: 'As known at: an ISO instant with a zone, or a day YYYY-MM-DD (its end, UTC). KPIs use each opportunity as known then: stage, amount and close date rebuilt from the field history, else the newest row version with version_at at or before it',
    example: '2024-06-30T23:59:59Z',
  })
  @IsOptional()
  @IsString()
  /** An ISO 8601 instant with a zone or a day (checked by ReportsService). */
  as_of?: string;

  @ApiPropertyOptional({
    description: "With as_of: read only field-history rows received at or before this instant (a past report's result.data.as_of_state.history_received_by, to recompute it exactly); default: every row received so far",
    example: '2024-07-01T08:00:00.000Z',
  })
  @IsOptional()
  @IsString()
  history_received_by?: string;
}
