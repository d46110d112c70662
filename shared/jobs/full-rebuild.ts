/**
 * The full rebuild (nightly): recompute every symbol from the trade source, compare with
 * what the version has stored, apply only the differences and report them as drift.
 *
 * A plan over the per-symbol unit of work (symbol-step.ts, rebuild-pass.ts): every symbol,
 * from nothing, in one transaction on one connection while a second streams the trades in the
 * same snapshot; the run commits all of its work or none of it. With `partitions` above 1 the
 * symbols are split across worker threads instead (partitions/).
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/pool.ts';
import { markFullRebuild } from '../db/progress.ts';
import { replaceRejections } from '../db/rejections.ts';
import { emptyCounts, recordDetails, updateRun } from '../db/run-log.ts';
import { orphanFills } from '../db/trades.ts';
import { formatUsd } from '../fifo/index.ts';
import { appendAll } from '../util/append.ts';
import { type JobOptions, silentLogger } from './context.ts';
import type { RunOutcome } from './outcome.ts';
import { assertNoPartitionedRunHolds } from './partitions/runs.ts';
import { type RebuildPassResult, runRebuildPass } from './rebuild-pass.ts';
import { formatPnlDifference } from './reconcile.ts';
import { SymbolWriter } from './symbol-writer.ts';
import { LockBusyError, logRejections, openRun, recordingFailure, withVersionLock } from './version-run.ts';

export { LockBusyError };

export interface FullRebuildOptions extends JobOptions {
  /** Compute and report the drift, change nothing. @default false */
  readonly dryRun?: boolean;
  /** Rows buffered before a bulk write; memory against round trips. @default 20,000 */
  readonly flushRows?: number;
  /**
   * How long to wait for another run of the version (an incremental run) to release the lock.
   * 0: skip at once, reporting 'skipped'. Above 0: wait up to that long, then fail with
   * LockBusyError, so the nightly run is retried and alarmed on instead of silently missed.
   * @default 0
   */
  readonly lockWaitMs?: number;
  /**
   * Split the symbols into this many partitions, balanced by trade count, each in its own
   * worker thread with its own connections (partitions/). Needs a real server (COPY and
   * several sessions); the embedded database always runs one. @default 1
   */
  readonly partitions?: number;
}

export interface FullRebuildResult extends RunOutcome {
  readonly mode: 'full';
  readonly dryRun: boolean;
  readonly trades: number;
  /** Allocation rows the version holds after the run (computed rows in a dry run). */
  readonly allocations: number;
  readonly symbols: number;
  readonly rejectedTrades: number;
  readonly drift: {
    readonly rowsAdded: number;
    readonly rowsRemoved: number;
    readonly rowsChanged: number;
    /** Allocation and lot rows that differed. */
    readonly rows: number;
    /** Σ |Δ pnl| over differing allocation rows, exact decimal text. */
    readonly usd: string;
    readonly lotRows: number;
  };
  /**
   * Changes captured but not consumed when the rebuild took its snapshot: consumed by this
   * run, as an incremental run would, and reported apart, never as drift.
   */
  readonly pendingApplied: {
    readonly changes: number;
    readonly symbols: number;
    /** Allocation rows they added, removed or changed. */
    readonly rows: number;
    readonly lotRows: number;
    /** Σ |Δ pnl| over those rows, exact decimal text. */
    readonly usd: string;
  };
  readonly realizedPnlUsd: string;
}

export async function runFullRebuild(db: Database, options: FullRebuildOptions): Promise<FullRebuildResult> {
  if ((options.partitions ?? 1) > 1 && db.supportsCopy) {
    const { runPartitionedInProcess } = await import('./partitions/threads.ts');
    return runPartitionedInProcess(db, { ...options, partitions: options.partitions! });
  }
  return withVersionLock(
    db,
    { ...options, mode: 'full' },
    async (client) => {
      await assertNoPartitionedRunHolds(client, options.version, options.logger ?? silentLogger);
      return fullRebuildLocked(db, client, options);
    },
    (runId) => ({ ...emptyResult(options, runId), status: 'skipped' }),
  );
}

export function emptyResult(
  options: Pick<FullRebuildOptions, 'version' | 'dryRun'>,
  runId: string | null,
): FullRebuildResult {
  return {
    mode: 'full',
    status: 'completed',
    runId,
    version: options.version,
    dryRun: options.dryRun ?? false,
    durationMs: 0,
    trades: 0,
    allocations: 0,
    symbols: 0,
    rejectedTrades: 0,
    drift: { rowsAdded: 0, rowsRemoved: 0, rowsChanged: 0, rows: 0, usd: '0', lotRows: 0 },
    pendingApplied: { changes: 0, symbols: 0, rows: 0, lotRows: 0, usd: '0' },
    realizedPnlUsd: '0',
  };
}

/** The rebuild proper; the caller holds the version's lock on `client`. */
export async function fullRebuildLocked(
  db: Database,
  client: import('pg').PoolClient,
  options: FullRebuildOptions,
): Promise<FullRebuildResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const dryRun = options.dryRun ?? false;
  const { version } = options;
  const batchId = randomUUID();
  const runId = dryRun ? null : await openRun(client, { ...options, mode: 'full' }, batchId);
  logger.info('full rebuild started', { version, dryRun, runId });
  const counts = emptyCounts();
  const pass = await recordingFailure(
    db,
    client,
    { runId, counts, what: 'full rebuild', logger },
    async () => {
      await client.query('BEGIN');
      const writer = await SymbolWriter.open(client, {
        version,
        batchId,
        supportsCopy: db.supportsCopy,
        dryRun,
        flushRows: options.flushRows,
      });
      const pass = await runRebuildPass(db, client, writer, {
        version,
        scope: null,
        dryRun,
        deferIndexes: true,
        engine: options.engine,
        logger,
        onProgress: options.onProgress,
      });
      Object.assign(counts, pass.counts);
      appendAll(pass.rejected, await orphanFills(client));
      pass.counts.tradesRejected = pass.rejected.length;
      if (!dryRun) {
        await replaceRejections(client, pass.rejected);
        await client.query('DELETE FROM fifo_trade_changes WHERE change_id = ANY($1::bigint[])', [
          pass.pendingIds,
        ]);
        pass.counts.changesConsumed = pass.pendingIds.length;
        await markFullRebuild(client, version);
      }
      const result = passResult(pass, { runId, version, dryRun, durationMs: 0 });
      if (runId) {
        await updateRun(client, runId, logCounts(pass), { status: 'completed' });
        await recordDetails(client, runId, { pending_applied: result.pendingApplied });
      }
      await client.query(dryRun ? 'ROLLBACK' : 'COMMIT');
      return pass;
    },
  );
  logRejections(logger, pass.rejected);
  const result = passResult(pass, { runId, version, dryRun, durationMs: Date.now() - started });
  (result.drift.rows > 0 ? logger.warn : logger.info).call(logger, 'full rebuild completed', {
    ...result,
    drift: result.drift,
  });
  return result;
}

/** The log's counters of a pass: drift in USD and the realized PnL as exact text. */
export function logCounts(pass: RebuildPassResult) {
  return {
    ...pass.counts,
    driftUsd: formatPnlDifference(pass.pnlDifference),
    totalPnl: formatUsd(pass.realizedPnl),
  };
}

/** A pass's figures as the job's result. */
export function passResult(
  pass: RebuildPassResult,
  run: { runId: string | null; version: number; dryRun: boolean; durationMs: number },
): FullRebuildResult {
  const c = pass.counts;
  return {
    mode: 'full',
    status: 'completed',
    ...run,
    trades: pass.trades,
    allocations: pass.allocations,
    symbols: c.symbols.size,
    rejectedTrades: pass.rejected.length,
    drift: {
      rowsAdded: c.driftRowsAdded,
      rowsRemoved: c.driftRowsRemoved,
      rowsChanged: c.driftRowsChanged,
      rows: c.driftRowsAdded + c.driftRowsRemoved + c.driftRowsChanged + pass.lotDriftRows,
      usd: formatPnlDifference(pass.pnlDifference),
      lotRows: pass.lotDriftRows,
    },
    pendingApplied: {
      changes: pass.pending.changes,
      symbols: pass.pending.symbols,
      rows: pass.pending.rows,
      lotRows: pass.pending.lotRows,
      usd: formatPnlDifference(pass.pending.pnl),
    },
    realizedPnlUsd: formatUsd(pass.realizedPnl),
  };
}
