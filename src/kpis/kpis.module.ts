import { Module } from '@nestjs/common';
import { RollupsModule } from '../rollups/rollups.module';
import { KpiService } from './kpi.service';

@Module({ imports: [RollupsModule], providers: [KpiService], exports: [KpiService] })
export class KpisModule {}
