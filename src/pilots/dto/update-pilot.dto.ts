import { PartialType } from '@nestjs/swagger';
import { CreatePilotDto } from './create-pilot.dto';

/** Edits to a draft pilot; any field of {@link CreatePilotDto}. */
export class UpdatePilotDto extends PartialType(CreatePilotDto) {}
