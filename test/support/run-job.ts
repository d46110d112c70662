/**
 * Runs one job in a child process, so that a test can SIGKILL it at any moment.
 *
 *   node --import tsx test/support/run-job.ts full|incremental DATABASE_URL
 *        [--version N] [--triggered-by T] [--app APPLICATION_NAME] [--wait]
 *
 * Protocol on stdout, one JSON object per line:
 *   {"event":"ready"}                   modules loaded, pool open (one connection made)
 *   {"event":"result","result":{...}}   the job returned; the process then exits 0
 * With --wait the child prints "ready" and starts the job only when a line arrives on stdin,
 * so a test can pay the start-up cost ahead of time and time its kill from the job's start.
 * A failure (connecting or in the job) prints its message on stderr and exits 1.
 *
 * Tests import `spawnJob` from this file; the job itself runs only when it is executed.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ChildExit, option, spawnChild } from './child-entry.ts';

export type JobMode = 'full' | 'incremental';

export interface SpawnJobOptions {
  readonly version?: number;
  readonly triggeredBy?: string;
  /** application_name of the child's connections, to find them in pg_stat_activity. */
  readonly app?: string;
  /** Wait for start() before running the job. @default false */
  readonly wait?: boolean;
  /** Extra environment for the child. */
  readonly env?: NodeJS.ProcessEnv;
}

export type JobExit = ChildExit;

export interface JobProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves once the child has loaded and connected. */
  readonly ready: Promise<void>;
  /** Starts the job of a child spawned with `wait`. */
  start(): void;
  /** Resolves when the child has exited, however it ended. */
  readonly exited: Promise<JobExit>;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts `run-job.ts` in a child Node.js process (see child-entry.ts). */
export function spawnJob(mode: JobMode, url: string, options: SpawnJobOptions = {}): JobProcess {
  const args = [mode, url];
  if (options.version !== undefined) args.push('--version', String(options.version));
  if (options.triggeredBy !== undefined) args.push('--triggered-by', options.triggeredBy);
  if (options.app !== undefined) args.push('--app', options.app);
  if (options.wait) args.push('--wait');
  const { child, ready, exited, send } = spawnChild(SELF, args, { what: 'job process', env: options.env });
  return { child, ready, exited, start: () => send('go') };
}

async function main(args: readonly string[]): Promise<void> {
  const [mode, url] = args;
  if (!url || (mode !== 'full' && mode !== 'incremental')) {
    process.stderr.write(
      'usage: run-job.ts full|incremental DATABASE_URL [--version N] [--triggered-by T] [--app NAME] [--wait]\n',
    );
    process.exit(2);
  }
  // Loaded here, not at the top: the parent side of this file needs none of it.
  const { openDatabase } = await import('../../shared/db/pool.ts');
  const { runFullRebuild, runIncremental } = await import('../../shared/jobs/index.ts');
  const version = Number(option(args, '--version') ?? '1');
  const triggeredBy = option(args, '--triggered-by') ?? 'run-job';
  const applicationName = option(args, '--app') ?? 'fifo-ledger';
  const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

  const db = await openDatabase({ connectionString: url, applicationName });
  say({ event: 'ready' });
  if (args.includes('--wait')) {
    const input = createInterface({ input: process.stdin });
    await new Promise<void>((resolve) => input.once('line', () => resolve()));
    input.close();
  }
  try {
    const result =
      mode === 'full'
        ? await runFullRebuild(db, { version, triggeredBy })
        : await runIncremental(db, { version, triggeredBy });
    say({ event: 'result', result });
    await db.close();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await db.close().catch(() => {});
    process.exit(1);
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
