/**
 * Names shared by the Lambda handlers and the CDK code (lib/): the metrics namespace,
 * service and dimensions, every metric's name and unit, and the environment variables the
 * stack sets. Both sides import this module, so an alarm watches exactly the series a
 * handler emits. Plain data only: lib/ imports it at synth time.
 */

/**
 * V8's heap settings for the full rebuild, in MiB. The live heap is small, but without a limit
 * V8 lets garbage pile up to a limit that follows the machine's memory, so peak RSS wanders.
 * The old-space limit bounds that, so the function fits 1 GiB with room for a larger symbol.
 * The young generation is set on its own: a symbol's rows live for its whole write, and with
 * smaller semi-spaces many of them are promoted and collected again; larger ones gain nothing.
 * The benchmark runs the rebuild with the same flags. The measurements behind both sizes:
 * docs/performance.md, "The database jobs" (Memory).
 */
export const FULL_REBUILD_HEAP = { oldSpaceMiB: 384, semiSpaceMiB: 64 } as const;

/**
 * The least memory the full-rebuild function may have: the heap at its limits (old space and
 * a young generation of three semi-spaces) plus 192 MiB for code, buffers and sockets. Less
 * would let Lambda kill the process before V8 could report running out of heap.
 */
export const FULL_REBUILD_MIN_MEMORY_MIB =
  FULL_REBUILD_HEAP.oldSpaceMiB + 3 * FULL_REBUILD_HEAP.semiSpaceMiB + 192;

/** The node flags for FULL_REBUILD_HEAP. */
export const FULL_REBUILD_NODE_FLAGS: readonly string[] = [
  `--max-old-space-size=${FULL_REBUILD_HEAP.oldSpaceMiB}`,
  `--max-semi-space-size=${FULL_REBUILD_HEAP.semiSpaceMiB}`,
];

/** CloudWatch namespace of every metric fifo-ledger emits. */
export const METRICS_NAMESPACE = 'FifoLedger';

/** Powertools service name: the `service` field of every log line and metric dimension. */
export const SERVICE_NAME = 'fifo-ledger';

/** Powertools adds the service as this dimension to every metric. */
export const SERVICE_DIMENSION = 'service';

/** A dimension naming the deployment (the stack), so two stacks in one account never mix series. */
export const DEPLOYMENT_DIMENSION = 'deployment';

/** The exact dimension set of every fifo-ledger metric, for a deployment. */
export function metricDimensions(deployment: string): Readonly<Record<string, string>> {
  return { [SERVICE_DIMENSION]: SERVICE_NAME, [DEPLOYMENT_DIMENSION]: deployment };
}

/** The units fifo-ledger uses; each is both a Powertools MetricUnit and a CloudWatch Unit. */
export type MetricUnitName = 'Count' | 'Seconds' | 'Milliseconds' | 'None';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
}

/** Every metric, by role. */
export const METRICS = {
  /** One per incremental run, whatever its outcome (skipped runs included). */
  incrementalRuns: { name: 'IncrementalRuns', unit: 'Count' },
  /**
   * Age of the oldest change not yet consumed, read after every incremental run (0 when
   * nothing is pending). A quiet market keeps it at 0; it grows only when changes wait.
   */
  freshnessLag: { name: 'FreshnessLagSeconds', unit: 'Seconds' },
  /** Changes captured and not yet consumed, after the run. */
  pendingChanges: { name: 'PendingChanges', unit: 'Count' },
  /** Trades an incremental run processed. */
  tradesProcessed: { name: 'TradesProcessed', unit: 'Count' },
  /** Distinct sells with an unmatched remainder, after the run. */
  unmatchedSells: { name: 'UnmatchedSells', unit: 'Count' },
  /** Trades the source holds that the engine rejects. */
  rejectedTrades: { name: 'RejectedTrades', unit: 'Count' },
  /** Wall time of an incremental run. */
  incrementalDuration: { name: 'IncrementalDuration', unit: 'Milliseconds' },
  /** One per full rebuild run, whatever its outcome. */
  fullRebuildRuns: { name: 'FullRebuildRuns', unit: 'Count' },
  /** 1 when a full rebuild completed and applied its result, else 0. */
  fullRebuildSucceeded: { name: 'FullRebuildSucceeded', unit: 'Count' },
  /** Allocation and lot rows a full rebuild found different from the stored ones. */
  driftRows: { name: 'DriftRows', unit: 'Count' },
  /** Σ |Δ pnl| in USD over the drifted rows (CloudWatch has no currency unit). */
  driftUsd: { name: 'DriftUsd', unit: 'None' },
  /** Wall time of a full rebuild. */
  fullRebuildDuration: { name: 'FullRebuildDuration', unit: 'Milliseconds' },
  /** One per report run. */
  reportRuns: { name: 'ReportRuns', unit: 'Count' },
  /** 1 when the report was handed to SES, else 0. */
  reportsSent: { name: 'ReportsSent', unit: 'Count' },
  /** Migrations the deploy-time trigger applied. */
  migrationsApplied: { name: 'MigrationsApplied', unit: 'Count' },
} as const satisfies Record<string, MetricDefinition>;

/** Environment variables the stack sets and the handlers read. */
export const ENV = {
  /** The deployment dimension's value (the stack name). */
  deployment: 'FIFO_DEPLOYMENT',
  /** The allocation version the jobs build (read by shared/jobs resolveVersion). */
  allocationVersion: 'FIFO_ALLOCATION_VERSION',
  /** Local mode: a connection string used instead of Secrets Manager (tests, local runs). */
  databaseUrl: 'DATABASE_URL',
  /** ARN of the Secrets Manager secret holding {username, password, host?, port?, dbname?}. */
  dbSecretArn: 'FIFO_DB_SECRET_ARN',
  /** Database host; overrides the secret's `host`. */
  dbHost: 'FIFO_DB_HOST',
  /** Database port; overrides the secret's `port`. */
  dbPort: 'FIFO_DB_PORT',
  /** Database name; overrides the secret's `dbname`. */
  dbName: 'FIFO_DB_NAME',
  /** `verify-full` (default): TLS with the server certificate verified. `off`: no TLS, local tests only. */
  dbTls: 'FIFO_DB_TLS',
  /** How long a fetched secret is cached, in seconds. */
  secretMaxAgeSeconds: 'FIFO_DB_SECRET_MAX_AGE_SECONDS',
  /**
   * Seconds the nightly rebuild waits for an incremental run to release the version's lock
   * before it fails (and is retried and alarmed on). Capped at the invocation's remaining time
   * less FULL_REBUILD_LOCK_WAIT_MARGIN_MS. @default DEFAULT_FULL_REBUILD_LOCK_WAIT_SECONDS
   */
  fullRebuildLockWaitSeconds: 'FIFO_FULL_REBUILD_LOCK_WAIT_SECONDS',
  /**
   * How many partitions a partitioned rebuild's plan splits the symbols into when its event
   * names none (README, "Partitioned nightly rebuild on AWS"). @default 1
   */
  fullRebuildPartitions: 'FIFO_FULL_REBUILD_PARTITIONS',
  /**
   * The session limits of the function's database connections, in milliseconds (shared/db/pool.ts
   * SessionLimits). FifoFunction sizes them to the function's timeout (sessionLimitsFor).
   */
  dbStatementTimeoutMs: 'FIFO_DB_STATEMENT_TIMEOUT_MS',
  dbLockTimeoutMs: 'FIFO_DB_LOCK_TIMEOUT_MS',
  dbIdleInTransactionTimeoutMs: 'FIFO_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  /** Where node-pg-migrate finds the SQL files (read by shared/db/migrate). */
  migrationsDir: 'FIFO_MIGRATIONS_DIR',
  /**
   * The daily report's settings, read by shared/report (loadReportConfig) under the names the
   * bot's own report uses. Sender and recipients unset: the report is built and logged, not sent.
   */
  reportSender: 'REPORT_SENDER',
  /** Comma-separated recipients of the daily report. */
  reportRecipients: 'REPORT_RECIPIENTS',
  /** Prefix of the report's subject line. */
  reportSubjectPrefix: 'REPORT_SUBJECT_PREFIX',
  /** IANA time zone of the report's day boundaries and displayed times. */
  reportTimeZone: 'REPORT_TIMEZONE',
  /** Length of the report's window in hours. */
  reportWindowHours: 'REPORT_WINDOW_HOURS',
} as const;

/**
 * The most partitions a partitioned rebuild may have: the plan's list of them is the state
 * machine's Map input, and stays far below Step Functions' 256 KiB payload limit.
 */
export const MAX_FULL_REBUILD_PARTITIONS = 256;

/** An incremental run holds the lock for seconds; five minutes covers a long replay. */
export const DEFAULT_FULL_REBUILD_LOCK_WAIT_SECONDS = 300;
/** What the rebuild keeps of the invocation's time for itself after a wait. */
export const FULL_REBUILD_LOCK_WAIT_MARGIN_MS = 5 * 60_000;

/**
 * A function's session limits for its timeout: a statement may run until 30 s before the
 * function would be killed (so the failure is recorded, not cut off), a lock wait a minute,
 * an idle transaction two minutes (the jobs never pause that long inside one).
 */
export function sessionLimitsFor(timeoutSeconds: number) {
  return {
    statementTimeoutMs: Math.max(10, timeoutSeconds - 30) * 1000,
    lockTimeoutMs: Math.min(60, Math.max(5, Math.floor(timeoutSeconds / 4))) * 1000,
    idleInTransactionTimeoutMs: 120_000,
  } as const;
}

/** The values of FIFO_DB_TLS. */
export const DB_TLS_MODES = ['verify-full', 'off'] as const;

/** The Node.js 20+ Lambda runtimes carry the Amazon CAs (RDS included) in this file. */
export const LAMBDA_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/** The field a schedule puts in the payload: EventBridge Scheduler's scheduled time. */
export const SCHEDULED_TIME_FIELD = 'scheduledTime';
