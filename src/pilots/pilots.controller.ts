import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditedInService } from '../audit/audit.decorator';
import type { Principal } from '../common/auth/principal';
import { CurrentKey, RequestId } from '../auth/current-key.decorator';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { PagingQuery } from '../common/validation/paging.query';
import { CreatePilotDto } from './dto/create-pilot.dto';
import { UpdatePilotDto } from './dto/update-pilot.dto';
import { PilotsService } from './pilots.service';

@ApiTags('pilots')
@Controller('pilots')
export class PilotsController {
  constructor(private readonly service: PilotsService) {}

  @Post()
  @Roles('sales_ops')
  @AuditedInService()
  @ApiOperation({ summary: 'Define a pilot (draft); the calling key is its author' })
  create(@Body() dto: CreatePilotDto, @CurrentKey() key: Principal, @RequestId() requestId?: string) {
    return this.service.create(dto, { key, requestId });
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'List pilots, newest first' })
  list(@Query() query: PagingQuery) {
    return this.service.list(query);
  }

  @Get(':id')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Read a pilot' })
  get(@Param('id', uuidParam('id')) id: string) {
    return this.service.get(id);
  }

  @Patch(':id')
  @Roles('sales_ops', 'experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'Edit a draft pilot (409 once submitted; a sales_ops key edits only its own pilots)' })
  update(@Param('id', uuidParam('id')) id: string, @Body() dto: UpdatePilotDto, @CurrentKey() key: Principal, @RequestId() requestId?: string) {
    return this.service.update(id, dto, { key, requestId });
  }
}
