/**
 * One full rebuild with every statement timed, in its own process (see profile.ts):
 *   tsx bench/profile-child.ts DATABASE_URL
 * Prints a markdown table: each statement's total time and count, longest first, then the
 * run's wall time, the process's CPU and peak RSS, and each backend's CPU when the server
 * runs on this machine (read from /proc).
 */
import pg from 'pg';
import { openDatabase } from '../shared/db/pool.ts';
import { runFullRebuild } from '../shared/jobs/index.ts';
import { processCpuSeconds } from './cpu.ts';

const [url] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: profile-child.ts DATABASE_URL\n');
  process.exit(2);
}

interface Timing {
  count: number;
  ms: number;
}
const timings = new Map<string, Timing>();
const backends = new Set<number>();

/** A statement's first words, so the 50 COPYs of one table add up under one name. */
const statementName = (query: unknown): string => {
  const text =
    typeof query === 'string'
      ? query
      : ((query as { text?: string; _query?: string } | null)?.text ??
        (query as { _query?: string } | null)?._query ??
        '?');
  return text.replace(/\s+/g, ' ').trim().slice(0, 60);
};

// The timing seam: every query of every pooled client passes through Client#query. A COPY
// returns its stream; it is timed until the stream finishes (in) or ends (out).
const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: typeof query }).query = function timedQuery(
  this: pg.Client & { processID?: number },
  ...args: unknown[]
) {
  if (this.processID) backends.add(this.processID);
  const name = statementName(args[0]);
  const started = performance.now();
  const done = () => {
    const timing = timings.get(name) ?? { count: 0, ms: 0 };
    timing.count++;
    timing.ms += performance.now() - started;
    timings.set(name, timing);
  };
  // pool.query passes a callback and gets nothing back: time it through the callback.
  const last = args.length - 1;
  if (typeof args[last] === 'function') {
    const callback = args[last] as (...results: unknown[]) => unknown;
    args[last] = (...results: unknown[]) => {
      done();
      return callback(...results);
    };
  }
  const result = query.apply(this, args) as { then?: unknown; once?: unknown } | undefined;
  if (result && typeof result.then === 'function') {
    (result as Promise<unknown>).then(done, done);
  } else if (result && typeof result.once === 'function') {
    const stream = result as NodeJS.EventEmitter;
    let counted = false;
    const once = () => {
      if (!counted) done();
      counted = true;
    };
    stream.once('finish', once);
    stream.once('end', once);
    stream.once('error', once);
  }
  return result;
};

const db = await openDatabase({ connectionString: url });
const cpuBefore = process.cpuUsage();
const started = performance.now();
const result = await runFullRebuild(db, { version: 1, triggeredBy: 'bench' });
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const backendCpu = [...backends].map((pid) => ({ pid, seconds: processCpuSeconds(pid) }));
await db.close();

const lines = ['| statement | count | total |', '|---|---:|---:|'];
const sorted = [...timings].sort((a, b) => b[1].ms - a[1].ms);
// Statements under 10 ms in all are summed on one line: the table is for where time goes.
const shown = sorted.filter(([, timing]) => timing.ms >= 10);
for (const [name, timing] of shown) {
  lines.push(`| \`${name.replace(/\|/g, '\\|')}\` | ${timing.count} | ${(timing.ms / 1000).toFixed(2)} s |`);
}
const rest = sorted.slice(shown.length);
if (rest.length > 0) {
  const restMs = rest.reduce((sum, [, timing]) => sum + timing.ms, 0);
  lines.push(
    `| ${rest.length} other statements | ${rest.reduce((n, [, t]) => n + t.count, 0)} | ${(restMs / 1000).toFixed(2)} s |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n\n`);
process.stdout.write(
  `full rebuild: ${result.status}, ${result.trades} trades, ${result.allocations} allocations, ` +
    `${seconds.toFixed(2)} s; this process used ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s of CPU, ` +
    `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`,
);
process.stdout.write(
  `backends' CPU: ${backendCpu
    .map(
      (b) => `pid ${b.pid} ${b.seconds === null ? 'n/a (not on this machine)' : `${b.seconds.toFixed(2)} s`}`,
    )
    .join(', ')}\n`,
);
