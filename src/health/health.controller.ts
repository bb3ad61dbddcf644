import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { QUEUES } from '../queues/queue.constants';
import { Public } from '../common/auth/roles';

async function within<T>(ms: number, work: Promise<T>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.ingestion) private readonly ingestion: Queue,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness of PostgreSQL and Redis (200 when both answer within 1 s, else 503)' })
  async check(@Res() res: Response): Promise<void> {
    const [postgres, redis] = await Promise.all([
      within(1_000, this.dataSource.query('SELECT 1')),
      within(1_000, this.ingestion.client.then((c) => (c as unknown as { ping(): Promise<string> }).ping())),
    ]);
    const ok = postgres && redis;
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ status: ok ? 'ok' : 'degraded', postgres, redis });
  }
}
