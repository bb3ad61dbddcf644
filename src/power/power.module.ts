import { Module } from '@nestjs/common';
import { KpisModule } from '../kpis/kpis.module';
import { PilotsModule } from '../pilots/pilots.module';
import { PowerHistory } from './power-history';
import { PowerJobService } from './power-job.service';
import { PowerRequeueScheduler } from './power-requeue.scheduler';
import { PowerController } from './power.controller';
import { PowerService } from './power.service';

/** Power and MDE planning: POST/GET /pilots/:id/power (API) and the history it reads. */
@Module({
  imports: [PilotsModule, KpisModule],
  controllers: [PowerController],
  providers: [PowerService, PowerHistory, PowerRequeueScheduler],
  exports: [PowerHistory],
})
export class PowerModule {}

/** The worker side: the simulation job's service (the processor is registered by WorkerModule). */
@Module({
  imports: [PilotsModule, KpisModule],
  providers: [PowerHistory, PowerJobService],
  exports: [PowerJobService],
})
export class PowerWorkerModule {}
