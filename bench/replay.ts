/**
 * The replay figure: `fifo replay FILE --format csv` on a generated CSV of N trades, run as the
 * operator runs it (bin/fifo.js, in its own process), timed and its peak RSS read; and, in the
 * same run, the engine's own time on the same trades held in memory (computeFifo, no I/O).
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
  engine_s: number;
  /** replay_s / engine_s */
  ratio: number;
}

export async function measureReplay(trades: number, symbols: number): Promise<ReplayFigures> {
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
        join(repo, 'bin', 'fifo.js'),
        'replay',
        file,
        '--format',
        'csv',
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

    // The engine alone: the same trades, parsed beforehand, in memory.
    const rows = [...generateTrades({ trades, symbols, seed: 1 })] as unknown as RawTrade[];
    const parsed = parseTrades(rows, (i) => `trade ${i + 1}`).trades;
    const engineStarted = process.hrtime.bigint();
    computeFifo(parsed);
    const engineSeconds = Number(process.hrtime.bigint() - engineStarted) / 1e9;
    return {
      trades,
      replay_s: replaySeconds,
      replay_peak_rss_mb: rss,
      engine_s: engineSeconds,
      ratio: replaySeconds / engineSeconds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
