/** The jobs the CLI and the Lambda handlers share. */
export { ConfigError, type JobLogger, type JobOptions, resolveVersion, silentLogger } from './context.ts';
export { explainSell, type SellExplanation } from './explain.ts';
export {
  type FullRebuildOptions,
  type FullRebuildResult,
  LockBusyError,
  runFullRebuild,
} from './full-rebuild.ts';
export { type Health, readHealth } from './health.ts';
export { type IncrementalOptions, type IncrementalResult, runIncremental } from './incremental.ts';
export type { RunOutcome, RunOutcomeStatus } from './outcome.ts';
export { ForeignVersionError } from './ownership.ts';
export {
  automaticPartitions,
  type FinishResult,
  finishPartitionedRebuild,
  type PartitionResult,
  type PlannedRun,
  planPartitionedRebuild,
  runRebuildPartition,
} from './partitions/index.ts';
