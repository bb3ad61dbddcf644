import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { Role, ROLES } from '../../common/auth/roles';

/** A new API key: a label and its one role. */
export class CreateApiKeyDto {
  @ApiProperty({ example: 'experimentation team laptop' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}
