/** What every run reports, and how a failed run is recorded. */
import type pg from 'pg';
import type { Database } from '../db/pool.ts';
import { type RunCounts, updateRun } from '../db/run-log.ts';
import type { JobLogger } from './context.ts';

export type RunOutcomeStatus = 'completed' | 'skipped' | 'failed';

export interface RunOutcome {
  readonly status: RunOutcomeStatus;
  /** fifo_computation_log.id; null in a dry run, which writes nothing. */
  readonly runId: string | null;
  readonly version: number;
  readonly durationMs: number;
}

/**
 * Rolls back the run's transaction and marks the run failed with its error. When the run's
 * own connection is the thing that broke (a terminated backend, a lost network), the log
 * row is written through a fresh connection instead.
 */
export async function failRun(
  db: Database,
  client: pg.ClientBase,
  runId: string | null,
  counts: RunCounts,
  error: unknown,
  logger: JobLogger,
  what: string,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  logger.error(`${what} failed`, { runId, error: message });
  let healthy = true;
  await client.query('ROLLBACK').catch(() => {
    healthy = false;
  });
  if (runId === null) return;
  try {
    if (healthy) {
      await updateRun(client, runId, counts, { status: 'failed', error: message });
      return;
    }
    const fresh = await db.pool.connect();
    try {
      await updateRun(fresh, runId, counts, { status: 'failed', error: message });
    } finally {
      fresh.release();
    }
  } catch (logError) {
    logger.error('could not record the failed run; the next run will mark it abandoned', {
      runId,
      error: logError instanceof Error ? logError.message : String(logError),
    });
  }
}
