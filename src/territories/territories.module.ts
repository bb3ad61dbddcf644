import { Module } from '@nestjs/common';
import { TerritoriesController } from './territories.controller';
import { TerritoriesService } from './territories.service';
import { TerritoryRepository } from './territory.repository';

@Module({
  controllers: [TerritoriesController],
  providers: [TerritoriesService, TerritoryRepository],
  exports: [TerritoryRepository],
})
export class TerritoriesModule {}
