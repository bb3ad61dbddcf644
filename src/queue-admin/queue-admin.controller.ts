import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { BatchStatusQuery } from '../opportunities/dto/batch-status.query';
import { QueueAdminService } from './queue-admin.service';

@ApiTags('queues')
@Controller('queues')
export class QueueAdminController {
  constructor(private readonly service: QueueAdminService) {}

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Job counts per queue (waiting, delayed, active, completed, failed)' })
  counts() {
    return this.service.counts();
  }

  @Get(':queue/failed')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Failed jobs of a queue (ingestion, analysis, rollups), newest first, with the reason' })
  failed(@Param('queue') queue: string, @Query() query: BatchStatusQuery) {
    return this.service.failed(queue, Math.min(query.limit, 1000), query.offset);
  }

  @Post(':queue/jobs/:jobId/retry')
  @HttpCode(202)
  @Roles('sales_ops', 'experimenter')
  @ApiOperation({ summary: 'Retry a failed job; its batch or report goes back to queued first' })
  retry(@Param('queue') queue: string, @Param('jobId') jobId: string) {
    return this.service.retry(queue, jobId);
  }
}
