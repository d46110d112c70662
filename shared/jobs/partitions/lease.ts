/**
 * A partition's lease (migrations/0010): who works it, until when, renewed by a heartbeat.
 * The claim is made on the session that will do the work, and names it (backend_pid), so a
 * partition whose process died is free as soon as its session is gone, without waiting for
 * the lease to run out; a lease also runs out when its holder stops renewing it (a process
 * frozen, a network cut).
 */
import type pg from 'pg';
import type { Database } from '../../db/pool.ts';
import { ConfigError } from '../context.ts';
import { HELD } from './runs.ts';

/** How long a lease lasts without renewal; the heartbeat renews it every third of it. */
export const LEASE_MS = 60_000;

export class PartitionBusyError extends Error {
  override name = 'PartitionBusyError';
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface ClaimedPartition {
  readonly version: number;
  readonly dryRun: boolean;
  /** The version stored nothing when the run was planned. */
  readonly firstBuild: boolean;
  readonly symbols: string[];
  /** True when an earlier attempt completed it: there is nothing to do. */
  readonly completed: boolean;
}

/** Claims the partition for `holder` on `client` (autocommit), or says why it cannot. */
export async function claimPartition(
  client: pg.ClientBase,
  runId: string,
  partition: number,
  holder: string,
  leaseMs: number,
): Promise<ClaimedPartition> {
  const { rows: found } = await client.query<{
    version: number;
    dry_run: boolean;
    first_build: boolean;
    run_status: string;
    partitions: number;
    status: string | null;
  }>(
    `SELECT r.allocation_version AS version, r.dry_run, r.first_build, r.status AS run_status, r.partitions, p.status
     FROM fifo_rebuild_runs r LEFT JOIN fifo_rebuild_partitions p ON p.run_id = r.run_id AND p.partition = $2
     WHERE r.run_id = $1::uuid`,
    [runId, partition],
  );
  const run = found[0];
  if (!run) throw new ConfigError(`no partitioned rebuild ${runId}: plan one with fifo full --plan K`);
  if (run.status === null) {
    throw new ConfigError(`run ${runId} has partitions 0 to ${run.partitions - 1}, not ${partition}`);
  }
  if (run.run_status !== 'open') {
    throw new ConfigError(`run ${runId} is ${run.run_status}; plan a new one with fifo full --plan K`);
  }
  const base = { version: run.version, dryRun: run.dry_run, firstBuild: run.first_build };
  if (run.status === 'completed') return { ...base, symbols: [], completed: true };
  const { rows } = await client.query<{ symbols: string[] }>(
    `UPDATE fifo_rebuild_partitions p SET status = 'running', holder = $3, backend_pid = pg_backend_pid(), claimed_at = now(),
       lease_expires_at = now() + $4 * interval '1 millisecond', heartbeat_at = now(), attempts = attempts + 1
     WHERE run_id = $1::uuid AND partition = $2 AND status <> 'completed' AND NOT ${HELD}
     RETURNING symbols`,
    [runId, partition, holder, leaseMs],
  );
  if (rows[0]) return { ...base, symbols: rows[0].symbols, completed: false };
  const { rows: holders } = await client.query<{ holder: string; until: string; status: string }>(
    `SELECT holder, status, to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS until
     FROM fifo_rebuild_partitions WHERE run_id = $1::uuid AND partition = $2`,
    [runId, partition],
  );
  const h = holders[0];
  if (h?.status === 'completed') return { ...base, symbols: [], completed: true };
  throw new PartitionBusyError(
    `partition ${partition} of run ${runId} is held by ${h?.holder ?? 'another process'} until ${h?.until ?? 'its lease ends'}`,
  );
}

/** Renews the lease every third of its length, on the pool, until stopped. */
export function startHeartbeat(
  db: Database,
  runId: string,
  partition: number,
  holder: string,
  leaseMs: number,
  onLost: (message: string) => void,
): { stop(): void } {
  const beat = async () => {
    try {
      const { rowCount } = await db.pool.query(
        `UPDATE fifo_rebuild_partitions SET heartbeat_at = now(), lease_expires_at = now() + $4 * interval '1 millisecond'
         WHERE run_id = $1::uuid AND partition = $2 AND holder = $3 AND status = 'running'`,
        [runId, partition, holder, leaseMs],
      );
      if (rowCount === 0) onLost(`the lease of partition ${partition} of run ${runId} was taken over`);
    } catch (error) {
      onLost(`could not renew the lease: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const timer = setInterval(() => void beat(), Math.max(100, Math.floor(leaseMs / 3)));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * Marks the partition completed with its figures, inside the transaction that commits its
 * work: both commit or neither. Fails when the lease was lost to another process.
 */
export async function completePartition(
  client: pg.ClientBase,
  runId: string,
  partition: number,
  holder: string,
  result: unknown,
): Promise<void> {
  const { rowCount } = await client.query(
    `UPDATE fifo_rebuild_partitions SET status = 'completed', result = $4::jsonb, completed_at = now(),
       holder = NULL, backend_pid = NULL, claimed_at = NULL, lease_expires_at = NULL, last_error = NULL
     WHERE run_id = $1::uuid AND partition = $2 AND holder = $3 AND status = 'running'`,
    [runId, partition, holder, JSON.stringify(result)],
  );
  if (rowCount !== 1) {
    throw new LeaseLostError(
      `partition ${partition} of run ${runId}: the lease was lost before the work could commit`,
    );
  }
}

/** Gives the partition back after a failure, with the error, through a session of its own. */
export async function releasePartition(
  db: Database,
  runId: string,
  partition: number,
  holder: string,
  error: string,
): Promise<void> {
  const session = await db.openSession();
  try {
    await session.query(
      `UPDATE fifo_rebuild_partitions SET status = 'pending', holder = NULL, backend_pid = NULL,
         claimed_at = NULL, lease_expires_at = NULL, last_error = $4
       WHERE run_id = $1::uuid AND partition = $2 AND holder = $3 AND status = 'running'`,
      [runId, partition, holder, error],
    );
  } finally {
    await session.end().catch(() => {});
  }
}
