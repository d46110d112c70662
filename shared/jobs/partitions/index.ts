/** The partitioned full rebuild: plan, partitions, finish (README, "Partitioned rebuild"). */
export * from './contract.ts';
export { automaticPartitions, MAX_PARTITIONS, MIN_TRADES_TO_PARTITION } from './count.ts';
export { finishPartitionedRebuild } from './finish.ts';
export { LeaseLostError, PartitionBusyError } from './lease.ts';
export { runRebuildPartition } from './partition.ts';
export { checkPartitionCount, PlanSkipped, planPartitionedRebuild } from './plan.ts';
