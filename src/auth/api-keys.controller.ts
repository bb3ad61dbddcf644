import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditedInService } from '../audit/audit.decorator';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import type { Principal } from '../common/auth/principal';
import { ApiKeyService } from './api-key.service';
import { CurrentKey, RequestId } from './current-key.decorator';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { ListApiKeysQuery } from './dto/list-api-keys.query';
import { ALL_ROLES, Roles } from '../common/auth/roles';

@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  @Roles('admin')
  @AuditedInService()
  @ApiOperation({ summary: 'Create an API key with one role; the key is in this response only (stored hashed)' })
  create(@Body() dto: CreateApiKeyDto, @CurrentKey() by: Principal, @RequestId() requestId?: string) {
    return this.keys.create(dto, by, requestId);
  }

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'List API keys (never their secrets)' })
  list(@Query() query: ListApiKeysQuery) {
    return this.keys.list(query);
  }

  @Get('me')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'The calling key: id, name, role' })
  me(@CurrentKey() key: Principal) {
    return key;
  }

  @Post(':keyId/revoke')
  @HttpCode(200)
  @Roles('admin')
  @AuditedInService()
  @ApiOperation({ summary: 'Revoke an API key (immediately; idempotent)' })
  revoke(@Param('keyId', uuidParam('keyId')) id: string, @CurrentKey() by: Principal, @RequestId() requestId?: string) {
    return this.keys.revoke(id, by, requestId);
  }
}
