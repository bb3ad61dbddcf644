import { DataSource } from 'typeorm';

/** Tables whose rows are queued work with `status`, `requested_at`, `enqueued_at` and `started_at`. */
export type RequeueTable = 'reports' | 'power_analyses';

/**
 * Re-enqueues work persisted in PostgreSQL whose job Redis never received or lost: rows still
 * `queued` with no `enqueued_at` after `enqueueTimeoutMs` (the add timed out), and rows `queued` or
 * `running` whose last enqueue or start is older than `staleMs` (a lost job). Oldest first, at most
 * 100 per sweep; stops at the first add Redis refuses (it is down: the next sweep retries).
 * Re-adding is safe because the processors are idempotent per row.
 * @param enqueue adds the job for one row id; false when Redis did not take it
 * @returns how many rows were enqueued
 */
export async function requeuePending(
  dataSource: DataSource,
  table: RequeueTable,
  timing: { enqueueTimeoutMs: number; staleMs: number },
  enqueue: (id: string) => Promise<boolean>,
): Promise<number> {
  const rows: { id: string }[] = await dataSource.query(
    `SELECT id FROM ${table}
      WHERE (status = 'queued' AND enqueued_at IS NULL AND requested_at < now() - make_interval(secs => $1 / 1000.0))
         OR (status IN ('queued', 'running') AND coalesce(started_at, enqueued_at) < now() - make_interval(secs => $2 / 1000.0))
      ORDER BY requested_at LIMIT 100`,
    [timing.enqueueTimeoutMs, timing.staleMs],
  );
  let n = 0;
  for (const { id } of rows) {
    if (!(await enqueue(id))) break;
    await dataSource.query(`UPDATE ${table} SET enqueued_at = now() WHERE id = $1`, [id]);
    n++;
  }
  return n;
}
