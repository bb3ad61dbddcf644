import { Module } from '@nestjs/common';
import { RollupsService } from './rollups.service';

/** Per pilot × territory × ISO-week KPI rollups (the processor and scheduler are added by the worker and API modules). */
@Module({ providers: [RollupsService], exports: [RollupsService] })
export class RollupsModule {}
