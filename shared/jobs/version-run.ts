/**
 * The skeleton every job of a version runs in: take the version's lock (or skip, or wait and
 * fail), check the version is fifo-ledger's, mark runs that died as abandoned, log the run as
 * 'running', and record it 'failed' if the work throws. The jobs (full-rebuild.ts,
 * incremental.ts, partitions/) fill in the work.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { acquire, type Database } from '../db/pool.ts';
import { registerVersion } from '../db/progress.ts';
import {
  failAbandonedRuns,
  insertRun,
  type RunCounts,
  type RunMode,
  type RunStart,
  tryLockVersion,
  unlockVersion,
} from '../db/run-log.ts';
import type { RejectedTrade } from '../db/trades.ts';
import { type JobLogger, type JobOptions, REJECTIONS_LOGGED, silentLogger } from './context.ts';
import { failRun } from './outcome.ts';
import { assertVersionIsOurs } from './ownership.ts';

export class LockBusyError extends Error {
  override name = 'LockBusyError';
}

/** Polling the lock: an incremental run holds it for seconds, so this is never busy long. */
const LOCK_POLL_MS = 500;

export interface VersionLockOptions extends JobOptions {
  readonly mode: RunMode;
  /**
   * How long to wait for another run of the version to release the lock. 0: skip at once,
   * logged 'skipped'. Above 0: wait up to that long, then fail with LockBusyError, logged
   * 'failed', so a nightly run is retried and alarmed on instead of silently missed.
   * @default 0
   */
  readonly lockWaitMs?: number;
  /** A dry run writes no log row. @default false */
  readonly dryRun?: boolean;
}

export const runStart = (options: VersionLockOptions, batchId: string): RunStart => ({
  mode: options.mode,
  version: options.version,
  batchId,
  triggeredBy: options.triggeredBy ?? 'cli',
  dryRun: options.dryRun ?? false,
});

/**
 * Runs `locked` holding the version's session lock on a connection of its own. When the lock
 * stays busy: `skipped(runId)` after logging a 'skipped' row (lockWaitMs 0), else LockBusyError.
 */
export async function withVersionLock<R>(
  db: Database,
  options: VersionLockOptions,
  locked: (client: pg.PoolClient) => Promise<R>,
  skipped: (runId: string | null) => R,
): Promise<R> {
  const client = await acquire(db);
  try {
    if (!(await lockWithin(client, options))) {
      const logger = options.logger ?? silentLogger;
      const what = options.mode === 'full' ? 'full rebuild' : 'incremental run';
      if (!options.lockWaitMs) {
        const runId = options.dryRun
          ? null
          : await insertRun(
              client,
              runStart(options, randomUUID()),
              'skipped',
              'busy: another run holds the lock',
            );
        logger.info(`${what} skipped: another run of this version is in progress`, {
          version: options.version,
        });
        return skipped(runId);
      }
      const wait = options.lockWaitMs;
      const message =
        `busy: another run of version ${options.version} held the lock for the whole ` +
        `${wait < 1000 ? `${wait} ms` : `${Math.round(wait / 1000)} s`} this ${what} may wait`;
      if (!options.dryRun) await insertRun(client, runStart(options, randomUUID()), 'failed', message);
      throw new LockBusyError(message);
    }
    try {
      return await locked(client);
    } finally {
      await unlockVersion(client, options.version).catch(() => {});
    }
  } finally {
    client.release();
  }
}

/** Takes the version's lock, waiting up to options.lockWaitMs for a run that holds it. */
async function lockWithin(client: pg.ClientBase, options: VersionLockOptions): Promise<boolean> {
  const deadline = Date.now() + (options.lockWaitMs ?? 0);
  let told = false;
  for (;;) {
    if (await tryLockVersion(client, options.version)) return true;
    if (Date.now() >= deadline) return false;
    if (!told) {
      (options.logger ?? silentLogger).info('another run of this version holds the lock; waiting for it', {
        version: options.version,
        waitMs: options.lockWaitMs,
      });
      told = true;
    }
    await new Promise((done) => setTimeout(done, Math.min(LOCK_POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * Opens a run of a version whose lock the caller holds: checks the version is fifo-ledger's,
 * marks runs that died as abandoned, registers the version (committed before any snapshot, so
 * every later change is captured for it) and logs the run 'running'. Returns its log id.
 */
export async function openRun(
  client: pg.ClientBase,
  options: VersionLockOptions,
  batchId: string,
): Promise<string> {
  const logger = options.logger ?? silentLogger;
  await assertVersionIsOurs(client, options.version, options.takeOverVersion ?? false, logger);
  await failAbandonedRuns(client, options.version);
  await registerVersion(client, options.version);
  return insertRun(client, runStart(options, batchId), 'running');
}

/** Runs a job's work; if it throws, records the run failed (outcome.ts failRun) and rethrows. */
export async function recordingFailure<R>(
  db: Database,
  client: pg.PoolClient,
  run: {
    readonly runId: string | null;
    readonly counts: RunCounts;
    readonly what: string;
    readonly logger: JobLogger;
  },
  work: () => Promise<R>,
): Promise<R> {
  try {
    return await work();
  } catch (error) {
    await failRun(db, client, run.runId, run.counts, error, run.logger, run.what);
    throw error;
  }
}

/** Names the first rejected trades in the log, then only counts them. */
export function logRejections(logger: JobLogger, rejected: readonly RejectedTrade[]): void {
  for (const r of rejected.slice(0, REJECTIONS_LOGGED)) {
    logger.warn('trade rejected', { order_id: r.orderId, symbol: r.symbol, reason: r.reason });
  }
  if (rejected.length > REJECTIONS_LOGGED) {
    logger.warn(`${rejected.length - REJECTIONS_LOGGED} more trades rejected; see fifo_rejected_trades`);
  }
}
