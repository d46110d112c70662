/**
 * A worker thread that works one partition (partition.ts) on connections of its own: the
 * engine of each partition runs on its own core. Logs and progress go to the parent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../db/pool.ts';
import type { JobLogger } from '../context.ts';
import { runRebuildPartition } from './partition.ts';
import type { WorkerInput, WorkerMessage } from './threads.ts';

const input = workerData as WorkerInput;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
const logger: JobLogger = {
  info: (message, ...extra) => post({ type: 'log', level: 'info', message, extra }),
  warn: (message, ...extra) => post({ type: 'log', level: 'warn', message, extra }),
  error: (message, ...extra) => post({ type: 'log', level: 'error', message, extra }),
};

// The partition's writer, its reader, and one for the lease's heartbeat.
const db = await openDatabase({ ...input.config, max: 3 });
try {
  const result = await runRebuildPartition(db, {
    runId: input.runId,
    partition: input.partition,
    engine: input.engine,
    holder: input.holder,
    logger,
    onProgress: (tradesRead) => post({ type: 'progress', tradesRead }),
  });
  post({ type: 'done', result });
} catch (error) {
  post({
    type: 'error',
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
  });
} finally {
  await db.close().catch(() => {});
}
