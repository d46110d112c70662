/**
 * Runs one job in its own process, so its peak RSS and CPU are the job's alone (not the
 * benchmark's), and prints {"seconds", "maxRssMb", "cpuSeconds", "result"} as the last line
 * of stdout.
 *   tsx bench/child-job.ts full|validate|incremental DATABASE_URL [PARTITIONS]
 * PARTITIONS (full only, default 1): the full rebuild's partitions, K in the README's
 * Performance section.
 */
import { openDatabase } from '../shared/db/pool.ts';
import { type FullRebuildOptions, runFullRebuild, runIncremental } from '../shared/jobs/index.ts';

const [mode, url, partitionsArg = '1'] = process.argv.slice(2);
const partitions = Number(partitionsArg);
if (
  !url ||
  !['full', 'validate', 'incremental'].includes(mode ?? '') ||
  !Number.isInteger(partitions) ||
  partitions < 1
) {
  process.stderr.write('usage: child-job.ts full|validate|incremental DATABASE_URL [PARTITIONS]\n');
  process.exit(2);
}
// Partitions open their own connections in their worker threads (README.md, Performance).
const db = await openDatabase({ connectionString: url });
const fullOptions: FullRebuildOptions = { version: 1, triggeredBy: 'bench', partitions };
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const result =
  mode === 'incremental'
    ? await runIncremental(db, { version: 1, triggeredBy: 'bench' })
    : await runFullRebuild(db, mode === 'full' ? fullOptions : { version: 1, triggeredBy: 'bench' });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
// process.cpuUsage covers every thread of the process: the engine's worker threads too.
const cpu = process.cpuUsage(cpuBefore);
await db.close();
if (result.status !== 'completed') throw new Error(`${mode} ended ${result.status}`);
// maxRSS is in kilobytes.
const maxRssMb = process.resourceUsage().maxRSS / 1024;
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(`${JSON.stringify({ seconds, maxRssMb, cpuSeconds, result })}\n`);
