import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/auth/roles';
import { DependencyHealthService } from './dependency-health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: DependencyHealthService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'PostgreSQL and Redis (200 when both answer within 1 s, else 503 naming the one that is down)' })
  async check(@Res() res: Response): Promise<void> {
    const { ok, body } = await this.health.check();
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json(body);
  }
}
