import { Module } from '@nestjs/common';
import { TerritoriesModule } from '../territories/territories.module';
import { EligibilityService } from './eligibility.service';
import { PilotRepository } from './pilot.repository';
import { PilotsController } from './pilots.controller';
import { PilotsService } from './pilots.service';

@Module({
  imports: [TerritoriesModule],
  controllers: [PilotsController],
  providers: [PilotsService, PilotRepository, EligibilityService],
  exports: [PilotRepository, EligibilityService],
})
export class PilotsModule {}
