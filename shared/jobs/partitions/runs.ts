/**
 * fifo_rebuild_runs and fifo_rebuild_partitions (migrations/0010): a partitioned run's record,
 * and what the other jobs of its version must know about it.
 */
import type pg from 'pg';
import type { JobLogger } from '../context.ts';
import { LockBusyError } from '../version-run.ts';

/** The open partitioned run of a version, if any. */
export async function openPartitionedRun(client: pg.ClientBase, version: number): Promise<string | null> {
  const { rows } = await client.query<{ run_id: string }>(
    `SELECT run_id::text FROM fifo_rebuild_runs WHERE allocation_version = $1 AND status = 'open'
     ORDER BY planned_at DESC LIMIT 1`,
    [version],
  );
  return rows[0]?.run_id ?? null;
}

/**
 * The SQL condition "this partition row is held by a live process": its lease has not run
 * out and the session that claimed it still exists (the same session: one that started after
 * the claim under a reused pid is not it).
 */
export const HELD = `(p.status = 'running' AND p.lease_expires_at > now()
  AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = p.backend_pid AND a.backend_start <= p.claimed_at))`;

/**
 * Before a single-process rebuild of the version (which holds the version's lock): a
 * partitioned run still at work makes it wait for another night (LockBusyError); open runs
 * that nothing works on any more are closed as abandoned, since this rebuild redoes them.
 */
export async function assertNoPartitionedRunHolds(
  client: pg.ClientBase,
  version: number,
  logger: JobLogger,
): Promise<void> {
  const { rows } = await client.query<{ run_id: string; held: number }>(
    `SELECT r.run_id::text, (SELECT count(*)::int FROM fifo_rebuild_partitions p WHERE p.run_id = r.run_id AND ${HELD}) AS held
     FROM fifo_rebuild_runs r WHERE r.allocation_version = $1 AND r.status = 'open'`,
    [version],
  );
  const working = rows.find((r) => r.held > 0);
  if (working) {
    throw new LockBusyError(
      `busy: partitioned rebuild ${working.run_id} of version ${version} has ${working.held} partition(s) at work; ` +
        `finish it (fifo full --finish ${working.run_id}) or wait for it`,
    );
  }
  if (rows.length === 0) return;
  await client.query(
    `UPDATE fifo_rebuild_runs SET status = 'abandoned', finished_at = now()
     WHERE allocation_version = $1 AND status = 'open'`,
    [version],
  );
  logger.info('open partitioned runs abandoned: this rebuild redoes them', {
    version,
    runs: rows.map((r) => r.run_id),
  });
}
