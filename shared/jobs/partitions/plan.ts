/**
 * Plans a partitioned full rebuild: splits the version's symbols into K partitions balanced
 * by trade count and records the run, so that any process can then work any partition
 * (partition.ts) and one can finish it (finish.ts). Planning holds the version's lock for a
 * moment, so it never overlaps a single-process rebuild or an incremental run's start.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Database } from '../../db/pool.ts';
import { registerVersion, storedSymbols } from '../../db/progress.ts';
import { ConfigError, silentLogger } from '../context.ts';
import { assertVersionIsOurs } from '../ownership.ts';
import { withVersionLock } from '../version-run.ts';
import { balancePartitions } from './balance.ts';
import type { PlannedRun, PlanOptions } from './contract.ts';
import { MAX_PARTITIONS } from './count.ts';
import { assertNoPartitionedRunHolds } from './runs.ts';
import { ensureSymbolLockRows } from './symbol-locks.ts';

/** The version's lock was busy and the plan was told not to wait (logged 'skipped'). */
export class PlanSkipped extends Error {
  override name = 'PlanSkipped';
}

/** How long a plan waits for the version's lock when not told: an incremental run takes seconds. */
const PLAN_LOCK_WAIT_MS = 30_000;

export function checkPartitionCount(value: number, setting = '--partitions'): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PARTITIONS) {
    throw new ConfigError(`${setting} must be a whole number from 1 to ${MAX_PARTITIONS}, got ${value}`);
  }
  return value;
}

export async function planPartitionedRebuild(db: Database, options: PlanOptions): Promise<PlannedRun> {
  const k = checkPartitionCount(options.partitions);
  const logger = options.logger ?? silentLogger;
  const { version } = options;
  const dryRun = options.dryRun ?? false;
  return withVersionLock(
    db,
    { ...options, mode: 'full', lockWaitMs: options.lockWaitMs ?? PLAN_LOCK_WAIT_MS, dryRun },
    async (client) => {
      await assertNoPartitionedRunHolds(client, version, logger);
      if (!dryRun) {
        await assertVersionIsOurs(client, version, options.takeOverVersion ?? false, logger);
        // Registered (and committed) before any partition's snapshot: every later change is captured.
        await registerVersion(client, version);
      }
      const stored = await storedSymbols(client, version);
      const weights = await symbolWeights(client, version, stored);
      const partitions = balancePartitions(weights, k);
      const runId = randomUUID();
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO fifo_rebuild_runs (run_id, allocation_version, partitions, dry_run, first_build, triggered_by)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [runId, version, k, dryRun, stored.length === 0, options.triggeredBy ?? 'cli'],
      );
      for (const p of partitions) {
        await client.query(
          'INSERT INTO fifo_rebuild_partitions (run_id, partition, symbols, trades) VALUES ($1, $2, $3::varchar[], $4)',
          [runId, p.index, p.symbols, p.trades],
        );
      }
      await ensureSymbolLockRows(
        client,
        version,
        weights.map((w) => w.symbol),
      );
      await client.query('COMMIT');
      logger.info('partitioned full rebuild planned', {
        runId,
        version,
        partitions: partitions.map((p) => ({ index: p.index, symbols: p.symbols.length, trades: p.trades })),
      });
      return {
        runId,
        version,
        dryRun,
        partitions: partitions.map((p) => ({ index: p.index, symbols: p.symbols.length, trades: p.trades })),
      };
    },
    () => {
      throw new PlanSkipped(`busy: another run of version ${version} holds the lock`);
    },
  );
}

/**
 * Every symbol with trades, by trade count; every symbol the version stores rows of; and every
 * symbol with changes pending, which the rebuild consumes as the single-process one does.
 */
async function symbolWeights(client: pg.ClientBase, version: number, stored: readonly string[]) {
  const { rows } = await client.query<{ symbol: string; trades: string }>(
    'SELECT symbol, count(*)::text AS trades FROM fifo_trade_source GROUP BY symbol',
  );
  const weights = new Map(rows.map((r) => [r.symbol, Number(r.trades)]));
  const { rows: changed } = await client.query<{ symbol: string }>(
    'SELECT DISTINCT symbol FROM fifo_trade_changes WHERE allocation_version = $1',
    [version],
  );
  // A symbol whose trades are all gone still has stored rows to remove, or changes to consume.
  for (const symbol of [...stored, ...changed.map((r) => r.symbol)])
    if (!weights.has(symbol)) weights.set(symbol, 0);
  return [...weights].map(([symbol, trades]) => ({ symbol, trades }));
}
