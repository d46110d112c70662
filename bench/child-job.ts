/**
 * Runs one job in its own process, so its peak RSS is the job's alone (not the benchmark's),
 * and prints {"seconds": x, "maxRssMb": y, "result": {...}} as the last line of stdout.
 *   tsx bench/child-job.ts full|validate|incremental DATABASE_URL
 */
import { openDatabase } from '../shared/db/pool.ts';
import { runFullRebuild, runIncremental } from '../shared/jobs/index.ts';

const [mode, url] = process.argv.slice(2);
if (!url || !['full', 'validate', 'incremental'].includes(mode ?? '')) {
  process.stderr.write('usage: child-job.ts full|validate|incremental DATABASE_URL\n');
  process.exit(2);
}
const db = await openDatabase({ connectionString: url });
const started = process.hrtime.bigint();
const result =
  mode === 'incremental'
    ? await runIncremental(db, { version: 1, triggeredBy: 'bench' })
    : await runFullRebuild(db, { version: 1, triggeredBy: 'bench' });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await db.close();
if (result.status !== 'completed') throw new Error(`${mode} ended ${result.status}`);
// maxRSS is in kilobytes.
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ seconds, maxRssMb, result })}\n`);
