import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { AuditedInService } from '../audit/audit.decorator';
import type { Principal } from '../common/auth/principal';
import { CurrentKey, RequestId } from '../auth/current-key.decorator';
import { DrawAssignmentDto } from './dto/draw-assignment.dto';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { AssignmentService } from './assignment.service';

@ApiTags('assignment')
@Controller('pilots/:id')
export class AssignmentController {
  constructor(private readonly service: AssignmentService) {}

  @Post('assignment')
  @HttpCode(201)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({
    summary:
      "Draw (or redraw, while draft) the seeded assignment of territories to arms; the seed is the plan's or the server's, every draw is recorded, a redraw needs a reason",
  })
  assign(@Param('id', uuidParam('id')) id: string, @Body() dto: DrawAssignmentDto, @CurrentKey() key: Principal, @RequestId() requestId?: string) {
    return this.service.assign(id, dto ?? {}, { key, requestId });
  }

  @Get('assignment')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "Each territory's arm and the balance table" })
  get(@Param('id', uuidParam('id')) id: string) {
    return this.service.get(id);
  }

  @Get('assignment/verify')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Replay the stored assignment from its stored seed, design and inputs and confirm it is identical' })
  verify(@Param('id', uuidParam('id')) id: string) {
    return this.service.verify(id);
  }
}
