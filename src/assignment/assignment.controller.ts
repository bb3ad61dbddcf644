import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
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
  @ApiOperation({ summary: 'Draw (or redraw, while draft) the seeded assignment of territories to arms' })
  assign(@Param('id', uuidParam('id')) id: string) {
    return this.service.assign(id);
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
