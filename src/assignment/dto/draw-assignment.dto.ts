import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** Body of POST /pilots/:id/assignment (optional for the first draw). */
export class DrawAssignmentDto {
  @ApiPropertyOptional({ description: 'Why the assignment is drawn again; required for every draw after the first', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  reason?: string;

  @ApiPropertyOptional({
    description: "Only the plan's stated seed is accepted (the server draws the seed otherwise); any other seed is refused with 409 SEED_LOCKED",
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  seed?: number;
}
