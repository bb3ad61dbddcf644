import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { PowerRequestDto } from './dto/power-request.dto';
import { PowerService } from './power.service';

@ApiTags('power')
@Controller('pilots/:id/power')
export class PowerController {
  constructor(private readonly service: PowerService) {}

  @Post()
  @HttpCode(202)
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Plan power and MDE (works for a draft): analytic part at once, placebo simulation as a job' })
  request(@Param('id', uuidParam('id')) id: string, @Body() body: PowerRequestDto) {
    return this.service.request(id, body);
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "List the pilot's power analyses" })
  list(@Param('id', uuidParam('id')) id: string) {
    return this.service.list(id);
  }

  @Get(':powerId')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'A power analysis: analytic plan, simulation progress and result' })
  get(@Param('id', uuidParam('id')) id: string, @Param('powerId', uuidParam('powerId')) powerId: string) {
    return this.service.get(id, powerId);
  }
}
