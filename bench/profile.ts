/**
 * npm run bench:profile -- [--trades 1000000] [--symbols 50]
 *
 * Where a full rebuild from empty spends its time: loads a seeded history into a fresh
 * database (as `npm run bench` does), runs one first build with every statement timed, in
 * its own process with the nightly function's heap flags, and prints the statements, the
 * process's CPU and the backends' CPU. The README's profile of (b) comes from this.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { FULL_REBUILD_NODE_FLAGS } from '../functions/commons/constants.ts';
import { withFreshDatabase } from './fresh-database.ts';
import { loadHistory } from './load.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

const program = new Command('bench:profile')
  .description('profile one full rebuild from empty, statement by statement')
  .option('--trades <n>', 'trades in the history', '1000000')
  .option('--symbols <n>', 'symbols in the history', '50')
  .action(async (opts: { trades: string; symbols: string }) => {
    const serverUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
    if (!serverUrl)
      throw new Error(
        'set DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server the profile may create a database on',
      );
    const trades = Number(opts.trades);
    const symbols = Number(opts.symbols);
    if (!Number.isInteger(trades) || trades < 1000)
      throw new Error(`--trades: a whole number >= 1000, got "${opts.trades}"`);
    if (!Number.isInteger(symbols) || symbols < 1)
      throw new Error(`--symbols: a whole number >= 1, got "${opts.symbols}"`);
    await withFreshDatabase(serverUrl, 'fifo_bench_profile', async (url, pool) => {
      await loadHistory(pool, {
        trades,
        symbols,
        seed: 1,
        onProgress: (done) =>
          process.stderr.write(
            `\r  load: ${done.toLocaleString('en-US')} / ${trades.toLocaleString('en-US')}   `,
          ),
      });
      process.stderr.write('\n  VACUUM ANALYZE trade_records...\n');
      await pool.query('VACUUM ANALYZE trade_records');
      process.stderr.write(`  full rebuild from empty, with ${FULL_REBUILD_NODE_FLAGS.join(' ')}...\n`);
      const { stdout } = await run(
        process.execPath,
        [...FULL_REBUILD_NODE_FLAGS, '--import', 'tsx', join(here, 'profile-child.ts'), url],
        { maxBuffer: 1 << 24, env: process.env },
      );
      process.stdout.write(stdout);
    });
  });

await program.parseAsync();
