/**
 * npm run bench -- [--sizes 10000,100000,1000000] [--symbols 50] [--json FILE]
 *
 * Measures, in one run, against the PostgreSQL in DATABASE_URL or TEST_DATABASE_URL (a fresh
 * database per size, dropped afterwards): the floor (COPY out + COPY in), the full rebuild
 * from empty, the validation rebuild with nothing changed, incremental runs, the peak RSS of
 * the rebuild, and the trade-recording overhead of change capture. Prints a table with the
 * ratios to the floor and the targets.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import pg from 'pg';
import { FULL_REBUILD_NODE_FLAGS } from '../functions/commons/constants.ts';
import { generateTrades } from '../shared/sample/generator.ts';
import { insertTrades } from '../shared/sample/load.ts';
import { measureFloor } from './floor.ts';
import { withFreshDatabase } from './fresh-database.ts';
import { loadHistory } from './load.ts';
import { measureRecordingOverhead } from './recording.ts';
import { measureReplay, type ReplayFigures } from './replay.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

interface SizeFigures {
  trades: number;
  floor_s: number;
  full_s: number;
  validate_s: number;
  incr_append100_s: number;
  incr_late100_s: number;
  incr_append1000_s: number;
  peak_rss_mb: number;
  allocations: number;
}

const progress = (label: string, total: number) => (done: number) => {
  const pct = Math.min(100, Math.round((done / total) * 100));
  process.stderr.write(
    `\r  ${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${pct}%)   `,
  );
  if (done >= total) process.stderr.write('\n');
};

async function job(mode: 'full' | 'validate' | 'incremental', url: string) {
  // The nightly function's heap limit, so peak RSS is what the function would see.
  const heap = mode === 'incremental' ? [] : FULL_REBUILD_NODE_FLAGS;
  const args = [...heap, '--import', 'tsx', join(here, 'child-job.ts'), mode, url];
  const { stdout } = await run(process.execPath, args, {
    maxBuffer: 1 << 26,
    env: process.env,
  });
  const last = stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as { seconds: number; maxRssMb: number; result: { allocations?: number } };
}

async function measureSize(serverUrl: string, trades: number, symbols: number): Promise<SizeFigures> {
  process.stderr.write(`\n${trades.toLocaleString('en-US')} trades over ${symbols} symbols\n`);
  return withFreshDatabase(serverUrl, `fifo_bench_${trades}`, async (url, pool) => {
    const last = await loadHistory(pool, { trades, symbols, seed: 1, onProgress: progress('load', trades) });
    await pool.query('VACUUM ANALYZE trade_records');
    const end = Date.parse(last!.order_time);

    process.stderr.write('  full rebuild from empty...\n');
    const full = await job('full', url);
    const allocations = full.result.allocations ?? 0;
    await pool.query('VACUUM ANALYZE fifo_allocations, fifo_lots');
    process.stderr.write(`  floor (COPY out ${trades} trades, COPY in ${allocations} rows)...\n`);
    const floor = await measureFloor(pool, allocations);
    process.stderr.write('  validation rebuild (nothing changed)...\n');
    const validate = await job('validate', url);

    const append = async (count: number, seed: number, startMs: number) => {
      const fresh = [
        ...generateTrades({ trades: count, symbols, seed, start: new Date(startMs).toISOString() }),
      ];
      await insertTrades(
        pool,
        fresh.map((t) => ({ ...t, order_id: `bench-${seed}-${t.order_id}` })),
      );
      return (await job('incremental', url)).seconds;
    };
    process.stderr.write('  incremental: 100 appended, 100 late in one symbol, 1,000 appended...\n');
    const append100 = await append(100, 2, end + 60_000);
    // Late: 100 fills of one symbol recorded after later ones were processed (the last ~2 hours).
    const late = [
      ...generateTrades({
        trades: 100,
        symbols: 1,
        seed: 3,
        start: new Date(end - 2 * 3600_000).toISOString(),
      }),
    ];
    await insertTrades(
      pool,
      late.map((t) => ({ ...t, order_id: `bench-late-${t.order_id}` })),
    );
    const late100 = (await job('incremental', url)).seconds;
    const append1000 = await append(1000, 4, end + 3 * 3600_000);

    return {
      trades,
      floor_s: floor,
      full_s: full.seconds,
      validate_s: validate.seconds,
      incr_append100_s: append100,
      incr_late100_s: late100,
      incr_append1000_s: append1000,
      peak_rss_mb: full.maxRssMb,
      allocations,
    };
  });
}

async function postgresVersion(serverUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  await client.end();
  return rows[0]!.v;
}

const f = (n: number, digits = 3) => n.toFixed(digits);

function table(sizes: SizeFigures[], overhead: number): string {
  const lines = [
    '| trades | floor (a) | full (b) | b/a | validate (c) | c/a | +100 appended | +100 late | +1,000 appended | peak RSS (e) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of sizes) {
    lines.push(
      `| ${s.trades.toLocaleString('en-US')} | ${f(s.floor_s)} s | ${f(s.full_s)} s | ${f(s.full_s / s.floor_s, 2)} | ` +
        `${f(s.validate_s)} s | ${f(s.validate_s / s.floor_s, 2)} | ${f(s.incr_append100_s)} s | ${f(s.incr_late100_s)} s | ` +
        `${f(s.incr_append1000_s)} s | ${f(s.peak_rss_mb, 0)} MB |`,
    );
  }
  const smallest = sizes[0]!;
  const largest = sizes[sizes.length - 1]!;
  lines.push('');
  lines.push(
    `incremental +100 at ${largest.trades.toLocaleString('en-US')} vs ${smallest.trades.toLocaleString('en-US')} history: ` +
      `${f(largest.incr_append100_s / smallest.incr_append100_s, 2)}x (target <= 1.5)`,
  );
  lines.push(
    `trade-recording overhead of change capture (median upsert latency): ${f(overhead, 2)}x (target <= 1.25)`,
  );
  const big = sizes.find((s) => s.trades >= 1_000_000);
  if (big) {
    lines.push(
      `at 1M: full ${f(big.full_s / big.floor_s, 2)}x floor (target <= 2.0), validate ${f(big.validate_s / big.floor_s, 2)}x ` +
        `(target <= 1.5), peak RSS ${f(big.peak_rss_mb, 0)} MB (target <= 512)`,
    );
  }
  return lines.join('\n');
}

const program = new Command('bench')
  .description('measure fifo-ledger against the floor PostgreSQL sets')
  .option('--sizes <list>', 'history sizes, comma-separated', '10000,100000,1000000')
  .option('--symbols <n>', 'symbols in each history', '50')
  .option('--upserts <n>', 'single-row upserts per side for the recording overhead', '10000')
  .option('--json <file>', 'write every figure to this file')
  .action(async (opts: { sizes: string; symbols: string; upserts: string; json?: string }) => {
    const serverUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
    if (!serverUrl)
      throw new Error(
        'set DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server the benchmark may create databases on',
      );
    const sizes = opts.sizes.split(',').map((s) => Number(s.trim()));
    if (sizes.some((n) => !Number.isInteger(n) || n < 1000))
      throw new Error(`--sizes: whole numbers >= 1000, got "${opts.sizes}"`);
    sizes.sort((a, b) => a - b);
    const symbols = Number(opts.symbols);
    if (!Number.isInteger(symbols) || symbols < 1)
      throw new Error(`--symbols: a whole number >= 1, got "${opts.symbols}"`);
    const upserts = Number(opts.upserts);
    if (!Number.isInteger(upserts) || upserts < 1)
      throw new Error(`--upserts: a whole number >= 1, got "${opts.upserts}"`);
    const figures: SizeFigures[] = [];
    for (const size of sizes) figures.push(await measureSize(serverUrl, size, symbols));

    const largest = sizes[sizes.length - 1]!;
    process.stderr.write(`\nfifo replay of ${largest.toLocaleString('en-US')} trades, CSV to CSV\n`);
    const replay: ReplayFigures = await measureReplay(largest, symbols);

    process.stderr.write('\nrecording overhead\n');
    const overhead = await withFreshDatabase(serverUrl, 'fifo_bench_recording', async (_url, pool) => {
      await loadHistory(pool, { trades: 10_000, symbols, seed: 5 });
      await pool.query('INSERT INTO fifo_versions (allocation_version) VALUES (1) ON CONFLICT DO NOTHING');
      return measureRecordingOverhead(pool, upserts, progress('upserts', upserts * 2));
    });

    const machine = {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres: await postgresVersion(serverUrl),
      platform: `${os.platform()} ${os.release()}`,
      symbols,
      rebuild_node_flags: FULL_REBUILD_NODE_FLAGS.join(' '),
    };
    process.stdout.write(`\n${table(figures, overhead.ratio)}\n`);
    process.stdout.write(
      `fifo replay, ${replay.trades.toLocaleString('en-US')} trades CSV to CSV: ${f(replay.replay_s)} s, ` +
        `peak RSS ${f(replay.replay_peak_rss_mb, 0)} MB (target <= 256 at 1M); the engine alone on the same trades ` +
        `in memory: ${f(replay.engine_s)} s; replay / engine ${f(replay.ratio, 2)}\n`,
    );
    process.stdout.write(
      `(median upsert ${f(overhead.withTriggerMs)} ms with capture, ${f(overhead.withoutTriggerMs)} ms without; ` +
        `${machine.cpus} cores, ${machine.cpu_model}, Node ${machine.node}, PostgreSQL ${machine.postgres}; ` +
        `rebuilds ran with ${FULL_REBUILD_NODE_FLAGS.join(' ')}, as the nightly function does)\n`,
    );
    if (opts.json) {
      const out = {
        machine,
        sizes: figures,
        recording_overhead_ratio: overhead.ratio,
        replay,
        recording_median_ms: {
          with_capture: overhead.withTriggerMs,
          without_capture: overhead.withoutTriggerMs,
        },
      };
      await writeFile(opts.json, `${JSON.stringify(out, null, 2)}\n`);
      process.stderr.write(`figures written to ${opts.json}\n`);
    }
  });

await program.parseAsync();
