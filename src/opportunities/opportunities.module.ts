import { Module } from '@nestjs/common';
import { RollupsModule } from '../rollups/rollups.module';
import { TerritoriesModule } from '../territories/territories.module';
import { BatchRepository } from './batch.repository';
import { BatchService } from './batch.service';
import { ImportSourcesController, ImportSourceService } from './import-profiles/import-sources';
import { IngestionService } from './ingestion.service';
import { FieldHistoryController } from './history/field-history.controller';
import { FieldHistoryService } from './history/field-history.service';
import { OpportunitiesController } from './opportunities.controller';
import { OpportunityRepository } from './opportunity.repository';

/** HTTP side of opportunity ingestion (the worker side is OpportunitiesWorkerModule). */
@Module({
  imports: [TerritoriesModule, RollupsModule],
  controllers: [OpportunitiesController, FieldHistoryController, ImportSourcesController],
  providers: [FieldHistoryService, ImportSourceService, BatchService, BatchRepository, OpportunityRepository, IngestionService],
  exports: [BatchService, IngestionService, BatchRepository],
})
export class OpportunitiesModule {}
