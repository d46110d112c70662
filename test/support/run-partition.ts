/**
 * Works one partition of a planned partitioned rebuild in a child process, so that a test can
 * SIGKILL it at any moment (the partitioned counterpart of run-job.ts).
 *
 *   node --import tsx test/support/run-partition.ts DATABASE_URL [RUN PARTITION] [--app NAME] [--wait]
 *
 * Protocol on stdout, one JSON object per line:
 *   {"event":"ready"}                   modules loaded, pool open (one connection made)
 *   {"event":"result","result":{...}}   runRebuildPartition returned; the process then exits 0
 * With --wait the child prints "ready" and starts only when a line arrives on stdin, so a test
 * can pay the start-up cost ahead of time (even before the run is planned) and time its kill
 * from the partition's start: the line is {"runId":RUN,"partition":I}, or anything else to work
 * the RUN and PARTITION given as arguments.
 * A failure prints its error's name and message on stderr and exits 1.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ChildExit, option, spawnChild } from './child-entry.ts';

export type PartitionExit = ChildExit;

export interface PartitionProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves once the child has loaded and connected. */
  readonly ready: Promise<void>;
  /** Starts a child spawned with `wait`: the partition given at spawn, or this one. */
  start(work?: { readonly runId: string; readonly partition: number }): void;
  /** Resolves when the child has exited, however it ended. */
  readonly exited: Promise<PartitionExit>;
}

export interface SpawnPartitionOptions {
  /** application_name of the child's connections, to find them in pg_stat_activity. */
  readonly app?: string;
  /** Wait for start() before working the partition. @default false */
  readonly wait?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts the child; `work` may be null with `wait`, the partition then given to start(). */
export function spawnPartition(
  url: string,
  work: { readonly runId: string; readonly partition: number } | null,
  options: SpawnPartitionOptions = {},
): PartitionProcess {
  const args = [url];
  if (work) args.push(work.runId, String(work.partition));
  if (options.app !== undefined) args.push('--app', options.app);
  if (options.wait) args.push('--wait');
  const { child, ready, exited, send } = spawnChild(SELF, args, {
    what: 'partition process',
    env: options.env,
  });
  return { child, ready, exited, start: (next) => send(next ? JSON.stringify(next) : 'go') };
}

async function main(args: readonly string[]): Promise<void> {
  const url = args[0];
  const positional = args[1]?.startsWith('--') === false ? args.slice(1, 3) : [];
  let runId: string | undefined = positional[0];
  let partition: number | undefined = positional[1] === undefined ? undefined : Number(positional[1]);
  const wait = args.includes('--wait');
  if (!url || (!wait && (runId === undefined || partition === undefined))) {
    process.stderr.write('usage: run-partition.ts DATABASE_URL [RUN PARTITION] [--app NAME] [--wait]\n');
    process.exit(2);
  }
  const { openDatabase } = await import('../../shared/db/pool.ts');
  const { runRebuildPartition } = await import('../../shared/jobs/partitions/index.ts');
  const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const db = await openDatabase({
    connectionString: url,
    applicationName: option(args, '--app') ?? 'fifo-ledger',
  });
  say({ event: 'ready' });
  if (wait) {
    const input = createInterface({ input: process.stdin });
    const line = await new Promise<string>((resolve) => input.once('line', resolve));
    input.close();
    if (line.startsWith('{')) {
      const work = JSON.parse(line) as { runId: string; partition: number };
      runId = work.runId;
      partition = work.partition;
    }
  }
  try {
    if (runId === undefined || partition === undefined) throw new Error('no run and partition given');
    const result = await runRebuildPartition(db, {
      runId,
      partition,
      holder: `test pid ${process.pid}`,
    });
    say({ event: 'result', result });
    await db.close();
  } catch (error) {
    process.stderr.write(`${(error as Error).name}: ${(error as Error).message}\n`);
    await db.close().catch(() => {});
    process.exit(1);
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`${error.name}: ${error.message}\n`);
    process.exit(1);
  });
}
