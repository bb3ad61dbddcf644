import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { PilotEntity } from '../pilots/pilot.entity';
import type { PilotReport } from './report.types';
import { bigintTransformer } from '../common/database/transformers';

export type ReportStatus = 'queued' | 'running' | 'completed' | 'failed';

/** A requested pilot report; `result` is written once by the analysis job. */
// Check, index and foreign key declared here so entities and migrations agree (migration drift check).
@Entity('reports')
@Index('ix_reports_pilot', ['pilotId', 'requestedAt'])
@Check('ck_reports_status', `status IN ('queued', 'running', 'completed', 'failed')`)
export class ReportEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid', name: 'pilot_id' })
  @ForeignKey(() => PilotEntity, { name: 'reports_pilot_id_fkey', onDelete: 'CASCADE' })
  pilotId: string;

  @Column({ type: 'varchar', length: 16 })
  status: ReportStatus;

  @Column({ type: 'timestamptz', name: 'enqueued_at', nullable: true })
  enqueuedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'requested_at', default: () => 'now()' })
  requestedAt: Date;

  @Column({ type: 'timestamptz', name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true })
  completedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'data_cutoff_at', nullable: true })
  dataCutoffAt: Date | null;

  /** The data version (batch commit order) the report read; recomputing at it gives the same numbers. */
  @Column({ type: 'bigint', name: 'data_version', nullable: true, transformer: bigintTransformer })
  dataVersion: number | null;

  /** Optional source-time cut-off: only opportunity versions with version_at <= as_of count. */
  @Column({ type: 'timestamptz', name: 'as_of', nullable: true })
  asOf: Date | null;

  /** With `as_of`: only field-history rows received by then are read (pinned at the first computation; docs/kpis.md, "As-of reports"). */
  @Column({ type: 'timestamptz', name: 'history_received_by', nullable: true })
  historyReceivedBy: Date | null;

  /** `json`, not `jsonb`: the report keeps its key order (it is read whole, never queried inside). */
  @Column({ type: 'json', nullable: true })
  result: PilotReport | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /**
   * The report's HTML page, rendered once when the report completes (or on the first read of an
   * older report) and served as stored. `select: false`: no JSON answer loads or carries it.
   */
  @Column({ type: 'text', nullable: true, select: false })
  html: string | null;
}
