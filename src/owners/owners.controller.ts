import 'multer';
import { Body, Controller, Get, HttpCode, Param, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { AppException } from '../common/errors/app.exception';
import { ParseDtoArrayPipe } from '../common/validation/parse-dto-array.pipe';
import { OwnerTerritoriesResultDto, OwnerTerritoryDto } from './dto/owner-territory.dto';
import { MAX_OWNER_ROWS_PER_REQUEST, OwnersService } from './owners.service';

@ApiTags('owners')
@Controller('owners')
export class OwnersController {
  constructor(private readonly service: OwnersService) {}

  @Post('territories')
  @HttpCode(200)
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Load owner (rep) → territory mappings with effective dates (JSON array)' })
  @ApiBody({ type: [OwnerTerritoryDto] })
  load(@Body(new ParseDtoArrayPipe(OwnerTerritoryDto, MAX_OWNER_ROWS_PER_REQUEST)) items: OwnerTerritoryDto[]): Promise<OwnerTerritoriesResultDto> {
    return this.service.load(items);
  }

  @Post('territories/csv')
  @HttpCode(200)
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Load owner → territory mappings from a CSV (owner,territory,valid_from,valid_to)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } })
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: 20 * 1024 * 1024, files: 1 } }))
  async loadCsv(@UploadedFile() file?: Express.Multer.File): Promise<OwnerTerritoriesResultDto> {
    if (!file) throw new AppException('VALIDATION_FAILED', 'Send the CSV as multipart field "file"');
    return this.service.load(await this.service.fromCsv(file.buffer));
  }

  @Get(':owner/territories')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "An owner's territory mapping over time" })
  history(@Param('owner') owner: string) {
    return this.service.history(owner);
  }
}
