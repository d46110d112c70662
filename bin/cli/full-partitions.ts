/**
 * `fifo full` across processes (README, "Partitioned rebuild"): --plan K records a run and
 * prints its partitions, --run RUN --partition I works one, --finish RUN checks that all
 * completed and logs the run. Their JSON and text forms.
 */
import { MAX_PARTITIONS } from '../../shared/jobs/partitions/count.ts';
import type { FinishResult, PartitionResult, PlannedRun } from '../../shared/jobs/partitions/index.ts';
import { CliError } from './errors.ts';
import { plural, wholeNumber } from './options.ts';

export interface FullForm {
  readonly kind: 'rebuild' | 'plan' | 'partition' | 'finish';
  /** For a rebuild, absent when not given: then the run chooses (automaticPartitions). */
  readonly partitions?: number;
  readonly runId?: string;
  readonly partition?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function runId(flag: string, value: string): string {
  if (!UUID.test(value.trim())) {
    throw new CliError(`${flag} must be a run id as --plan printed it (a UUID), got "${value}"`);
  }
  return value.trim().toLowerCase();
}

/** Which form of `fifo full` the options ask for; contradictions are one clear line. */
export function fullForm(opts: {
  partitions?: string;
  plan?: string;
  run?: string;
  partition?: string;
  finish?: string;
  dryRun?: boolean;
}): FullForm {
  const forms = [opts.plan !== undefined, opts.run !== undefined, opts.finish !== undefined].filter(Boolean);
  if (forms.length > 1) throw new CliError('use one of --plan, --run and --finish at a time');
  if (opts.partition !== undefined && opts.run === undefined) {
    throw new CliError('--partition needs --run RUN (the run id --plan printed)');
  }
  if (opts.partitions !== undefined && forms.length > 0) {
    throw new CliError(
      '--partitions is for a rebuild in this process; with --plan, give the count to --plan',
    );
  }
  if (opts.dryRun && (opts.run !== undefined || opts.finish !== undefined)) {
    throw new CliError('--dry-run is set when the run is planned (fifo full --plan K --dry-run)');
  }
  if (opts.plan !== undefined) {
    return { kind: 'plan', partitions: wholeNumber('--plan', opts.plan, 1, MAX_PARTITIONS) };
  }
  if (opts.run !== undefined) {
    if (opts.partition === undefined) throw new CliError('--run needs --partition I (from 0)');
    return {
      kind: 'partition',
      runId: runId('--run', opts.run),
      partition: wholeNumber('--partition', opts.partition, 0, MAX_PARTITIONS - 1),
    };
  }
  if (opts.finish !== undefined) return { kind: 'finish', runId: runId('--finish', opts.finish) };
  if (opts.partitions === undefined) return { kind: 'rebuild' };
  return { kind: 'rebuild', partitions: wholeNumber('--partitions', opts.partitions, 1, MAX_PARTITIONS) };
}

export const planJson = (p: PlannedRun) => ({
  status: 'planned',
  partitioned_run: p.runId,
  version: p.version,
  dry_run: p.dryRun,
  partitions: p.partitions.map((x) => ({ partition: x.index, symbols: x.symbols, trades: x.trades })),
});

export function planText(p: PlannedRun): string {
  const lines = [
    `planned run ${p.runId}: version ${p.version}${p.dryRun ? ' (dry run)' : ''}, ${plural(p.partitions.length, 'partition')}`,
    ...p.partitions.map(
      (x) =>
        `  partition ${x.index}: ${plural(x.symbols, 'symbol')}, ${plural(x.trades.toLocaleString('en-US'), 'trade')}`,
    ),
    `next: fifo full --run ${p.runId} --partition I  (each I, in any process), then: fifo full --finish ${p.runId}`,
  ];
  return lines.join('\n');
}

export const partitionJson = (r: PartitionResult) => ({
  status: r.status,
  partitioned_run: r.runId,
  partition: r.partition,
  trades: r.trades,
  symbols: r.symbols,
  allocations: r.allocations,
  duration_ms: r.durationMs,
});

export function partitionText(r: PartitionResult): string {
  if (r.status === 'already-completed')
    return `partition ${r.partition} of run ${r.runId} was already completed`;
  return (
    `partition ${r.partition} of run ${r.runId} completed: ${plural(r.trades.toLocaleString('en-US'), 'trade')}, ` +
    `${plural(r.symbols, 'symbol')}, ${plural(r.allocations.toLocaleString('en-US'), 'allocation')}; ${r.durationMs} ms`
  );
}

export const finishPartitionsJson = (r: FinishResult) => ({
  total: r.partitions.total,
  completed: r.partitions.completed,
  unfinished: r.partitions.unfinished,
});

/** A finish that found partitions unfinished: which, and what to run. */
export function unfinishedText(runId: string, r: FinishResult): string {
  const list = r.partitions.unfinished.join(', ');
  return (
    `run ${runId}: ${plural(r.partitions.unfinished.length, 'partition')} of ${r.partitions.total} not completed (${list}); ` +
    `run fifo full --run ${runId} --partition I for each, then fifo full --finish ${runId} again`
  );
}
