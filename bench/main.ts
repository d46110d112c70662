/**
 * npm run bench -- [--sizes 10000,100000,1000000] [--symbols 50] [--partitions 1,2]
 *                  [--replay-sizes LIST] [--upserts 10000] [--json FILE]
 *
 * Measures, in one run, against the PostgreSQL in DATABASE_URL or TEST_DATABASE_URL (a fresh
 * database per size, dropped afterwards), as the README's Performance section describes:
 * the floor (COPY out of the trades; COPY in of the allocations and the lots; the
 * remaining_size UPDATE of the bot's rows) and the allocations-only floor; the full rebuild
 * from empty for each partition count K, each on its own copy of the loaded database, with
 * the CPU seconds of its process and of every PostgreSQL backend serving it; the validation
 * rebuild with nothing changed; incremental runs; the peak RSS of the rebuild; `fifo replay`;
 * and the trade-recording overhead of change capture. Prints tables with the ratios to both
 * floors, and the targets.
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
import { withClone } from './clone-database.ts';
import { type BackendCpu, BackendSampler, cpuByRole } from './cpu.ts';
import { type FloorFigures, measureFloor, walPosition, walSince } from './floor.ts';
import { withFreshDatabase } from './fresh-database.ts';
import { loadHistory } from './load.ts';
import { measureRecordingOverhead } from './recording.ts';
import { measureReplay, type ReplayFigures } from './replay.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const CORES = os.cpus().length;

/** One full rebuild from empty with K partitions. */
interface RebuildFigures {
  partitions: number;
  /** Reader backends seen (one per partition that streamed trades). */
  readers: number;
  seconds: number;
  /** Peak RSS of the rebuild's process (all its threads). */
  peak_rss_mb: number;
  /** CPU seconds (user + system, all threads) of the rebuild's process: the engine. */
  engine_cpu_s: number;
  /** CPU seconds of the PostgreSQL backends that served it, by what they did. */
  backend_cpu_s: { reader: number; writer: number; parallel_worker: number; other: number; total: number };
  backends: BackendCpu[];
  /** engine + backends */
  cpu_total_s: number;
  /** cpu_total_s / the machine's cores: below the floor, only serial waiting is in the way. */
  cpu_per_core_s: number;
  /** seconds / floor_s */
  ratio_floor: number;
  /** seconds / floor_allocations_s */
  ratio_floor_allocations: number;
  allocations: number;
  lots: number;
  /** A digest of the allocations, the lots and remaining_size, without run ids or times. */
  digest: string;
  /** The same digest as the first K's. */
  identical: boolean;
  /** WAL the server wrote during the run (server-wide: other sessions' writes count too). */
  wal_mb: number;
  /** 1-minute load average of the machine before the run and after it. */
  load_before: number;
  load_after: number;
}

interface SizeFigures {
  trades: number;
  symbols: number;
  /** The floor: COPY out, COPY in of the allocations and the lots, the remaining_size UPDATE. */
  floor_s: number;
  /** The allocations-only floor: COPY out and COPY in of the allocations. */
  floor_allocations_s: number;
  floor: FloorFigures;
  /** Full rebuild from empty with K = 1 (or the first K measured). */
  full_s: number;
  /** The fastest full rebuild over the K measured, and its K. */
  full_best_s: number;
  best_partitions: number;
  rebuilds: RebuildFigures[];
  validate_s: number;
  incr_append100_s: number;
  incr_late100_s: number;
  incr_append1000_s: number;
  /** Peak RSS of the full rebuild with K = 1 (or the first K). */
  peak_rss_mb: number;
  allocations: number;
  lots: number;
  load_s: number;
}

const progress = (label: string, total: number) => (done: number) => {
  const pct = Math.min(100, Math.round((done / total) * 100));
  process.stderr.write(
    `\r  ${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${pct}%)   `,
  );
  if (done >= total) process.stderr.write('\n');
};

interface JobOutput {
  seconds: number;
  maxRssMb: number;
  cpuSeconds: number;
  result: { allocations?: number };
}

async function job(
  mode: 'full' | 'validate' | 'incremental',
  url: string,
  partitions = 1,
): Promise<JobOutput> {
  // Each rebuild runs as it does in production. One partition: as the nightly function, with its
  // heap flags, so peak RSS is what the function would see. Several: as `fifo full --partitions K`
  // in one process, without them (V8's flags are process-wide and would give every worker the
  // function's young generation; each worker has its own limits, shared/jobs/partitions/threads.ts).
  const heap = mode === 'incremental' || partitions > 1 ? [] : FULL_REBUILD_NODE_FLAGS;
  const args = [...heap, '--import', 'tsx', join(here, 'child-job.ts'), mode, url, String(partitions)];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 26, env: process.env });
  const last = stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as JobOutput;
}

const databaseOf = (url: string) => new URL(url).pathname.slice(1);

/** Row counts and an order-free digest of everything a rebuild writes, to compare runs across K. */
async function written(pool: pg.Pool): Promise<{ allocations: number; lots: number; digest: string }> {
  const { rows } = await pool.query<{ allocations: string; lots: string; a: string; l: string; m: string }>(
    `SELECT
       (SELECT count(*) FROM fifo_allocations WHERE allocation_version = 1) AS allocations,
       (SELECT count(*) FROM fifo_lots WHERE allocation_version = 1) AS lots,
       (SELECT coalesce(sum(hashtextextended(concat_ws('|', sell_order_id, buy_order_id, symbol, allocated_size,
                 buy_price, sell_price, buy_fees_per_unit, sell_fees_per_unit, cost_basis_usd, proceeds_usd,
                 net_proceeds_usd, pnl_usd, buy_time, sell_time, notes), 0)::numeric), 0)
          FROM fifo_allocations WHERE allocation_version = 1) AS a,
       (SELECT coalesce(sum(hashtextextended(concat_ws('|', buy_order_id, symbol, buy_time, buy_price,
                 buy_fees_per_unit, size, remaining_size, remaining_cost_usd), 0)::numeric), 0)
          FROM fifo_lots WHERE allocation_version = 1) AS l,
       (SELECT coalesce(sum(hashtextextended(order_id || '|' || remaining_size::text, 0)::numeric), 0)
          FROM trade_records WHERE remaining_size IS NOT NULL) AS m`,
  );
  const r = rows[0]!;
  return { allocations: Number(r.allocations), lots: Number(r.lots), digest: `${r.a}/${r.l}/${r.m}` };
}

/** One full rebuild from empty with K partitions, its process's and its backends' CPU sampled. */
async function rebuild(serverUrl: string, url: string, pool: pg.Pool, partitions: number) {
  const loadBefore = os.loadavg()[0]!;
  // WAL read on a connection to the server's own database, so the sampler sees only the job's.
  const server = new pg.Client({ connectionString: serverUrl });
  await server.connect();
  const walBefore = await walPosition(server);
  const sampler = await BackendSampler.start(serverUrl, databaseOf(url));
  let out: JobOutput;
  let backends: BackendCpu[];
  try {
    out = await job('full', url, partitions);
  } finally {
    backends = await sampler.stop();
  }
  const loadAfter = os.loadavg()[0]!;
  const walMb = await walSince(server, walBefore).finally(() => server.end());
  const roles = cpuByRole(backends);
  const backendTotal = roles.reader + roles.writer + roles['parallel worker'] + roles.other;
  const cpuTotal = out.cpuSeconds + backendTotal;
  const rows = await written(pool);
  return {
    partitions,
    readers: backends.filter((b) => b.role === 'reader').length,
    seconds: out.seconds,
    peak_rss_mb: out.maxRssMb,
    engine_cpu_s: out.cpuSeconds,
    backend_cpu_s: {
      reader: roles.reader,
      writer: roles.writer,
      parallel_worker: roles['parallel worker'],
      other: roles.other,
      total: backendTotal,
    },
    backends,
    cpu_total_s: cpuTotal,
    cpu_per_core_s: cpuTotal / CORES,
    allocations: rows.allocations,
    lots: rows.lots,
    digest: rows.digest,
    wal_mb: walMb,
    load_before: loadBefore,
    load_after: loadAfter,
  };
}

async function measureSize(
  serverUrl: string,
  trades: number,
  symbols: number,
  partitionCounts: readonly number[],
): Promise<SizeFigures> {
  process.stderr.write(`\n${trades.toLocaleString('en-US')} trades over ${symbols} symbols\n`);
  return withFreshDatabase(serverUrl, `fifo_bench_${trades}`, async (baseUrl, basePool) => {
    const loadStarted = process.hrtime.bigint();
    const last = await loadHistory(basePool, {
      trades,
      symbols,
      seed: 1,
      onProgress: progress('load', trades),
    });
    await basePool.query('VACUUM ANALYZE trade_records');
    const loadSeconds = Number(process.hrtime.bigint() - loadStarted) / 1e9;
    process.stderr.write(`  loaded in ${loadSeconds.toFixed(1)} s\n`);
    const end = Date.parse(last!.order_time);

    type Measured = Omit<RebuildFigures, 'ratio_floor' | 'ratio_floor_allocations' | 'identical'>;
    const measured: Measured[] = [];
    let floor: FloorFigures | undefined;
    let rest:
      | Pick<SizeFigures, 'validate_s' | 'incr_append100_s' | 'incr_late100_s' | 'incr_append1000_s'>
      | undefined;
    for (const [i, partitions] of partitionCounts.entries()) {
      await withClone(serverUrl, databaseOf(baseUrl), `k${partitions}`, async (url, pool) => {
        process.stderr.write(`  full rebuild from empty, K = ${partitions}...\n`);
        const full = await rebuild(serverUrl, url, pool, partitions);
        measured.push(full);
        process.stderr.write(
          `    ${full.seconds.toFixed(2)} s; CPU: process ${full.engine_cpu_s.toFixed(2)} s, backends ` +
            `${full.backend_cpu_s.total.toFixed(2)} s; peak RSS ${full.peak_rss_mb.toFixed(0)} MB; ` +
            `load ${full.load_before.toFixed(2)} -> ${full.load_after.toFixed(2)}\n`,
        );
        if (i > 0) return;
        // The first K's copy goes on: the floor, validation and incremental runs, as before.
        await pool.query('VACUUM ANALYZE fifo_allocations, fifo_lots');
        process.stderr.write(
          `  floor (COPY out ${trades} trades; COPY in ${full.allocations} allocations and ${full.lots} lots; ` +
            `UPDATE of the buys' remaining_size)...\n`,
        );
        floor = await measureFloor(pool, { allocations: full.allocations, lots: full.lots });
        process.stderr.write(
          `    floor ${floor.floor_s.toFixed(2)} s (allocations only ${floor.floor_allocations_s.toFixed(2)} s): ` +
            `COPY out ${floor.copy_out_s.toFixed(2)} s, allocations ${floor.allocations_in_s.toFixed(2)} s, ` +
            `lots ${floor.lots_in_s.toFixed(2)} s, remaining_size UPDATE ${floor.remaining_update_s.toFixed(2)} s\n`,
        );
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
        rest = {
          validate_s: validate.seconds,
          incr_append100_s: append100,
          incr_late100_s: late100,
          incr_append1000_s: append1000,
        };
      });
    }
    const f = floor!;
    const rebuilds: RebuildFigures[] = measured.map((m) => ({
      ...m,
      ratio_floor: m.seconds / f.floor_s,
      ratio_floor_allocations: m.seconds / f.floor_allocations_s,
      identical: m.digest === measured[0]!.digest && m.allocations === measured[0]!.allocations,
    }));
    const first = rebuilds.find((r) => r.partitions === 1) ?? rebuilds[0]!;
    const best = rebuilds.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    return {
      trades,
      symbols,
      floor_s: f.floor_s,
      floor_allocations_s: f.floor_allocations_s,
      floor: f,
      full_s: first.seconds,
      full_best_s: best.seconds,
      best_partitions: best.partitions,
      rebuilds,
      ...rest!,
      peak_rss_mb: first.peak_rss_mb,
      allocations: first.allocations,
      lots: first.lots,
      load_s: loadSeconds,
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
const n = (count: number) => count.toLocaleString('en-US');

function table(sizes: SizeFigures[], overhead: number): string {
  const lines = [
    '| trades | floor (a) | allocations-only floor (a0) | full K=1 (b1) | b1/a | b1/a0 | best K | full best K (b2) | b2/a | ' +
      'validate (c) | c/a0 | +100 appended | +100 late | +1,000 appended | peak RSS (e) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of sizes) {
    lines.push(
      `| ${n(s.trades)} | ${f(s.floor_s)} s | ${f(s.floor_allocations_s)} s | ${f(s.full_s)} s | ` +
        `${f(s.full_s / s.floor_s, 2)} | ${f(s.full_s / s.floor_allocations_s, 2)} | ${s.best_partitions} | ` +
        `${f(s.full_best_s)} s | ${f(s.full_best_s / s.floor_s, 2)} | ${f(s.validate_s)} s | ` +
        `${f(s.validate_s / s.floor_allocations_s, 2)} | ${f(s.incr_append100_s)} s | ${f(s.incr_late100_s)} s | ` +
        `${f(s.incr_append1000_s)} s | ${f(s.peak_rss_mb, 0)} MB |`,
    );
  }
  lines.push('');
  lines.push('The floor, part by part (one transaction):');
  lines.push('');
  lines.push(
    '| trades | COPY out | allocations in | lots in | remaining_size UPDATE | commit | floor (a) | allocations-only (a0) | WAL, server-wide |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of sizes) {
    const p = s.floor;
    lines.push(
      `| ${n(s.trades)} | ${f(p.copy_out_s)} s | ${f(p.allocations_in_s)} s (${n(s.allocations)}) | ` +
        `${f(p.lots_in_s)} s (${n(s.lots)}) | ${f(p.remaining_update_s)} s (${n(p.remaining_rows)}) | ` +
        `${f(p.commit_s)} s | ${f(p.floor_s)} s | ${f(p.floor_allocations_s)} s | ${f(p.wal_mb, 0)} MB |`,
    );
  }
  lines.push('');
  lines.push(`Full rebuilds from empty, CPU seconds per process (${CORES} cores):`);
  lines.push('');
  lines.push(
    `| trades | K | full | /a | /a0 | engine process | reader backends | writer backends | parallel workers | ` +
      `other backends | CPU total / ${CORES} cores | peak RSS | WAL, server-wide | rows as first K | load avg |`,
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
  for (const s of sizes) {
    for (const r of s.rebuilds) {
      const b = r.backend_cpu_s;
      const count = (role: BackendCpu['role']) => r.backends.filter((x) => x.role === role).length;
      lines.push(
        `| ${n(s.trades)} | ${r.partitions} | ${f(r.seconds)} s | ${f(r.ratio_floor, 2)} | ${f(r.ratio_floor_allocations, 2)} | ` +
          `${f(r.engine_cpu_s, 2)} s | ${f(b.reader, 2)} s (${count('reader')}) | ${f(b.writer, 2)} s (${count('writer')}) | ` +
          `${f(b.parallel_worker, 2)} s (${count('parallel worker')}) | ${f(b.other, 2)} s (${count('other')}) | ` +
          `${f(r.cpu_per_core_s, 2)} s | ${f(r.peak_rss_mb, 0)} MB | ${f(r.wal_mb, 0)} MB | ${r.identical ? 'identical' : 'DIFFERENT'} | ` +
          `${f(r.load_before, 2)} -> ${f(r.load_after, 2)} |`,
      );
    }
  }
  // A partitioned run streams each partition's trades on its own reader: fewer readers seen
  // than K means the job ran fewer partitions (a job without the option runs K = 1).
  const fewer = sizes.flatMap((s) => s.rebuilds).filter((r) => r.partitions > 1 && r.readers < r.partitions);
  if (fewer.length > 0) {
    lines.push('');
    lines.push(
      `(K = ${[...new Set(fewer.map((r) => r.partitions))].join(', ')}: fewer reader backends seen than partitions; ` +
        'a short run can end between two samples, and a job that takes no `partitions` option runs K = 1)',
    );
  }

  const smallest = sizes[0]!;
  const largest = sizes[sizes.length - 1]!;
  lines.push('');
  const big = sizes.find((s) => s.trades >= 1_000_000);
  if (big) {
    const at = n(big.trades);
    const best = big.rebuilds.find((r) => r.partitions === big.best_partitions)!;
    lines.push(
      `(b1) at ${at}: full rebuild from empty, K = 1, ${f(big.full_s / big.floor_s, 2)}x the floor ` +
        `(target <= 1.3); ${f(big.full_s / big.floor_allocations_s, 2)}x the allocations-only floor`,
    );
    lines.push(
      `(b2) at ${at}: best K = ${big.best_partitions}, ${f(big.full_best_s / big.floor_s, 2)}x the floor (target <= 1.1); ` +
        `its CPU (engine ${f(best.engine_cpu_s, 2)} s + backends ${f(best.backend_cpu_s.total, 2)} s) / ${CORES} cores = ` +
        `${f(best.cpu_per_core_s, 2)} s, ${best.cpu_per_core_s < big.floor_s ? 'below' : 'ABOVE'} the floor ` +
        `${f(big.floor_s, 2)} s`,
    );
    for (const r of big.rebuilds) {
      lines.push(
        `at ${at} over ${big.symbols} symbols, K = ${r.partitions}: completed in ${f(r.seconds, 1)} s, ` +
          `peak RSS ${f(r.peak_rss_mb, 0)} MB (target <= 512)`,
      );
    }
  }
  lines.push(
    `(d) incremental +100 at ${n(largest.trades)} vs ${n(smallest.trades)} history: ` +
      `${f(largest.incr_append100_s / smallest.incr_append100_s, 2)}x (target <= 1.5)`,
  );
  lines.push(
    `(f) trade-recording overhead of change capture (median upsert latency): ${f(overhead, 2)}x (target <= 1.25)`,
  );
  if (big) {
    lines.push(
      `(c), (e) at ${n(big.trades)}: validate ${f(big.validate_s / big.floor_allocations_s, 2)}x the allocations-only floor ` +
        `(target <= 1.5; ${f(big.validate_s / big.floor_s, 2)}x the floor), ` +
        `peak RSS of the rebuild ${f(big.peak_rss_mb, 0)} MB (target <= 512)`,
    );
  }
  return lines.join('\n');
}

const list = (option: string, text: string, min: number): number[] => {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min))
    throw new Error(`${option}: whole numbers >= ${min}, comma-separated, got "${text}"`);
  return values;
};

const program = new Command('bench')
  .description('measure fifo-ledger against the floor PostgreSQL sets')
  .option('--sizes <list>', 'history sizes, comma-separated', '10000,100000,1000000')
  .option('--symbols <n>', 'symbols in each history', '50')
  .option('--partitions <list>', 'partition counts K of the full rebuild, comma-separated', '1,2')
  .option(
    '--replay-sizes <list>',
    'history sizes for fifo replay, comma-separated (default: the largest size)',
  )
  .option('--upserts <n>', 'single-row upserts per side for the recording overhead', '10000')
  .option('--json <file>', 'write every figure to this file')
  .action(
    async (opts: {
      sizes: string;
      symbols: string;
      partitions: string;
      replaySizes?: string;
      upserts: string;
      json?: string;
    }) => {
      const serverUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
      if (!serverUrl)
        throw new Error(
          'set DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server the benchmark may create databases on',
        );
      const sizes = list('--sizes', opts.sizes, 1000).sort((a, b) => a - b);
      const symbols = Number(opts.symbols);
      if (!Number.isInteger(symbols) || symbols < 1)
        throw new Error(`--symbols: a whole number >= 1, got "${opts.symbols}"`);
      const partitionCounts = [...new Set(list('--partitions', opts.partitions, 1))];
      const largest = sizes[sizes.length - 1]!;
      const replaySizes = opts.replaySizes ? list('--replay-sizes', opts.replaySizes, 1) : [largest];
      const upserts = Number(opts.upserts);
      if (!Number.isInteger(upserts) || upserts < 1)
        throw new Error(`--upserts: a whole number >= 1, got "${opts.upserts}"`);
      // The rebuild's partitions run the worker the CLI ships (bin/build.mjs), built now from
      // these sources: started from the sources, each worker would first load tsx and compile.
      const { buildCli } = (await import(join(here, '..', 'bin', 'build.mjs'))) as {
        buildCli: () => Promise<unknown>;
      };
      await buildCli();
      process.env.FIFO_PARTITION_WORKER = join(here, '..', 'dist', 'cli', 'partition-worker.mjs');
      const loadAtStart = os.loadavg();
      const figures: SizeFigures[] = [];
      for (const size of sizes) {
        figures.push(await measureSize(serverUrl, size, symbols, partitionCounts));
        // Written as each size ends, so a long run that fails later keeps what it measured.
        if (opts.json)
          await writeFile(opts.json, `${JSON.stringify({ partial: true, sizes: figures }, null, 2)}\n`);
      }

      const replays: ReplayFigures[] = [];
      for (const size of replaySizes) {
        process.stderr.write(`\nfifo replay of ${n(size)} trades, CSV to CSV\n`);
        replays.push(await measureReplay(size, symbols));
      }

      process.stderr.write('\nrecording overhead\n');
      const overhead = await withFreshDatabase(serverUrl, 'fifo_bench_recording', async (_url, pool) => {
        await loadHistory(pool, { trades: 10_000, symbols, seed: 5 });
        await pool.query('INSERT INTO fifo_versions (allocation_version) VALUES (1) ON CONFLICT DO NOTHING');
        return measureRecordingOverhead(pool, upserts, progress('upserts', upserts * 2));
      });

      const machine = {
        cpus: CORES,
        cpu_model: os.cpus()[0]?.model ?? 'unknown',
        memory_gb: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        postgres: await postgresVersion(serverUrl),
        platform: `${os.platform()} ${os.release()}`,
        symbols,
        partitions: partitionCounts,
        rebuild_node_flags: FULL_REBUILD_NODE_FLAGS.join(' '),
        load_average_start: loadAtStart,
        load_average_end: os.loadavg(),
      };
      process.stdout.write(`\n${table(figures, overhead.ratio)}\n`);
      for (const replay of replays) {
        process.stdout.write(
          `fifo replay, ${n(replay.trades)} trades CSV to CSV: ${f(replay.replay_s)} s, ` +
            `peak RSS ${f(replay.replay_peak_rss_mb, 0)} MB (target <= 256 at 1M); the engine alone on the same trades ` +
            `in memory: ${f(replay.engine_s)} s; replay / engine ${f(replay.ratio, 2)}\n`,
        );
      }
      process.stdout.write(
        `(median upsert ${f(overhead.withTriggerMs)} ms with capture, ${f(overhead.withoutTriggerMs)} ms without; ` +
          `${machine.cpus} cores, ${machine.cpu_model}, Node ${machine.node}, PostgreSQL ${machine.postgres}; ` +
          `rebuilds with one partition ran with ${FULL_REBUILD_NODE_FLAGS.join(' ')}, as the nightly function does, and with more as fifo full --partitions K does; ` +
          `load average ${loadAtStart.map((l) => f(l, 2)).join(' ')} at the start, ` +
          `${machine.load_average_end.map((l) => f(l, 2)).join(' ')} at the end)\n`,
      );
      if (opts.json) {
        const out = {
          machine,
          sizes: figures,
          recording_overhead_ratio: overhead.ratio,
          // The largest replay measured, as before; every one in `replays`.
          replay: replays.reduce((a, b) => (b.trades > a.trades ? b : a)),
          replays,
          recording_median_ms: {
            with_capture: overhead.withTriggerMs,
            without_capture: overhead.withoutTriggerMs,
          },
        };
        await writeFile(opts.json, `${JSON.stringify(out, null, 2)}\n`);
        process.stderr.write(`figures written to ${opts.json}\n`);
      }
    },
  );

await program.parseAsync();
