import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/roles';
import { AuditQuery } from './audit.query';
import { AuditService } from './audit.service';

/** Read-only: the audit trail has no write, update or delete route. */
@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('experimenter', 'analyst')
  @ApiOperation({ summary: 'The audit trail, oldest first, with filters and paging' })
  list(@Query() q: AuditQuery) {
    return this.audit.find(q);
  }
}
