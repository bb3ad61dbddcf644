import 'multer';
import { Body, Controller, Get, HttpCode, Param, Post, Query, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppException } from '../common/errors/app.exception';
import { ParseDtoArrayPipe } from '../common/validation/parse-dto-array.pipe';
import { ListTerritoriesQuery } from './dto/list-territories.query';
import { UpsertTerritoriesResultDto, UpsertTerritoryDto } from './dto/territory.dto';
import { MAX_TERRITORIES_PER_REQUEST, TerritoriesService } from './territories.service';
import { ALL_ROLES, Roles } from '../common/auth/roles';

@ApiTags('territories')
@Controller('territories')
export class TerritoriesController {
  constructor(private readonly service: TerritoriesService) {}

  @Post()
  @Roles('sales_ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create or update territories by code (JSON array, up to 10,000)' })
  @ApiBody({ type: [UpsertTerritoryDto] })
  upsert(
    @Body(new ParseDtoArrayPipe(UpsertTerritoryDto, MAX_TERRITORIES_PER_REQUEST)) items: UpsertTerritoryDto[],
  ): Promise<UpsertTerritoriesResultDto> {
    return this.service.upsert(items);
  }

  @Post('csv')
  @Roles('sales_ops')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create or update territories from a CSV file (code,name,region,team,manager,<covariates>...)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } })
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: 20 * 1024 * 1024, files: 1 } }))
  upsertCsv(@UploadedFile() file?: Express.Multer.File): Promise<UpsertTerritoriesResultDto> {
    if (!file) throw new AppException('VALIDATION_FAILED', 'Send the CSV as multipart field "file"');
    return this.service.upsertFromCsv(file.buffer);
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'List territories' })
  list(@Query() query: ListTerritoriesQuery) {
    return this.service.list(query);
  }

  @Get(':code')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Read one territory by code' })
  get(@Param('code') code: string) {
    return this.service.get(code);
  }
}
