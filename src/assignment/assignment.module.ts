import { Module } from '@nestjs/common';
import { KpisModule } from '../kpis/kpis.module';
import { PilotsModule } from '../pilots/pilots.module';
import { TerritoriesModule } from '../territories/territories.module';
import { AssignmentController } from './assignment.controller';
import { AssignmentRepository } from './assignment.repository';
import { AssignmentService } from './assignment.service';
import { AssignmentDrawRepository } from './assignment-draws';

@Module({
  imports: [PilotsModule, TerritoriesModule, KpisModule],
  controllers: [AssignmentController],
  providers: [AssignmentService, AssignmentRepository, AssignmentDrawRepository],
  exports: [AssignmentService, AssignmentRepository, AssignmentDrawRepository],
})
export class AssignmentModule {}
