import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { PilotEntity } from '../pilots/pilot.entity';

export type PowerAnalysisStatus = 'queued' | 'running' | 'completed' | 'failed';

/**
 * One power/MDE request of a pilot: the request, the analytic part (written at request time), the
 * simulation part and the progress of its `power` job. Keys, check and index as in migration
 * 1765200000000-DesignsAndPower (migration drift check).
 */
@Entity('power_analyses')
@Index('ix_power_analyses_pilot', ['pilotId', 'requestedAt'])
@Check('ck_power_analyses_status', `status IN ('queued', 'running', 'completed', 'failed')`)
export class PowerAnalysisEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid', name: 'pilot_id' })
  @ForeignKey(() => PilotEntity, { name: 'power_analyses_pilot_id_fkey', onDelete: 'CASCADE' })
  pilotId: string;

  @Column({ type: 'varchar', length: 16 })
  status: PowerAnalysisStatus;

  @Column({ type: 'jsonb' })
  request: Record<string, unknown>;

  @Column({ type: 'jsonb', nullable: true })
  analytic: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  simulation: Record<string, unknown> | null;

  @Column({ type: 'integer', name: 'simulations_total' })
  simulationsTotal: number;

  @Column({ type: 'integer', name: 'simulations_done', default: 0 })
  simulationsDone: number;

  @Column({ type: 'timestamptz', name: 'requested_at', default: () => 'now()' })
  requestedAt: Date;

  @Column({ type: 'timestamptz', name: 'enqueued_at', nullable: true })
  enqueuedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true })
  completedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
