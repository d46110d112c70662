/** The partitioned full rebuild: plan, partitions, finish (README, "Partitioned rebuild"). */
export * from './contract.ts';
export { finishPartitionedRebuild } from './finish.ts';
export { LeaseLostError, PartitionBusyError } from './lease.ts';
export { runRebuildPartition } from './partition.ts';
export { checkPartitionCount, MAX_PARTITIONS, PlanSkipped, planPartitionedRebuild } from './plan.ts';
