/**
 * How a test starts a child Node.js process that runs a job (run-job.ts, run-partition.ts):
 * from the bundle that the run's global setup (test/global-setup.ts) built of that file, else
 * from its TypeScript source with the tsx loader. The crash and concurrency tests start about a
 * hundred children; from the sources each spends about a second of CPU transpiling shared/.
 *
 * The children speak one protocol on stdout, one JSON object per line: {"event":"ready"} once
 * loaded and connected, {"event":"result","result":{...}} when the work returned. With --wait
 * they start on the first line written to their stdin.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Where the global setup puts the bundles: beside node_modules, so packages resolve from it. */
export const CHILD_BUNDLE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/fifo-test-children', import.meta.url),
);

/** The bundle of a child entry point (a .ts file under test/support/). */
export const childBundleOf = (source: string): string =>
  join(CHILD_BUNDLE_DIR, basename(source).replace(/\.ts$/, '.mjs'));

/** The node arguments that run `source`: its bundle when one was built, else the source with tsx. */
export function childEntry(source: string): string[] {
  const bundle = childBundleOf(source);
  return existsSync(bundle) ? [bundle] : ['--import', 'tsx', source];
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The work's result when it returned. */
  readonly result: Record<string, unknown> | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ChildProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves once the child has loaded and connected. */
  readonly ready: Promise<void>;
  /** Resolves when the child has exited, however it ended. */
  readonly exited: Promise<ChildExit>;
  /** Writes one line to the child's stdin (what starts a child waiting with --wait). */
  send(line: string): void;
}

/**
 * Starts `source` (run-job.ts, run-partition.ts) with `args` from the repository root, and
 * follows its protocol. `what` names it in the error of a child that ends before it is ready.
 */
export function spawnChild(
  source: string,
  args: readonly string[],
  options: { readonly what: string; readonly env?: NodeJS.ProcessEnv },
): ChildProcess {
  const child = spawn(process.execPath, [...childEntry(source), ...args], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let result: Record<string, unknown> | null = null;
  let onReady: () => void = () => {};
  let onNotReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onNotReady = reject;
  });
  // A test may kill the child before it is ready; that is not an unhandled rejection.
  ready.catch(() => {});
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    let message: { event?: string; result?: Record<string, unknown> };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.event === 'ready') onReady();
    if (message.event === 'result') result = message.result ?? null;
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  // Writing to a child that was killed must not throw in the test process.
  child.stdin.on('error', () => {});
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('close', (code, signal) => {
      onNotReady(
        new Error(`${options.what} ended before it was ready (${signal ?? code}): ${stderr.trim()}`),
      );
      resolve({ code, signal, result, stdout, stderr });
    });
  });
  return { child, ready, exited, send: (line) => child.stdin.write(`${line}\n`) };
}

/** The value after `name` in a child's arguments. */
export function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}
