/**
 * Nightly: recompute every symbol, apply the differences, report the drift (shared/jobs
 * runFullRebuild). FullRebuildSucceeded feeds the "no successful rebuild in 26 hours" alarm,
 * DriftRows the drift alarm. It never skips: a held lock is waited for, then the run fails.
 */
import { z } from 'zod';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import {
  DEFAULT_FULL_REBUILD_LOCK_WAIT_SECONDS,
  ENV,
  FULL_REBUILD_LOCK_WAIT_MARGIN_MS,
  METRICS,
} from '../commons/constants.ts';
import { withDatabase } from '../commons/database.ts';
import { getPositiveIntFromEnv } from '../commons/env.ts';
import { jobHandler, scheduledFields } from '../commons/handler.ts';
import { emitFullRebuild } from '../commons/job-metrics.ts';
import { emit } from '../commons/metrics.ts';

/** A schedule's payload; `dryRun` (manual invocation) reports the drift without applying it. */
export const eventSchema = z.strictObject({ ...scheduledFields, dryRun: z.boolean().optional() });

export const handler = jobHandler(
  'full-rebuild',
  eventSchema,
  async ({ event, context, version, triggeredBy, logger, metrics }) => {
    emit(metrics, METRICS.fullRebuildRuns, 1);
    // Wait for an incremental run rather than skip: a skipped night is a lost proof.
    const lockWaitMs = Math.max(
      0,
      Math.min(
        getPositiveIntFromEnv(ENV.fullRebuildLockWaitSeconds, DEFAULT_FULL_REBUILD_LOCK_WAIT_SECONDS) * 1000,
        context.getRemainingTimeInMillis() - FULL_REBUILD_LOCK_WAIT_MARGIN_MS,
      ),
    );
    let result: Awaited<ReturnType<typeof runFullRebuild>>;
    try {
      result = await withDatabase(logger, (db) =>
        runFullRebuild(db, {
          version,
          dryRun: event.dryRun ?? false,
          triggeredBy,
          logger,
          lockWaitMs: lockWaitMs || 1,
        }),
      );
    } catch (error) {
      emit(metrics, METRICS.fullRebuildSucceeded, 0);
      throw error;
    }
    emitFullRebuild(metrics, result);
    return {
      status: result.status,
      version: result.version,
      runId: result.runId,
      dryRun: result.dryRun,
      trades: result.trades,
      allocations: result.allocations,
      symbols: result.symbols,
      rejectedTrades: result.rejectedTrades,
      drift: result.drift,
      realizedPnlUsd: result.realizedPnlUsd,
      durationMs: result.durationMs,
    };
  },
);
