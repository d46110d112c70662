/**
 * The partitioned full rebuild's contract: plan, one partition, finish. The same three steps
 * run in one process (`fifo full --partitions K`, a worker thread per partition), from the CLI
 * across processes (`fifo full --plan K`, `--run RUN --partition I`, `--finish RUN`) and on
 * AWS under Step Functions (lib/full-rebuild-state-machine.ts).
 */
import type { EngineOptions } from '../../fifo/index.ts';
import type { JobLogger, JobOptions } from '../context.ts';
import type { FullRebuildResult } from '../full-rebuild.ts';

export interface PlanOptions extends JobOptions {
  /** How many partitions to split the symbols into (by trade count, largest symbols first). */
  readonly partitions: number;
  /** Partitions compute and report their drift, then roll their writes back. @default false */
  readonly dryRun?: boolean;
  /** How long to wait for a run that holds the version's lock. @default 0 */
  readonly lockWaitMs?: number;
}

export interface PartitionPlan {
  /** 0-based. */
  readonly index: number;
  readonly symbols: number;
  readonly trades: number;
}

export interface PlannedRun {
  /** The run's id (a UUID, also the allocation_batch_id of every row it writes). */
  readonly runId: string;
  readonly version: number;
  readonly dryRun: boolean;
  readonly partitions: readonly PartitionPlan[];
}

export interface PartitionOptions {
  readonly runId: string;
  /** 0-based. */
  readonly partition: number;
  /** @default silentLogger */
  readonly logger?: JobLogger;
  /** @default one unmatched row, no dust */
  readonly engine?: EngineOptions;
  readonly onProgress?: (tradesRead: number) => void;
  /** Who runs it, for the lease: 'cli <pid>', 'lambda <request id>'. @default 'pid <pid>' */
  readonly holder?: string;
}

export interface PartitionResult {
  readonly runId: string;
  readonly partition: number;
  /** 'already-completed': an earlier attempt committed it; nothing was done again. */
  readonly status: 'completed' | 'already-completed';
  readonly trades: number;
  readonly symbols: number;
  readonly allocations: number;
  readonly durationMs: number;
}

export interface FinishOptions {
  readonly runId: string;
  /** @default silentLogger */
  readonly logger?: JobLogger;
  /** Recorded in the log row. @default 'cli' */
  readonly triggeredBy?: string;
  /** The error a partition ended with (the state machine's Catch): the run is logged failed. */
  readonly failure?: string;
}

export interface FinishResult extends FullRebuildResult {
  readonly partitions: {
    readonly total: number;
    readonly completed: number;
    /** 0-based indexes of the partitions that did not complete: rerun these, then finish again. */
    readonly unfinished: readonly number[];
  };
  /** Why the run is logged failed (status 'failed'): the log row's error message. */
  readonly error?: string;
}
