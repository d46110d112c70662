/** `fifo health`: is the version fresh, and what is wrong if not. Read-only. */
import type pg from 'pg';
import { LOCK_NAMESPACE, utcText } from '../db/sql.ts';

export interface RunSummary {
  readonly id: string;
  readonly status: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly error: string | null;
}

export interface UnmatchedBySymbol {
  readonly symbol: string;
  readonly sells: number;
  /** Σ unmatched allocated_size of the symbol, exact decimal text, in its own units. */
  readonly size: string;
}

export interface Health {
  readonly version: number;
  /** Last run of each mode, whatever its status, and the last that completed. */
  readonly lastRun: { readonly full: RunSummary | null; readonly incremental: RunSummary | null };
  readonly lastSuccess: { readonly full: RunSummary | null; readonly incremental: RunSummary | null };
  /** Age in seconds of the oldest change not yet consumed; 0 when none is pending. */
  readonly lagSeconds: number;
  readonly pendingChanges: number;
  /**
   * Sells with an unmatched remainder, all time. Sizes are per symbol: units of different
   * assets are never added up.
   */
  readonly unmatchedSells: {
    readonly count: number;
    readonly rows: number;
    /** Symbol by symbol (code point order): the sells and their unmatched size, exact. */
    readonly bySymbol: readonly UnmatchedBySymbol[];
  };
  readonly allocations: number;
  readonly openLots: number;
  readonly lastDrift: { readonly at: string; readonly rows: number; readonly usd: string } | null;
  readonly rejectedTrades: number;
  /** Runs marked 'running' while no run holds the version's lock: they died. */
  readonly abandonedRuns: number;
  readonly runInProgress: boolean;
  /**
   * Buys whose trade_records.remaining_size another writer changed (the bot's startup
   * maintenance) and that differ from their lot now; the next run puts them back.
   */
  readonly mirrorMismatches: number;
  /** Rows other programs (the bot's own FIFO script) logged in the last 24 hours. */
  readonly foreignRuns24h: number;
}

const RUN_COLUMNS = `id::text AS id, status, ${utcText('computation_start')} AS started_at,
  ${utcText('computation_end')} AS ended_at, computation_duration_ms::text AS duration_ms, error_message`;

type RunRow = {
  id: string;
  status: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: string | null;
  error_message: string | null;
};

const toSummary = (row: RunRow | undefined): RunSummary | null =>
  row
    ? {
        id: row.id,
        status: row.status,
        startedAt: row.started_at,
        endedAt: row.ended_at,
        durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
        error: row.error_message,
      }
    : null;

async function lastRunOf(db: pg.Pool, version: number, mode: string, onlyCompleted: boolean) {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM fifo_computation_log
     WHERE fifo_ledger_run AND allocation_version = $1 AND computation_mode = $2 AND NOT dry_run
       AND status <> 'skipped' AND ($3::boolean IS FALSE OR status = 'completed')
     ORDER BY computation_start DESC, id DESC LIMIT 1`,
    [version, mode, onlyCompleted],
  );
  return toSummary(rows[0]);
}

/** One read of the version's 'running' log rows (in the statement's snapshot), then of its lock (live). */
async function readRunningAndLock(db: pg.Pool, version: number): Promise<{ ids: string[]; locked: boolean }> {
  const { rows } = await db.query<{ ids: string[]; locked: boolean }>(
    `SELECT ARRAY(SELECT id::text FROM fifo_computation_log
                  WHERE fifo_ledger_run AND allocation_version = $1 AND status = 'running') AS ids,
       EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND classid = $2::bigint::oid AND objid = $1::bigint::oid AND objsubid = 2) AS locked`,
    [version, LOCK_NAMESPACE],
  );
  return rows[0]!;
}

/**
 * Whether a run holds the version's lock, and how many runs marked 'running' died. A live run
 * holds the lock from before it logs 'running' until after it logs its end (docs/design.md
 * §4), but one statement reads the log in its snapshot and the lock live, later: a run that
 * ends in between looks 'running' and unlocked. So a row counts as abandoned only when two
 * reads, in autocommit statements one after the other, both find it 'running' and the lock
 * free: a live run 'running' in both snapshots held the lock at the first lock check.
 */
async function readRunsState(
  db: pg.Pool,
  version: number,
): Promise<{ abandoned: number; inProgress: boolean }> {
  const first = await readRunningAndLock(db, version);
  if (first.locked) return { abandoned: 0, inProgress: true };
  if (first.ids.length === 0) return { abandoned: 0, inProgress: false };
  const second = await readRunningAndLock(db, version);
  if (second.locked) return { abandoned: 0, inProgress: true };
  return { abandoned: second.ids.filter((id) => first.ids.includes(id)).length, inProgress: false };
}

/**
 * Reads the version's health. It takes a pool, not a client: the abandoned-run check relies on
 * each of its statements having a snapshot of its own, which a REPEATABLE READ transaction
 * would not give.
 */
export async function readHealth(db: pg.Pool, version: number): Promise<Health> {
  const [lastFull, lastIncremental, okFull, okIncremental] = await Promise.all([
    lastRunOf(db, version, 'full', false),
    lastRunOf(db, version, 'incremental', false),
    lastRunOf(db, version, 'full', true),
    lastRunOf(db, version, 'incremental', true),
  ]);
  const { rows } = await db.query<{
    pending: string;
    lag: string;
    unmatched_sells: string;
    unmatched_rows: string;
    allocations: string;
    open_lots: string;
    rejected: string;
    mirror: string;
    foreign_runs: string;
  }>(
    `SELECT
       (SELECT count(*) FROM fifo_trade_changes WHERE allocation_version = $1)::text AS pending,
       coalesce((SELECT extract(epoch FROM now() - min(recorded_at)) FROM fifo_trade_changes
                 WHERE allocation_version = $1), 0)::text AS lag,
       (SELECT count(DISTINCT sell_order_id) FROM fifo_allocations
        WHERE allocation_version = $1 AND buy_order_id IS NULL)::text AS unmatched_sells,
       (SELECT count(*) FROM fifo_allocations WHERE allocation_version = $1 AND buy_order_id IS NULL)::text
         AS unmatched_rows,
       (SELECT count(*) FROM fifo_allocations WHERE allocation_version = $1)::text AS allocations,
       (SELECT count(*) FROM fifo_lots WHERE allocation_version = $1 AND remaining_size > 0)::text AS open_lots,
       (SELECT count(*) FROM fifo_rejected_trades)::text AS rejected,
       (SELECT count(*) FROM fifo_mirror_writes w
        JOIN fifo_lots l ON l.allocation_version = $1 AND l.buy_order_id = w.order_id
        JOIN trade_records t ON t.order_id = w.order_id
        WHERE t.remaining_size IS DISTINCT FROM l.remaining_size::double precision)::text AS mirror,
       (SELECT count(*) FROM fifo_computation_log
        WHERE NOT fifo_ledger_run AND computation_start > now() - interval '24 hours')::text AS foreign_runs`,
    [version],
  );
  const r = rows[0]!;
  const { rows: drift } = await db.query<{ at: string; rows: string; usd: string }>(
    `SELECT ${utcText('computation_start')} AS at,
       (coalesce(drift_rows_added, 0) + coalesce(drift_rows_removed, 0) + coalesce(drift_rows_changed, 0))::text AS rows,
       coalesce(trim_scale(drift_usd), 0)::text AS usd
     FROM fifo_computation_log
     WHERE fifo_ledger_run AND allocation_version = $1 AND computation_mode = 'full' AND status = 'completed'
       AND NOT dry_run
     ORDER BY computation_start DESC, id DESC LIMIT 1`,
    [version],
  );
  const { rows: unmatched } = await db.query<{ symbol: string; sells: string; size: string }>(
    `SELECT symbol, count(DISTINCT sell_order_id)::text AS sells, trim_scale(sum(allocated_size))::text AS size
     FROM fifo_allocations WHERE allocation_version = $1 AND buy_order_id IS NULL
     GROUP BY symbol ORDER BY symbol COLLATE "C"`,
    [version],
  );
  const runs = await readRunsState(db, version);
  return {
    version,
    lastRun: { full: lastFull, incremental: lastIncremental },
    lastSuccess: { full: okFull, incremental: okIncremental },
    lagSeconds: Math.max(0, Math.round(Number(r.lag))),
    pendingChanges: Number(r.pending),
    unmatchedSells: {
      count: Number(r.unmatched_sells),
      rows: Number(r.unmatched_rows),
      bySymbol: unmatched.map((u) => ({ symbol: u.symbol, sells: Number(u.sells), size: u.size })),
    },
    allocations: Number(r.allocations),
    openLots: Number(r.open_lots),
    lastDrift: drift[0] ? { at: drift[0].at, rows: Number(drift[0].rows), usd: drift[0].usd } : null,
    rejectedTrades: Number(r.rejected),
    abandonedRuns: runs.abandoned,
    runInProgress: runs.inProgress,
    mirrorMismatches: Number(r.mirror),
    foreignRuns24h: Number(r.foreign_runs),
  };
}

/**
 * The two facts of a window the verdict needs besides the health (shared/report/verdict.ts),
 * counted as the daily report counts them (start < time <= end): sells with an unmatched
 * remainder, and failed runs of the version.
 */
export interface HealthWindow {
  readonly hours: number;
  /** Exclusive, ISO. */
  readonly start: string;
  /** Inclusive, ISO. */
  readonly end: string;
  readonly unmatchedSells: number;
  readonly failedRuns: number;
}

export async function readHealthWindow(
  db: pg.Pool | pg.ClientBase,
  version: number,
  end: Date,
  hours: number,
): Promise<HealthWindow> {
  const start = new Date(end.getTime() - hours * 3_600_000).toISOString();
  const { rows } = await db.query<{ unmatched: string; failed: string }>(
    `SELECT
       (SELECT count(DISTINCT sell_order_id) FROM fifo_allocations
        WHERE allocation_version = $1 AND buy_order_id IS NULL
          AND sell_time > $2::timestamptz AND sell_time <= $3::timestamptz)::text AS unmatched,
       (SELECT count(*) FROM fifo_computation_log
        WHERE fifo_ledger_run AND allocation_version = $1 AND status = 'failed' AND NOT dry_run
          AND computation_start > $2::timestamptz AND computation_start <= $3::timestamptz)::text AS failed`,
    [version, start, end.toISOString()],
  );
  return {
    hours,
    start,
    end: end.toISOString(),
    unmatchedSells: Number(rows[0]!.unmatched),
    failedRuns: Number(rows[0]!.failed),
  };
}

/**
 * The versions that exist: registered in fifo_versions (fifo-ledger built them), or holding
 * allocation rows (another program wrote them: the bot's own version). Lowest first. The
 * allocations are read by a loose index scan, one probe per version.
 */
export async function listKnownVersions(db: pg.Pool | pg.ClientBase): Promise<number[]> {
  const { rows } = await db.query<{ v: number }>(
    `WITH RECURSIVE a AS (
       SELECT min(allocation_version) AS v FROM fifo_allocations
       UNION ALL
       SELECT (SELECT min(allocation_version) FROM fifo_allocations WHERE allocation_version > a.v)
       FROM a WHERE a.v IS NOT NULL
     )
     SELECT v FROM a WHERE v IS NOT NULL
     UNION SELECT allocation_version FROM fifo_versions
     EXCEPT SELECT allocation_version FROM fifo_versions WHERE last_full_at IS NULL
     ORDER BY 1`,
  );
  return rows.map((r) => Number(r.v));
}

/**
 * Whether a version is being built: registered, with no full rebuild completed yet. Its rows,
 * if any, are a partitioned run's partitions that have committed: not the version yet, and
 * not shown until the run's finish (README, "Partitioned rebuild").
 */
export async function versionBeingBuilt(
  db: pg.Pool | pg.ClientBase,
  version: number,
): Promise<{ runId: string | null; completed: number; partitions: number } | null> {
  const { rows } = await db.query<{
    run_id: string | null;
    completed: number | null;
    partitions: number | null;
  }>(
    `SELECT r.run_id::text, r.partitions,
       (SELECT count(*)::int FROM fifo_rebuild_partitions p WHERE p.run_id = r.run_id AND p.status = 'completed') AS completed
     FROM fifo_versions v
     LEFT JOIN LATERAL (SELECT * FROM fifo_rebuild_runs r WHERE r.allocation_version = v.allocation_version
                        AND r.status = 'open' ORDER BY planned_at DESC LIMIT 1) r ON true
     WHERE v.allocation_version = $1 AND v.last_full_at IS NULL`,
    [version],
  );
  const row = rows[0];
  return row ? { runId: row.run_id, completed: row.completed ?? 0, partitions: row.partitions ?? 0 } : null;
}

/** One line saying a version is being built and what makes it visible. */
export function beingBuiltText(
  version: number,
  building: NonNullable<Awaited<ReturnType<typeof versionBeingBuilt>>>,
): string {
  return building.runId
    ? `version ${version} is being built by partitioned run ${building.runId} (${building.completed} of ` +
        `${building.partitions} partitions completed); it is shown once fifo full --finish ${building.runId} succeeds`
    : `version ${version} has no completed full rebuild yet; it is shown once one completes (fifo full --version ${version})`;
}
