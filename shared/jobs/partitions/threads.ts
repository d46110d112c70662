/**
 * `fifo full --partitions K` in one process: plan the run, work each partition in a worker
 * thread of its own (own connections, own engine, own core), then finish. The same three
 * steps as across processes (README, "Partitioned rebuild"), so the result is the same.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Database, DatabaseConfig } from '../../db/pool.ts';
import type { EngineOptions } from '../../fifo/index.ts';
import { type JobLogger, silentLogger } from '../context.ts';
import { emptyResult, type FullRebuildOptions, type FullRebuildResult } from '../full-rebuild.ts';
import type { PartitionResult, PlannedRun } from './contract.ts';
import { finishPartitionedRebuild } from './finish.ts';
import { PlanSkipped, planPartitionedRebuild } from './plan.ts';

export interface WorkerInput {
  readonly config: DatabaseConfig;
  readonly runId: string;
  readonly partition: number;
  readonly engine?: EngineOptions;
  readonly holder: string;
  /** The TypeScript entry, when started from the sources (worker-boot.mjs). */
  readonly entry?: string;
}

export type WorkerMessage =
  | { type: 'log'; level: keyof JobLogger; message: string; extra: Record<string, unknown>[] }
  | { type: 'progress'; tradesRead: number }
  | { type: 'done'; result: PartitionResult }
  | { type: 'error'; name: string; message: string };

/** An error a partition ended with, as its worker reported it. */
export class PartitionError extends Error {
  constructor(
    readonly partition: number,
    name: string,
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * Each worker's heap, in MiB. A partition holds one symbol's output and its open lots at a
 * time, as the single rebuild does, but a worker would otherwise take the process's heap
 * limits (V8's flags are process-wide) and K of them the memory of K rebuilds. With these,
 * two partitions stay within the nightly function's 512 MB target (docs/performance.md).
 */
export const WORKER_HEAP = { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 48 } as const;

/**
 * FIFO_PARTITION_WORKER when set (a built worker, as the benchmark uses from the sources),
 * else the bundle's worker beside the bundle, else the sources through tsx.
 */
function workerStart(): { url: URL; entry?: string } {
  const given = process.env.FIFO_PARTITION_WORKER;
  if (given) return { url: pathToFileURL(resolve(given)) };
  const bundled = new URL('./partition-worker.mjs', import.meta.url);
  if (existsSync(fileURLToPath(bundled))) return { url: bundled };
  return {
    url: new URL('./worker-boot.mjs', import.meta.url),
    entry: new URL('./worker.ts', import.meta.url).href,
  };
}

function runInWorker(
  input: Omit<WorkerInput, 'entry'>,
  logger: JobLogger,
  onProgress: (tradesRead: number) => void,
): Promise<PartitionResult> {
  const start = workerStart();
  return new Promise((resolve, reject) => {
    const worker = new Worker(start.url, {
      workerData: { ...input, entry: start.entry } satisfies WorkerInput,
      resourceLimits: WORKER_HEAP,
    });
    let settled = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'log') logger[m.level](m.message, ...m.extra);
      else if (m.type === 'progress') onProgress(m.tradesRead);
      else if (m.type === 'done') {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(new PartitionError(input.partition, m.name, m.message));
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(new PartitionError(input.partition, error.name, error.message));
    });
    worker.on('exit', (code) => {
      if (!settled)
        reject(
          new PartitionError(
            input.partition,
            'Error',
            `partition ${input.partition}'s worker exited with code ${code}`,
          ),
        );
    });
  });
}

export async function runPartitionedInProcess(
  db: Database,
  options: FullRebuildOptions & { readonly partitions: number },
): Promise<FullRebuildResult> {
  const logger = options.logger ?? silentLogger;
  let planned: PlannedRun;
  try {
    planned = await planPartitionedRebuild(db, options);
  } catch (error) {
    if (!(error instanceof PlanSkipped)) throw error;
    return { ...emptyResult(options, null), status: 'skipped' };
  }
  const read = new Map<number, number>();
  const settled = await Promise.allSettled(
    planned.partitions.map((p) =>
      runInWorker(
        {
          config: db.config,
          runId: planned.runId,
          partition: p.index,
          engine: options.engine,
          holder: `pid ${process.pid} thread ${p.index}`,
        },
        logger,
        (tradesRead) => {
          read.set(p.index, tradesRead);
          let total = 0;
          for (const n of read.values()) total += n;
          options.onProgress?.(total);
        },
      ),
    ),
  );
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')?.reason as
    | Error
    | undefined;
  const finished = await finishPartitionedRebuild(db, {
    runId: planned.runId,
    logger,
    triggeredBy: options.triggeredBy,
    failure: failure ? `${failure.name}: ${failure.message}` : undefined,
  });
  if (failure) throw failure;
  const { partitions: _partitions, ...result } = finished;
  return result;
}
