/**
 * fifo_computation_log and the per-version advisory lock. A run's 'running' row is written
 * on its own before the work starts, so a run that dies leaves a trace; the lock is a
 * session lock, so it dies with the process and never blocks the next run.
 */
import type pg from 'pg';
import { LOCK_NAMESPACE } from './sql.ts';

export type RunMode = 'full' | 'incremental';
export type RunStatus = 'running' | 'completed' | 'failed' | 'skipped';

export interface RunStart {
  readonly mode: RunMode;
  readonly version: number;
  readonly batchId: string;
  readonly triggeredBy: string;
  readonly dryRun?: boolean;
}

/** The counters a run adds up; written with the status when it ends or commits a batch. */
export interface RunCounts {
  buysProcessed: number;
  sellsProcessed: number;
  allocationsCreated: number;
  allocationsRemoved: number;
  /** The symbols the run computed; logged as a list or a count, as the log's column takes it. */
  readonly symbols: Set<string>;
  symbolsReplayed: number;
  tradesRejected: number;
  changesConsumed: number;
  driftRowsAdded: number;
  driftRowsRemoved: number;
  driftRowsChanged: number;
  /** Exact decimal text. */
  driftUsd: string;
  /** Exact decimal text: Σ pnl of the allocations this run wrote. */
  totalPnl: string;
}

export const emptyCounts = (): RunCounts => ({
  buysProcessed: 0,
  sellsProcessed: 0,
  allocationsCreated: 0,
  allocationsRemoved: 0,
  symbols: new Set(),
  symbolsReplayed: 0,
  tradesRejected: 0,
  changesConsumed: 0,
  driftRowsAdded: 0,
  driftRowsRemoved: 0,
  driftRowsChanged: 0,
  driftUsd: '0',
  totalPnl: '0',
});

/** Takes the version's lock for this session; false when another run holds it. */
export async function tryLockVersion(client: pg.ClientBase, version: number): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [
    LOCK_NAMESPACE,
    version,
  ]);
  return rows[0]?.locked === true;
}

export async function unlockVersion(client: pg.ClientBase, version: number): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, version]);
}

/**
 * Marks runs of a version that are still 'running' as failed. Call it only while holding the
 * version's lock: then no live run of that version exists, so those rows are left by a
 * process that died (a crash, a kill, a Lambda timeout).
 */
export async function failAbandonedRuns(client: pg.ClientBase, version: number): Promise<number> {
  const { rowCount } = await client.query(
    `UPDATE fifo_computation_log
     SET status = 'failed', computation_end = clock_timestamp(),
         error_message = 'abandoned: the run ended without finishing (process killed, crashed or timed out)'
     WHERE allocation_version = $1 AND status = 'running' AND fifo_ledger_run`,
    [version],
  );
  return rowCount ?? 0;
}

/**
 * How the log's symbols_processed column takes the symbols: fifo-ledger's own table counts
 * them (int), the bot's lists them (varchar[], test/fixtures/bot-schema.sql). Read from the
 * catalog once per run, never guessed.
 */
type SymbolsColumn = 'list' | 'count' | 'text' | 'none';
const symbolsColumnOfRun = new Map<string, SymbolsColumn>();

async function readSymbolsColumn(client: pg.ClientBase): Promise<SymbolsColumn> {
  const { rows } = await client.query<{ category: string }>(
    `SELECT t.typcategory AS category
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = 'fifo_computation_log'::regclass AND a.attname = 'symbols_processed'
       AND NOT a.attisdropped`,
  );
  switch (rows[0]?.category) {
    case 'A':
      return 'list';
    case 'N':
      return 'count';
    case 'S':
      return 'text';
    default:
      return 'none';
  }
}

function symbolsValue(kind: SymbolsColumn, symbols: ReadonlySet<string>): unknown {
  const sorted = () => [...symbols].sort();
  if (kind === 'list') return sorted();
  if (kind === 'text') return sorted().join(',');
  if (kind === 'count') return symbols.size;
  return null;
}

/**
 * Writes a run's row. Every column the bot's log requires is set here, so the row is valid in
 * either table: computation_start, allocation_batch_id and allocation_version.
 */
export async function insertRun(
  client: pg.ClientBase,
  run: RunStart,
  status: RunStatus,
  error?: string,
): Promise<string> {
  const symbolsColumn = await readSymbolsColumn(client);
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO fifo_computation_log
       (allocation_version, allocation_batch_id, computation_start, status, computation_mode, triggered_by, dry_run,
        error_message, computation_end, computation_duration_ms, fifo_ledger_run)
     VALUES ($1, $2, clock_timestamp(), $3::varchar, $4, $5, $6, $7,
             CASE WHEN $3::varchar = 'running' THEN NULL ELSE clock_timestamp() END,
             CASE WHEN $3::varchar = 'running' THEN NULL ELSE 0 END, true)
     RETURNING id::text AS id`,
    [run.version, run.batchId, status, run.mode, run.triggeredBy, run.dryRun ?? false, error ?? null],
  );
  const id = rows[0]!.id;
  if (status === 'running') symbolsColumnOfRun.set(id, symbolsColumn);
  return id;
}

/** Writes the counters (and, when given, the final status) of a run. */
export async function updateRun(
  client: pg.ClientBase,
  id: string,
  counts: RunCounts,
  final?: { status: Exclude<RunStatus, 'running'>; error?: string },
): Promise<void> {
  let symbolsColumn = symbolsColumnOfRun.get(id);
  if (symbolsColumn === undefined) {
    symbolsColumn = await readSymbolsColumn(client);
    symbolsColumnOfRun.set(id, symbolsColumn);
  }
  if (final) symbolsColumnOfRun.delete(id);
  await client.query(
    `UPDATE fifo_computation_log SET
       buys_processed = $2, sells_processed = $3, allocations_created = $4, allocations_removed = $5,
       symbols_processed = coalesce($6, symbols_processed), symbols_replayed = $7, trades_rejected = $8, changes_consumed = $9,
       drift_rows_added = $10, drift_rows_removed = $11, drift_rows_changed = $12, drift_usd = $13::numeric,
       total_pnl_computed = $14::numeric,
       status = coalesce($15::varchar, status), error_message = coalesce($16::text, error_message),
       computation_end = CASE WHEN $15::varchar IS NULL THEN computation_end ELSE clock_timestamp() END,
       computation_duration_ms = CASE WHEN $15::varchar IS NULL THEN computation_duration_ms
         ELSE (extract(epoch FROM clock_timestamp() - computation_start) * 1000)::bigint END
     WHERE id = $1`,
    [
      id,
      counts.buysProcessed,
      counts.sellsProcessed,
      counts.allocationsCreated,
      counts.allocationsRemoved,
      symbolsValue(symbolsColumn, counts.symbols),
      counts.symbolsReplayed,
      counts.tradesRejected,
      counts.changesConsumed,
      counts.driftRowsAdded,
      counts.driftRowsRemoved,
      counts.driftRowsChanged,
      counts.driftUsd,
      counts.totalPnl,
      final?.status ?? null,
      final?.error ?? null,
    ],
  );
}

/** Merges facts that have no column of their own into the run's `details` (jsonb). */
export async function recordDetails(
  client: pg.ClientBase,
  id: string,
  details: Record<string, unknown>,
): Promise<void> {
  await client.query(
    `UPDATE fifo_computation_log SET details = coalesce(details, '{}'::jsonb) || $2::jsonb WHERE id = $1`,
    [id, JSON.stringify(details)],
  );
}
