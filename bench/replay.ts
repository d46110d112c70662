/**
 * The replay figure: `fifo replay FILE --format csv` on a generated CSV of N trades, run as the
 * operator runs it (bin/fifo.js, in its own process), timed and its peak RSS and CPU time read;
 * and, in the same run, the engine's own time on the same trades held in memory (computeFifo,
 * no I/O). The engine's CPU time is process CPU, garbage collection included.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeFifo, parseTrades, type RawTrade, TRADE_FIELDS } from '../shared/fifo/index.ts';
import { generateTrades } from '../shared/sample/generator.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ReplayFigures {
  trades: number;
  replay_s: number;
  replay_peak_rss_mb: number;
  /** The replay's CPU time, user and system: steadier than replay_s on a busy machine. */
  replay_cpu_s: number;
  engine_s: number;
  /** The engine's CPU time in this process over the same span. */
  engine_cpu_s: number;
  /** replay_s / engine_s */
  ratio: number;
  /** replay_cpu_s / engine_cpu_s */
  cpu_ratio: number;
}

export interface ReplayOptions {
  /** The CLI to run (default bin/fifo.js): another build, to set a change against the code before it. */
  readonly cli?: string;
  /** Output format (default csv). */
  readonly format?: 'csv' | 'json' | 'ndjson';
}

export async function measureReplay(
  trades: number,
  symbols: number,
  options: ReplayOptions = {},
): Promise<ReplayFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'fifo-bench-replay-'));
  try {
    const file = join(dir, 'trades.csv');
    const out = createWriteStream(file);
    out.write(`${TRADE_FIELDS.join(',')}\n`);
    let chunk = '';
    for (const t of generateTrades({ trades, symbols, seed: 1 })) {
      chunk += `${TRADE_FIELDS.map((f) => t[f]).join(',')}\n`;
      if (chunk.length > 1 << 20) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await once(out, 'finish');

    const started = process.hrtime.bigint();
    const child = spawn(
      process.execPath,
      [
        '--import',
        join(repo, 'bench', 'max-rss.mjs'),
        options.cli ?? join(repo, 'bin', 'fifo.js'),
        'replay',
        file,
        '--format',
        options.format ?? 'csv',
      ],
      { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const [code] = await once(child, 'close');
    const replaySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`fifo replay exited ${code}: ${stderr}`);
    const rss = Number(/FIFO_BENCH_MAX_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;
    const replayCpu = Number(/FIFO_BENCH_CPU_MS=(\d+)/.exec(stderr)?.[1] ?? 0) / 1000;

    // The engine alone: the same trades, parsed beforehand, in memory.
    const rows = [...generateTrades({ trades, symbols, seed: 1 })] as unknown as RawTrade[];
    const parsed = parseTrades(rows, (i) => `trade ${i + 1}`).trades;
    const engineCpuStarted = process.cpuUsage();
    const engineStarted = process.hrtime.bigint();
    computeFifo(parsed);
    const engineSeconds = Number(process.hrtime.bigint() - engineStarted) / 1e9;
    const engineCpu = process.cpuUsage(engineCpuStarted);
    const engineCpuSeconds = (engineCpu.user + engineCpu.system) / 1e6;
    return {
      trades,
      replay_s: replaySeconds,
      replay_peak_rss_mb: rss,
      replay_cpu_s: replayCpu,
      engine_s: engineSeconds,
      engine_cpu_s: engineCpuSeconds,
      ratio: replaySeconds / engineSeconds,
      cpu_ratio: replayCpu / engineCpuSeconds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
