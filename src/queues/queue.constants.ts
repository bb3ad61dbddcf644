import type { DefaultJobOptions } from 'bullmq';

/** The only place queue and job names live (immich `JOBS_TO_QUEUE`). */
export const QUEUES = {
  ingestion: 'ingestion',
  analysis: 'analysis',
  rollups: 'rollups',
  governance: 'governance',
  power: 'power',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOBS = {
  ingestBatch: 'ingest-batch',
  computeReport: 'compute-report',
  refreshRollups: 'refresh-rollups',
  /** repeatable (job scheduler): takes the interim looks that are due */
  interimLookSweep: 'interim-look-sweep',
  computePower: 'compute-power',
} as const;

/** Payloads carry ids only; processors re-read PostgreSQL (novu `run-job.usecase.ts`). */
export interface IngestBatchPayload {
  batchId: string;
}
export interface ComputeReportPayload {
  reportId: string;
}
export interface RefreshRollupsPayload {
  pilotId: string;
}

/** The deduplication id of a pilot's debounced rollup refresh (and its job scheduler id). */
/** Payload of a `compute-power` job: the id of the power_analyses row only. */
export interface ComputePowerPayload {
  powerAnalysisId: string;
}

export function rollupJobKey(pilotId: string): string {
  return `rollups:${pilotId}`;
}

/**
 * Defaults for every queue: retries with exponential backoff, count-bounded retention (bullmq
 * production notes). Handlers are idempotent; the dedupe lives in PostgreSQL, not in job ids
 * (pitfall P14).
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 5_000 },
};

/** Worker settings per queue: lock long enough for the slowest chunk of work between renewals. */
export const WORKER_OPTIONS: Record<QueueName, { concurrency: number; lockDuration: number }> = {
  ingestion: { concurrency: 2, lockDuration: 60_000 },
  analysis: { concurrency: 1, lockDuration: 120_000 },
  rollups: { concurrency: 1, lockDuration: 120_000 },
  governance: { concurrency: 1, lockDuration: 300_000 },
  power: { concurrency: 1, lockDuration: 120_000 },
};

/** Parses WORKER_QUEUES ("ingestion,analysis") into known queue names. @throws on unknown names. */
export function parseWorkerQueues(value: string): QueueName[] {
  const known = Object.values(QUEUES) as string[];
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`WORKER_QUEUES names unknown queues: ${unknown.join(', ')}`);
  return names as QueueName[];
}
