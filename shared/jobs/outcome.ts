/** What every run reports, and how a failed run is recorded. */
import type pg from 'pg';
import { type Database, discard } from '../db/pool.ts';
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
 * Records a failed run. The run's connection is discarded, never rolled back in place: after
 * an error it may be mid-COPY, where a ROLLBACK would wait forever behind the stream; closed,
 * the server rolls the transaction back. The failure is written through a session of its own,
 * outside the pool, so a run that holds the whole pool cannot starve its own record.
 */
export async function failRun(
  db: Database,
  client: pg.PoolClient,
  runId: string | null,
  counts: RunCounts,
  error: unknown,
  logger: JobLogger,
  what: string,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  logger.error(`${what} failed`, { runId, error: message });
  discard(client);
  if (runId === null) return;
  let session: pg.Client | null = null;
  try {
    session = await db.openSession();
    await updateRun(session, runId, counts, { status: 'failed', error: message });
  } catch (logError) {
    logger.error('could not record the failed run; the next run will mark it abandoned', {
      runId,
      error: logError instanceof Error ? logError.message : String(logError),
    });
  } finally {
    await session?.end().catch(() => {});
  }
}
