import { Module } from '@nestjs/common';
import { OwnersController } from './owners.controller';
import { OwnersService } from './owners.service';

/** Owners (reps) mapped to territories with effective dates (territory attribution over time). */
@Module({ controllers: [OwnersController], providers: [OwnersService] })
export class OwnersModule {}
