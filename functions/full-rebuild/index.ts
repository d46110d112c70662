/**
 * Nightly: recompute every symbol, apply the differences, report the drift. The function runs
 * it in one of two ways:
 * - a schedule's event (no `action`): the whole rebuild in this invocation (shared/jobs
 *   runFullRebuild);
 * - `plan`, `partition` and `finish`: the steps of a partitioned rebuild (shared/jobs/partitions),
 *   which the state machine of lib/full-rebuild-state-machine.ts runs (README, "Partitioned
 *   nightly rebuild on AWS").
 * FullRebuildSucceeded feeds the "no successful rebuild in 26 hours" alarm and DriftRows the
 * drift alarm: the single rebuild emits them when it ends, a partitioned one at `finish`. It never
 * skips: a held lock is waited for, then the run fails.
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { type FullRebuildResult, runFullRebuild } from '../../shared/jobs/index.ts';
import {
  type FinishResult,
  finishPartitionedRebuild,
  type PartitionResult,
  planPartitionedRebuild,
  runRebuildPartition,
} from '../../shared/jobs/partitions/index.ts';
import {
  DEFAULT_FULL_REBUILD_LOCK_WAIT_SECONDS,
  ENV,
  FULL_REBUILD_LOCK_WAIT_MARGIN_MS,
  MAX_FULL_REBUILD_PARTITIONS,
  METRICS,
} from '../commons/constants.ts';
import { withContainerPool } from '../commons/database.ts';
import { getWholeNumberFromEnv } from '../commons/env.ts';
import { type JobInvocation, jobHandler, scheduledFields } from '../commons/handler.ts';
import { emitFullRebuild } from '../commons/job-metrics.ts';
import { emit } from '../commons/metrics.ts';

const runId = z.guid();

/** A schedule's payload; `dryRun` (manual invocation) reports the drift without applying it. */
export const rebuildEventSchema = z.strictObject({
  ...scheduledFields,
  action: z.undefined().optional(),
  dryRun: z.boolean().optional(),
});

/**
 * Records a partitioned run. The state machine sends its execution input with `action` set, so
 * a scheduled execution carries the schedule's fields and a manual one may name `partitions`
 * and `dryRun`. Without `partitions`, FIFO_FULL_REBUILD_PARTITIONS decides.
 */
export const planEventSchema = z.strictObject({
  ...scheduledFields,
  action: z.literal('plan'),
  partitions: z.number().int().min(1).max(MAX_FULL_REBUILD_PARTITIONS).optional(),
  dryRun: z.boolean().optional(),
});

/** One partition of a planned run (a Map iteration). */
export const partitionEventSchema = z.strictObject({
  ...scheduledFields,
  action: z.literal('partition'),
  runId,
  partition: z.number().int().min(0),
});

/**
 * Ends a planned run. `triggeredBy` is what the plan recorded; `error` is what the state
 * machine's Catch caught ({Error, Cause}), which logs the run failed.
 */
export const finishEventSchema = z.strictObject({
  ...scheduledFields,
  action: z.literal('finish'),
  runId,
  triggeredBy: z.string().min(1).max(200).optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export const eventSchema = z.discriminatedUnion('action', [
  rebuildEventSchema,
  planEventSchema,
  partitionEventSchema,
  finishEventSchema,
]);

/** What a single-process rebuild returns. */
export type RebuildResponse = Pick<
  FullRebuildResult,
  | 'status'
  | 'version'
  | 'runId'
  | 'dryRun'
  | 'trades'
  | 'allocations'
  | 'symbols'
  | 'rejectedTrades'
  | 'drift'
  | 'realizedPnlUsd'
  | 'durationMs'
>;

/** What `plan` returns: `partitions` are the Map's items, each the input of one `partition` step. */
export interface PlanResponse {
  readonly runId: string;
  readonly version: number;
  readonly dryRun: boolean;
  /** For `finish`, so that the run's log row names what started it. */
  readonly triggeredBy: string;
  readonly partitions: readonly { readonly runId: string; readonly partition: number }[];
}

/** The handler, typed by the shape of the event it is given. */
export interface FullRebuildHandler {
  (event: z.input<typeof planEventSchema>, context: Context): Promise<PlanResponse>;
  (event: z.input<typeof partitionEventSchema>, context: Context): Promise<PartitionResult>;
  (event: z.input<typeof finishEventSchema>, context: Context): Promise<FinishResult>;
  (event: unknown, context: Context): Promise<RebuildResponse>;
}

type Invocation<S extends z.ZodType> = JobInvocation<z.infer<S>>;

export const handler = jobHandler('full-rebuild', eventSchema, async (invocation) => {
  const { event } = invocation;
  switch (event.action) {
    case undefined:
      return rebuild({ ...invocation, event });
    case 'plan':
      return plan({ ...invocation, event });
    case 'partition':
      return partition({ ...invocation, event });
    case 'finish':
      return finish({ ...invocation, event });
  }
}) as FullRebuildHandler;

/** Wait for an incremental run rather than skip: a skipped night is a lost proof. */
function lockWaitMs(context: Context): number {
  const wait = Math.max(
    0,
    Math.min(
      getWholeNumberFromEnv({
        key: ENV.fullRebuildLockWaitSeconds,
        defaultValue: DEFAULT_FULL_REBUILD_LOCK_WAIT_SECONDS,
      }) * 1000,
      context.getRemainingTimeInMillis() - FULL_REBUILD_LOCK_WAIT_MARGIN_MS,
    ),
  );
  return wait || 1;
}

/** Runs `work`; when it throws, the run counts as not succeeded before the error goes on. */
async function failingCounts<T>(invocation: Invocation<typeof eventSchema>, work: () => Promise<T>) {
  try {
    return await work();
  } catch (error) {
    emit(invocation.metrics, METRICS.fullRebuildSucceeded, 0);
    throw error;
  }
}

async function rebuild(invocation: Invocation<typeof rebuildEventSchema>): Promise<RebuildResponse> {
  const { event, context, version, triggeredBy, logger, metrics } = invocation;
  emit(metrics, METRICS.fullRebuildRuns, 1);
  const result = await failingCounts(invocation, () =>
    withContainerPool(logger, (db) =>
      runFullRebuild(db, {
        version,
        dryRun: event.dryRun ?? false,
        triggeredBy,
        logger,
        lockWaitMs: lockWaitMs(context),
      }),
    ),
  );
  emitFullRebuild(metrics, result);
  return {
    status: result.status,
    version: result.version,
    runId: result.runId,
    dryRun: result.dryRun,
    trades: result.trades,
    allocations: result.allocations,
    symbols: result.symbols,
    rejectedTrades: result.rejectedTrades,
    drift: result.drift,
    realizedPnlUsd: result.realizedPnlUsd,
    durationMs: result.durationMs,
  };
}

async function plan(invocation: Invocation<typeof planEventSchema>): Promise<PlanResponse> {
  const { event, context, version, triggeredBy, logger, metrics } = invocation;
  // One run, however many partitions: counted here, its success at finish.
  emit(metrics, METRICS.fullRebuildRuns, 1);
  const run = await failingCounts(invocation, () =>
    withContainerPool(logger, (db) =>
      planPartitionedRebuild(db, {
        version,
        partitions:
          event.partitions ?? getWholeNumberFromEnv({ key: ENV.fullRebuildPartitions, defaultValue: 1 }),
        dryRun: event.dryRun ?? false,
        triggeredBy,
        logger,
        lockWaitMs: lockWaitMs(context),
      }),
    ),
  );
  return {
    runId: run.runId,
    version: run.version,
    dryRun: run.dryRun,
    triggeredBy,
    partitions: run.partitions.map((p) => ({ runId: run.runId, partition: p.index })),
  };
}

async function partition(invocation: Invocation<typeof partitionEventSchema>): Promise<PartitionResult> {
  const { event, context, logger } = invocation;
  logger.appendKeys({ runId: event.runId, partition: event.partition });
  return withContainerPool(logger, (db) =>
    runRebuildPartition(db, {
      runId: event.runId,
      partition: event.partition,
      logger,
      holder: `lambda ${context.awsRequestId}`,
    }),
  );
}

async function finish(invocation: Invocation<typeof finishEventSchema>): Promise<FinishResult> {
  const { event, triggeredBy, logger, metrics } = invocation;
  logger.appendKeys({ runId: event.runId });
  const result = await failingCounts(invocation, () =>
    withContainerPool(logger, (db) =>
      finishPartitionedRebuild(db, {
        runId: event.runId,
        logger,
        triggeredBy: event.triggeredBy ?? triggeredBy,
        failure: event.error ? describeFailure(event.error) : undefined,
      }),
    ),
  );
  // A failed finish (a partition unfinished, or a caught error) emits FullRebuildSucceeded 0.
  emitFullRebuild(metrics, result);
  return result;
}

/** The longest failure text recorded in the run's log row. */
const FAILURE_TEXT_MAX = 1000;

/**
 * One line from a caught Step Functions error. A Lambda error's Cause is the function's JSON
 * error ({errorType, errorMessage, trace}): its message is what an operator needs.
 */
export function describeFailure(error: { Error?: string; Cause?: string }): string {
  let cause = error.Cause?.trim() ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // Not JSON: a Step Functions error such as States.Timeout has a plain-text cause.
  }
  const text = [error.Error, cause].filter((part) => part).join(': ') || 'the state machine caught an error';
  return text.length > FAILURE_TEXT_MAX ? `${text.slice(0, FAILURE_TEXT_MAX - 1)}…` : text;
}
