/**
 * Finishes a partitioned run: checks that every partition completed, adds up their figures,
 * judges the per-fill rows (which no partition can: a fill row's order may sit in another
 * partition) and writes the run's log row, in one transaction. Until then a new version is
 * not visible: health and the report read a registered version only once a full rebuild of
 * it has completed (fifo_versions.last_full_at). With a partition unfinished, or a failure
 * reported by the state machine, the run is logged failed and stays open: rerun the
 * unfinished partitions, then finish again.
 */
import { acquire, type Database } from '../../db/pool.ts';
import { markFullRebuild } from '../../db/progress.ts';
import { replaceFillRejections } from '../../db/rejections.ts';
import { insertRun, recordDetails, updateRun } from '../../db/run-log.ts';
import { orphanFills } from '../../db/trades.ts';
import { ConfigError, silentLogger } from '../context.ts';
import { formatPnlDifference } from '../reconcile.ts';
import type { FinishOptions, FinishResult } from './contract.ts';
import { type PartitionFigures, sumFigures } from './figures.ts';

export async function finishPartitionedRebuild(db: Database, options: FinishOptions): Promise<FinishResult> {
  const logger = options.logger ?? silentLogger;
  const { runId } = options;
  const client = await acquire(db);
  try {
    await client.query('BEGIN');
    const { rows: runs } = await client.query<{
      version: number;
      dry_run: boolean;
      status: string;
      planned_ms: string;
      triggered_by: string;
    }>(
      `SELECT allocation_version AS version, dry_run, status, triggered_by,
         (extract(epoch FROM clock_timestamp() - planned_at) * 1000)::bigint::text AS planned_ms
       FROM fifo_rebuild_runs WHERE run_id = $1::uuid FOR UPDATE`,
      [runId],
    );
    const run = runs[0];
    if (!run) throw new ConfigError(`no partitioned rebuild ${runId}: plan one with fifo full --plan K`);
    if (run.status !== 'open') throw new ConfigError(`run ${runId} is already ${run.status}`);
    const { rows: parts } = await client.query<{
      partition: number;
      status: string;
      result: PartitionFigures | null;
      last_error: string | null;
      symbols: string[];
    }>(
      `SELECT partition, status, result, last_error, symbols FROM fifo_rebuild_partitions
       WHERE run_id = $1::uuid ORDER BY partition`,
      [runId],
    );
    const unfinished = parts.filter((p) => p.status !== 'completed').map((p) => p.partition);
    const sum = sumFigures(parts.flatMap((p) => (p.result ? [p.result] : [])));
    const version = run.version;
    const dryRun = run.dry_run;
    const start = {
      mode: 'full' as const,
      version,
      batchId: runId,
      triggeredBy: options.triggeredBy ?? run.triggered_by,
      dryRun,
    };
    const failed = unfinished.length > 0 || options.failure !== undefined;
    let logId: string | null = null;
    // Returned, not logged: the caller says it once (the CLI's line, the handler's result).
    let failure: string | undefined;
    if (failed) {
      const why = [
        unfinished.length > 0
          ? `partial: partition(s) ${unfinished.join(', ')} of ${parts.length} did not complete` +
            (parts.find((p) => p.last_error)?.last_error
              ? ` (last error: ${parts.find((p) => p.last_error)!.last_error})`
              : '')
          : null,
        options.failure ? `failure reported: ${options.failure}` : null,
      ]
        .filter(Boolean)
        .join('; ');
      const message = `${why}; rerun with fifo full --run ${runId} --partition I, then fifo full --finish ${runId}`;
      if (!dryRun) {
        logId = await insertRun(client, start, 'running');
        await updateRun(client, logId, sum.counts, { status: 'failed', error: message });
      }
      await client.query('COMMIT');
      failure = message;
    } else {
      const covered = parts.flatMap((p) => p.symbols);
      if (!dryRun) {
        const orphans = await orphanFills(client);
        await replaceFillRejections(client, orphans, covered);
        sum.counts.tradesRejected += orphans.length;
        await markFullRebuild(client, version);
        logId = await insertRun(client, start, 'running');
        // The run began at its plan: the log's duration is the whole run's.
        await client.query(
          `UPDATE fifo_computation_log SET computation_start = clock_timestamp() - $2 * interval '1 millisecond' WHERE id = $1`,
          [logId, run.planned_ms],
        );
        await updateRun(client, logId, sum.counts, { status: 'completed' });
        await recordDetails(client, logId, {
          pending_applied: pendingApplied(sum),
          partitions: parts.length,
          partitioned_run: runId,
        });
      }
      await client.query(
        `UPDATE fifo_rebuild_runs SET status = 'completed', finished_at = now(), log_id = $2 WHERE run_id = $1::uuid`,
        [runId, logId],
      );
      await client.query('COMMIT');
    }
    const c = sum.counts;
    const result: FinishResult = {
      mode: 'full',
      status: failed ? 'failed' : 'completed',
      runId: logId,
      version,
      dryRun,
      durationMs: Number(run.planned_ms),
      trades: sum.trades,
      allocations: sum.allocations,
      symbols: c.symbols.size,
      rejectedTrades: c.tradesRejected,
      drift: {
        rowsAdded: c.driftRowsAdded,
        rowsRemoved: c.driftRowsRemoved,
        rowsChanged: c.driftRowsChanged,
        rows: c.driftRowsAdded + c.driftRowsRemoved + c.driftRowsChanged + sum.lotDriftRows,
        usd: formatPnlDifference(sum.driftPnl),
        lotRows: sum.lotDriftRows,
      },
      pendingApplied: pendingApplied(sum),
      realizedPnlUsd: c.totalPnl,
      partitions: { total: parts.length, completed: parts.length - unfinished.length, unfinished },
      ...(failure ? { error: failure } : {}),
    };
    if (!failed) {
      (result.drift.rows > 0 ? logger.warn : logger.info).call(logger, 'partitioned full rebuild completed', {
        ...result,
      });
    }
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function pendingApplied(sum: ReturnType<typeof sumFigures>): FinishResult['pendingApplied'] {
  return {
    changes: sum.pending.changes,
    symbols: sum.pending.symbols,
    rows: sum.pending.rows,
    lotRows: sum.pending.lotRows,
    usd: formatPnlDifference(sum.pending.pnl),
  };
}
