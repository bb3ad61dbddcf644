import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AssignmentService } from './assignment.service';

@ApiTags('assignment')
@Controller('pilots/:id')
export class AssignmentController {
  constructor(private readonly service: AssignmentService) {}

  @Post('assignment')
  @HttpCode(201)
  @ApiOperation({ summary: 'Draw (or redraw, while draft) the seeded assignment of territories to arms' })
  assign(@Param('id', uuidParam('id')) id: string) {
    return this.service.assign(id);
  }

  @Get('assignment')
  @ApiOperation({ summary: "Each territory's arm and the balance table" })
  get(@Param('id', uuidParam('id')) id: string) {
    return this.service.get(id);
  }

  @Post('launch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Launch: freezes design and assignment' })
  launch(@Param('id', uuidParam('id')) id: string) {
    return this.service.launch(id);
  }

  @Post('stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a running pilot' })
  stop(@Param('id', uuidParam('id')) id: string) {
    return this.service.stop(id);
  }
}
