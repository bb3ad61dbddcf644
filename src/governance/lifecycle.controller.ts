import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditedInService } from '../audit/audit.decorator';
import type { Principal } from '../common/auth/principal';
import { CurrentKey, RequestId } from '../auth/current-key.decorator';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { intParam } from '../common/validation/int-param.pipe';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { CompatibilityDto, DecisionDto, PlanAmendmentDto, TransitionDto } from './dto/governance.dto';
import { LifecycleAction } from './lifecycle';
import { LifecycleService } from './lifecycle.service';
import { PlanService } from './plan.service';
import { InterimLookService } from './interim-look.service';

const versionPipe = intParam('version');

/** Lifecycle transitions, locked plans and amendments, compatibility declarations, interim looks. */
@ApiTags('lifecycle')
@Controller('pilots/:id')
export class LifecycleController {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly plans: PlanService,
    private readonly looks: InterimLookService,
  ) {}

  private go(id: string, action: LifecycleAction, dto: TransitionDto, key: Principal, requestId?: string) {
    return this.lifecycle.transition(id, action, { key, requestId }, dto?.reason ?? null);
  }

  @Post('submit')
  @HttpCode(200)
  @Roles('sales_ops', 'experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'draft → in_review (a sales_ops key submits only its own pilots)' })
  submit(@Param('id', uuidParam('id')) id: string, @Body() dto: TransitionDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.go(id, 'submit', dto, key, rid);
  }

  @Post('return')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'in_review → draft: send back for changes' })
  return(@Param('id', uuidParam('id')) id: string, @Body() dto: TransitionDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.go(id, 'return', dto, key, rid);
  }

  @Post('approve')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'in_review → approved: freezes and hashes the analysis plan; never by the pilot author' })
  approve(@Param('id', uuidParam('id')) id: string, @Body() dto: TransitionDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.go(id, 'approve', dto, key, rid);
  }

  @Post('launch')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'approved → running: checks the assignment is fresh and reserves the territories' })
  launch(@Param('id', uuidParam('id')) id: string, @Body() dto: TransitionDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.go(id, 'launch', dto, key, rid);
  }

  @Post('stop')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'running → stopped (releases the territories)' })
  stop(@Param('id', uuidParam('id')) id: string, @Body() dto: TransitionDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.go(id, 'stop', dto, key, rid);
  }

  @Post('conclude')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'stopped → concluded' })
  conclude(@Param('id', uuidParam('id')) id: string, @Body() dto: TransitionDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.go(id, 'conclude', dto, key, rid);
  }

  @Post('archive')
  @HttpCode(200)
  @Roles('sales_ops', 'experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'concluded (or an abandoned draft) → archived' })
  archive(@Param('id', uuidParam('id')) id: string, @Body() dto: TransitionDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.go(id, 'archive', dto, key, rid);
  }

  @Get('transitions')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'The recorded lifecycle transitions, oldest first' })
  transitions(@Param('id', uuidParam('id')) id: string) {
    return this.lifecycle.history(id);
  }

  @Get('plan')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'The locked analysis plan: every version with its hash, status, reason and changed fields' })
  plan(@Param('id', uuidParam('id')) id: string) {
    return this.plans.list(id);
  }

  @Post('plan/amendments')
  @HttpCode(201)
  @Roles('sales_ops', 'experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'Propose a change of the locked plan with a reason; it applies once another key approves it' })
  propose(@Param('id', uuidParam('id')) id: string, @Body() dto: PlanAmendmentDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.plans.propose(id, dto.changes, dto.reason, { key, requestId: rid });
  }

  @Post('plan/amendments/:version/approve')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'Approve a pending amendment (not by its proposer nor the pilot author)' })
  approveAmendment(
    @Param('id', uuidParam('id')) id: string,
    @Param('version', versionPipe) version: number,
    @Body() dto: DecisionDto,
    @CurrentKey() key: Principal,
    @RequestId() rid?: string,
  ) {
    return this.plans.decide(id, version, 'approve', { key, requestId: rid }, dto?.note);
  }

  @Post('plan/amendments/:version/reject')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'Reject a pending amendment' })
  rejectAmendment(
    @Param('id', uuidParam('id')) id: string,
    @Param('version', versionPipe) version: number,
    @Body() dto: DecisionDto,
    @CurrentKey() key: Principal,
    @RequestId() rid?: string,
  ) {
    return this.plans.decide(id, version, 'reject', { key, requestId: rid }, dto?.note);
  }

  @Post('compatible-pilots')
  @HttpCode(200)
  @Roles('experimenter')
  @AuditedInService()
  @ApiOperation({ summary: 'Declare another pilot compatible (both must declare each other to share territories while running)' })
  declareCompatible(@Param('id', uuidParam('id')) id: string, @Body() dto: CompatibilityDto, @CurrentKey() key: Principal, @RequestId() rid?: string) {
    return this.lifecycle.declareCompatible(id, dto.pilot_id, dto.reason, { key, requestId: rid });
  }

  @Get('compatible-pilots')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'The pilots this one declared compatible, and whether the declaration is mutual' })
  compatible(@Param('id', uuidParam('id')) id: string) {
    return this.lifecycle.compatibility(id);
  }

  @Get('interim-looks')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Planned and taken interim looks with their O\'Brien–Fleming boundaries and recommendations' })
  interimLooks(@Param('id', uuidParam('id')) id: string) {
    return this.looks.list(id);
  }
}
