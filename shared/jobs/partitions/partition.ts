/**
 * Works one partition of a planned run: a full rebuild of its symbols (rebuild-pass.ts) in
 * one transaction that also consumes their pending changes, replaces their rejections and
 * marks the partition completed with its figures. Killed at any point, the transaction rolls
 * back: each of its symbols is left as before or as after, never in between, and running the
 * partition again completes it. Completed partitions are never redone.
 */
import { randomUUID } from 'node:crypto';
import { acquire, type Database, discard } from '../../db/pool.ts';
import { replaceRejections } from '../../db/rejections.ts';
import { silentLogger } from '../context.ts';
import { type RebuildPassResult, runRebuildPass } from '../rebuild-pass.ts';
import { SymbolWriter } from '../symbol-writer.ts';
import type { PartitionOptions, PartitionResult } from './contract.ts';
import { type PartitionFigures, partitionFigures } from './figures.ts';
import {
  claimPartition,
  completePartition,
  LEASE_MS,
  LeaseLostError,
  releasePartition,
  startHeartbeat,
} from './lease.ts';
import { lockSymbols } from './symbol-locks.ts';

/** How long a partition waits for an incremental run's batch that holds one of its symbols. */
const SYMBOL_LOCK_TIMEOUT = '120s';

export async function runRebuildPartition(
  db: Database,
  options: PartitionOptions & { readonly leaseMs?: number },
): Promise<PartitionResult> {
  const started = Date.now();
  const { runId, partition } = options;
  const logger = options.logger ?? silentLogger;
  const leaseMs = options.leaseMs ?? LEASE_MS;
  // Unique per attempt, so two attempts under one name can never both think they hold it.
  const holder = `${options.holder ?? `pid ${process.pid}`} #${randomUUID().slice(0, 8)}`;
  const client = await acquire(db);
  let claimed = false;
  let lost: string | null = null;
  let heartbeat: { stop(): void } | null = null;
  try {
    const claim = await claimPartition(client, runId, partition, holder, leaseMs);
    if (claim.completed) {
      logger.info('partition already completed; nothing to do', { runId, partition });
      return {
        runId,
        partition,
        status: 'already-completed',
        trades: 0,
        symbols: 0,
        allocations: 0,
        durationMs: 0,
      };
    }
    claimed = true;
    heartbeat = startHeartbeat(db, runId, partition, holder, leaseMs, (message) => {
      lost = message;
      logger.warn(message, { runId, partition });
    });
    logger.info('partition started', { runId, partition, symbols: claim.symbols.length, holder });
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '${SYMBOL_LOCK_TIMEOUT}'`);
    await lockSymbols(client, claim.version, claim.symbols);
    const writer = await SymbolWriter.open(client, {
      version: claim.version,
      batchId: runId,
      supportsCopy: db.supportsCopy,
      dryRun: claim.dryRun,
    });
    const pass: RebuildPassResult = await runRebuildPass(db, client, writer, {
      version: claim.version,
      scope: claim.symbols,
      dryRun: claim.dryRun,
      deferIndexes: false,
      versionWasEmpty: claim.firstBuild,
      engine: options.engine,
      logger,
      onProgress: options.onProgress,
    });
    if (lost !== null) throw new LeaseLostError(lost);
    const figures: PartitionFigures = partitionFigures(pass);
    if (claim.dryRun) {
      await client.query('ROLLBACK');
      await client.query('BEGIN');
    } else {
      await replaceRejections(client, pass.rejected, claim.symbols);
      await client.query('DELETE FROM fifo_trade_changes WHERE change_id = ANY($1::bigint[])', [
        pass.pendingIds,
      ]);
    }
    await completePartition(client, runId, partition, holder, figures);
    await client.query('COMMIT');
    const result: PartitionResult = {
      runId,
      partition,
      status: 'completed',
      trades: pass.trades,
      symbols: pass.counts.symbols.size,
      allocations: pass.allocations,
      durationMs: Date.now() - started,
    };
    logger.info('partition completed', { ...result });
    return result;
  } catch (error) {
    // Mid-transaction (maybe mid-COPY): close the session; the server rolls its work back.
    discard(client);
    if (claimed) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error('partition failed', { runId, partition, error: message });
      await releasePartition(db, runId, partition, holder, message).catch(() => {});
    }
    throw error;
  } finally {
    heartbeat?.stop();
    client.release();
  }
}
