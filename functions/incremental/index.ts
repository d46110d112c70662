/**
 * Every 5 minutes: consume the captured trade changes (shared/jobs runIncremental), then
 * read the version's health and emit the freshness lag, even when it is 0 and even when
 * the run failed, so that the freshness alarm sees a datapoint on every run.
 */
import { z } from 'zod';
import { readHealth, runIncremental } from '../../shared/jobs/index.ts';
import { METRICS } from '../commons/constants.ts';
import { withContainerPool } from '../commons/database.ts';
import { jobHandler, scheduledFields } from '../commons/handler.ts';
import { emitFullRebuild, emitHealth } from '../commons/job-metrics.ts';
import { emit } from '../commons/metrics.ts';

/** A schedule's payload; `since` (repair) replays every symbol from a time, as `fifo incremental --since`. */
export const eventSchema = z.strictObject({ ...scheduledFields, since: z.string().min(1).optional() });

export const handler = jobHandler(
  'incremental',
  eventSchema,
  async ({ event, version, triggeredBy, logger, metrics }) => {
    emit(metrics, METRICS.incrementalRuns, 1);
    const started = Date.now();
    try {
      const result = await withContainerPool(logger, (db) =>
        runIncremental(db, { version, since: event.since, triggeredBy, logger }),
      );
      emit(metrics, METRICS.tradesProcessed, result.tradesProcessed);
      if (result.fullRebuild) emitFullRebuild(metrics, result.fullRebuild);
      return {
        status: result.status,
        version: result.version,
        runId: result.runId,
        tradesProcessed: result.tradesProcessed,
        changesConsumed: result.changesConsumed,
        symbolsAppended: result.symbolsAppended,
        symbolsReplayed: result.symbolsReplayed,
        allocationsCreated: result.allocationsCreated,
        allocationsRemoved: result.allocationsRemoved,
        rejectedTrades: result.rejectedTrades,
        fullRebuild: result.fullRebuild !== undefined,
      };
    } finally {
      emit(metrics, METRICS.incrementalDuration, Date.now() - started);
      try {
        emitHealth(metrics, await withContainerPool(logger, (db) => readHealth(db.pool, version)));
      } catch (error) {
        // No lag datapoint: the freshness alarm treats the gap as breaching.
        logger.warn('could not read health after the run', { error: (error as Error).message });
      }
    }
  },
);
