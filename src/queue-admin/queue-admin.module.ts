import { Module } from '@nestjs/common';
import { QueueAdminController } from './queue-admin.controller';
import { QueueAdminService } from './queue-admin.service';

/** HTTP operations on the queues (API only). */
@Module({ controllers: [QueueAdminController], providers: [QueueAdminService] })
export class QueueAdminModule {}
