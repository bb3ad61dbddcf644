import { Module } from '@nestjs/common';
import { KpisModule } from '../kpis/kpis.module';
import { PilotsModule } from '../pilots/pilots.module';
import { TerritoriesModule } from '../territories/territories.module';
import { AssignmentController } from './assignment.controller';
import { AssignmentRepository } from './assignment.repository';
import { AssignmentService } from './assignment.service';
import { AssignmentDrawRepository } from './assignment-draws';
import { FewTreatedPlanner } from './few-treated-plan';

@Module({
  imports: [PilotsModule, TerritoriesModule, KpisModule],
  controllers: [AssignmentController],
  providers: [AssignmentService, AssignmentRepository, AssignmentDrawRepository, FewTreatedPlanner],
  exports: [AssignmentService, AssignmentRepository, AssignmentDrawRepository],
})
export class AssignmentModule {}
