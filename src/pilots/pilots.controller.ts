import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PagingQuery } from '../common/validation/paging.query';
import { CreatePilotDto } from './dto/create-pilot.dto';
import { UpdatePilotDto } from './dto/update-pilot.dto';
import { PilotsService } from './pilots.service';

@ApiTags('pilots')
@Controller('pilots')
export class PilotsController {
  constructor(private readonly service: PilotsService) {}

  @Post()
  @ApiOperation({ summary: 'Define a pilot (draft)' })
  create(@Body() dto: CreatePilotDto) {
    return this.service.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List pilots, newest first' })
  list(@Query() query: PagingQuery) {
    return this.service.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a pilot' })
  get(@Param('id', uuidParam('id')) id: string) {
    return this.service.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Edit a draft pilot (409 after launch)' })
  update(@Param('id', uuidParam('id')) id: string, @Body() dto: UpdatePilotDto) {
    return this.service.update(id, dto);
  }
}
